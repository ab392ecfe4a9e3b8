"""The organizer's page as the server sends it, and the words its scripts ask for.

The page itself is tested in a browser (tests/test_browser_organizer.py); these quick
tests check what needs no browser: who may open it, what it loads, and that every
message key its template and modules use is in both catalogs (a missing one would show
the key itself on the page).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runsheet.i18n import LANGUAGES, catalog

ROOT = Path(__file__).resolve().parent.parent
MODULES = [
    "organizer.js",
    "organizer-api.js",
    "plan-editor.js",
    "list-editor.js",
    "plan-form.js",
    "plan-fields.js",
    "start-time.js",
    "spreadsheets.js",
    "events-panel.js",
    "links-panel.js",
]
FIELD_SECTIONS = {
    "EVENT_FIELDS": "event",
    "POINT_FIELDS": "points",
    "AGENDA_FIELDS": "agenda",
    "ACTIVITY_FIELDS": "activities",
    "DEADLINE_FIELDS": "deadlines",
}
LITERAL_KEY = re.compile(r"""["'`](organizer\.[a-z_]+(?:\.[a-z_-]+)*)["'`]""")


def source(name: str) -> str:
    """Return the text of one of the page's modules."""
    return (ROOT / "static" / "js" / name).read_text(encoding="utf-8")


def field_keys() -> set[str]:
    """Return the label key of every field plan-fields.js declares."""
    text = source("plan-fields.js")
    conference = re.search(r"CONFERENCE_KEYS = \[([^\]]*)\]", text).group(1)
    conference_keys = re.findall(r'"([a-z_]+)"', conference)
    keys = {"organizer.field.slogans.text", "organizer.field.event.timezone"}
    for constant, section in FIELD_SECTIONS.items():
        block = re.search(rf"export const {constant} = \[(.*?)\n\];", text, re.S).group(1)
        for key in re.findall(r'\{ key: "([a-z_]+)"', block):
            keys.add(f"organizer.field.{section}.{key}")
        if "CONFERENCE_KEYS.map" in block:
            keys.update(f"organizer.field.{section}.conference.{key}" for key in conference_keys)
    return keys


def choice_keys() -> set[str]:
    """Return the keys of the choices of select fields (kinds of events and points)."""
    text = source("plan-fields.js")
    keys = set()
    for constant, prefix in (("EVENT_KINDS", "organizer.form"), ("POINT_KINDS", "organizer.kind")):
        values = re.search(rf"export const {constant} = \[([^\]]*)\]", text).group(1)
        keys.update(f"{prefix}.{value}" for value in re.findall(r'"([a-z-]+)"', values))
    return keys


def used_keys() -> set[str]:
    """Return every organizer.* key the template and the modules name."""
    texts = [source(name) for name in MODULES]
    texts.append((ROOT / "templates" / "organizer.html").read_text(encoding="utf-8"))
    literal = {key for text in texts for key in LITERAL_KEY.findall(text)}
    # A select's optionKey is the prefix of its choices' keys, checked whole by choice_keys.
    prefixes = set(re.findall(r'optionKey: "([a-z.]+)"', source("plan-fields.js")))
    return (literal - prefixes) | field_keys() | choice_keys()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_word_the_organizer_page_uses_is_in_the_catalog(language):
    missing = sorted(used_keys() - catalog(language).keys())
    assert missing == []


def test_the_field_keys_are_found_so_the_check_above_checks_something():
    keys = field_keys()
    assert "organizer.field.agenda.planned_minutes" in keys
    assert "organizer.field.points.conference.passcode" in keys
    assert "organizer.field.event.conference.url" in keys
    assert len(keys) > 40


def test_the_organizer_page_loads_its_own_styles_and_modules_and_no_inline_code(client, tokens):
    response = client.get(f"/organizer?token={tokens['organizer']}")
    assert response.status_code == 303
    page = client.get("/organizer")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "css/organizer.css" in html
    assert 'src="/static/js/organizer.js"' in html
    assert 'id="plan-form"' in html and 'id="list-agenda"' in html
    assert re.findall(r"<script(?![^>]*(?:src=|application/json))", html) == []
    assert " style=" not in html
    for name in MODULES:
        assert (ROOT / "static" / "js" / name).is_file()


@pytest.mark.parametrize("role", ["mc", "thoi-an"])
def test_another_roles_link_does_not_open_the_organizer_page(client, tokens, role):
    response = client.get(f"/organizer?token={tokens[role]}")
    assert response.status_code == 403
    assert 'id="plan-form"' not in response.get_data(as_text=True)
