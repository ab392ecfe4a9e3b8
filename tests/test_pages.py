"""The pages as the server sends them: token links, cookies, headers, language, escaping."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from runsheet.i18n import LANGUAGES, catalog
from runsheet.plans import parse_plan
from runsheet.services.plans import install_plan, rotate_tokens
from runsheet.services.tokens import Actor
from runsheet.transports.auth import MC_COOKIE, token_cookie_name
from runsheet.transports.pages import LANGUAGE_COOKIE
from tests.conftest import SECRET, make_app, tokens_of

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "runsheet"
PAGES = ["/", "/stage", "/mc", "/points/thoi-an"]


# -- helpers ----------------------------------------------------------------------------------


class PageParts(HTMLParser):
    """Collect what a page's HTML holds that the CSP and the escaping rules care about."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_handlers: list[str] = []
        self.style_attributes: list[str] = []
        self.style_elements = 0
        self.script_text: dict[str, str] = {}
        self._in_script: str | None = None
        self.html_lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "html":
            self.html_lang = named.get("lang")
        if tag == "script":
            self.scripts.append(named)
            self._in_script = named.get("id") or f"script-{len(self.scripts)}"
            self.script_text[self._in_script] = ""
        if tag == "style":
            self.style_elements += 1
        for name, _ in attrs:
            if name.startswith("on"):
                self.inline_handlers.append(f"<{tag} {name}>")
            if name == "style":
                self.style_attributes.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text[self._in_script] += data


def parts_of(response) -> PageParts:  # noqa: ANN001
    parser = PageParts()
    parser.feed(response.get_data(as_text=True))
    return parser


def page_data(response) -> dict:  # noqa: ANN001
    """Return the JSON a page embeds for its scripts."""
    return json.loads(parts_of(response).script_text["page-data"])


def set_cookies(response) -> dict[str, str]:  # noqa: ANN001
    """Return the response's Set-Cookie headers by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def open_with_token(client, path: str, token: str):  # noqa: ANN001, ANN201
    """Open a role's link once (as from the organizer's message); return the redirect."""
    return client.get(f"{path}?token={token}")


@pytest.fixture
def mc_client(app, tokens):  # noqa: ANN001, ANN201
    """Return a browser that has opened the MC's link."""
    client = app.test_client()
    open_with_token(client, "/mc", tokens["mc"])
    return client


@pytest.fixture
def ward_client(app, tokens):  # noqa: ANN001, ANN201
    """Return a browser that has opened Thới An's link."""
    client = app.test_client()
    open_with_token(client, "/points/thoi-an", tokens["thoi-an"])
    return client


# -- token links and cookies ------------------------------------------------------------------


def test_the_mc_link_keeps_the_token_in_an_httponly_cookie_and_drops_it_from_the_address(
    client, tokens
):
    response = open_with_token(client, "/mc", tokens["mc"])

    assert response.status_code == 303
    assert response.headers["Location"] == "/mc"
    cookie = set_cookies(response)[MC_COOKIE]
    assert f"{MC_COOKIE}={tokens['mc']};" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/;" in cookie or cookie.endswith("Path=/")
    assert "Secure" not in cookie  # plain http on this test's BASE_URL
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/mc")
    assert page.status_code == 200
    assert page_data(page)["page"] == "mc"


def test_the_organizer_link_opens_the_workspace_and_the_mc_console_but_not_a_point(client, tokens):
    assert open_with_token(client, "/organizer", tokens["organizer"]).status_code == 303
    assert page_data(client.get("/organizer"))["page"] == "organizer"
    assert open_with_token(client, "/mc", tokens["organizer"]).status_code == 303
    assert page_data(client.get("/mc"))["page"] == "mc"
    assert open_with_token(client, "/points/thoi-an", tokens["organizer"]).status_code == 403
    assert open_with_token(client, "/organizer", tokens["mc"]).status_code == 403


def test_a_point_link_sets_that_points_cookie_and_opens_its_page(client, tokens):
    response = open_with_token(client, "/points/thoi-an", tokens["thoi-an"])

    assert response.status_code == 303
    assert response.headers["Location"] == "/points/thoi-an"
    assert token_cookie_name("point", "thoi-an") in set_cookies(response)
    page = client.get("/points/thoi-an")
    assert page.status_code == 200
    assert page_data(page)["pointId"] == "thoi-an"
    assert "Ủy ban nhân dân phường Thới An" in page.get_data(as_text=True)


def test_the_token_cookie_is_secure_when_the_page_is_served_over_https(client, tokens):
    response = client.get(f"/mc?token={tokens['mc']}", base_url="https://runsheet.example")

    assert "Secure" in set_cookies(response)[MC_COOKIE]


def test_the_token_cookie_is_secure_when_the_base_url_is_https(database_url, clock):
    app = make_app(database_url, clock, BASE_URL="https://runsheet.example")
    token = tokens_of(app)["mc"]

    response = app.test_client().get(f"/mc?token={token}")

    cookie = set_cookies(response)[MC_COOKIE]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_an_invalid_token_shows_a_clear_error_page_and_sets_no_cookie(client):
    response = client.get("/mc?token=not-a-real-token")

    assert response.status_code == 401
    assert response.mimetype == "text/html"
    assert MC_COOKIE not in set_cookies(response)
    assert catalog("vi")["notice.link_invalid.title"] in response.get_data(as_text=True)


def test_a_points_token_does_not_open_the_mc_console(client, tokens):
    response = client.get(f"/mc?token={tokens['thoi-an']}")

    assert response.status_code == 403
    assert MC_COOKIE not in set_cookies(response)
    assert catalog("vi")["notice.link_other_page.title"] in response.get_data(as_text=True)


def test_a_points_token_does_not_open_another_points_page(client, tokens):
    response = client.get(f"/points/an-phu-dong?token={tokens['thoi-an']}")

    assert response.status_code == 403
    assert set_cookies(response) == {}


def test_the_mc_token_does_not_open_a_points_page(client, tokens):
    response = client.get(f"/points/thoi-an?token={tokens['mc']}")

    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/mc", "/points/thoi-an"])
def test_a_private_page_without_its_cookie_asks_for_the_organizers_link(client, path):
    response = client.get(path)

    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert catalog("vi")["notice.link_needed.text"] in text
    assert 'id="page-data"' not in text  # nothing of the ceremony's private state


def test_the_mc_cookie_does_not_open_a_points_page(mc_client):
    assert mc_client.get("/points/thoi-an").status_code == 401


def test_a_cookie_whose_token_was_rotated_is_forgotten(app, mc_client, clock):
    services = app.extensions["runsheet"]
    slug = services.ceremony.current().plan.event.slug
    rotate_tokens(services.store, slug, SECRET, clock())

    response = mc_client.get("/mc")

    assert response.status_code == 401
    assert catalog("vi")["notice.link_expired.title"] in response.get_data(as_text=True)
    cleared = set_cookies(response)[MC_COOKIE]
    assert "Max-Age=0" in cleared or "Expires=Thu, 01 Jan 1970" in cleared


def test_an_unknown_point_is_not_found(client, tokens):
    assert client.get("/points/no-such-ward").status_code == 404
    assert client.get(f"/points/no-such-ward?token={tokens['thoi-an']}").status_code == 404


@pytest.mark.parametrize("path", ["/", "/stage"])
def test_a_token_on_a_public_page_is_dropped_and_not_kept(client, tokens, path):
    response = client.get(f"{path}?token={tokens['mc']}")

    assert response.status_code == 303
    assert response.headers["Location"] == path
    assert set_cookies(response) == {}


# -- what each page holds -----------------------------------------------------------------------


def test_the_public_page_shows_the_programme_without_private_parts(mc_client, app, tokens):
    app.extensions["runsheet"].ceremony.perform(Actor("mc"), "message", {"text": "Bí mật"})

    response = mc_client.get("/")  # a browser holding the MC's cookie still sees public data

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    data = page_data(response)
    assert "messages" not in data["state"]
    assert tokens["mc"] not in text
    assert "Bí mật" not in text
    assert "Tuyên bố lý do, giới thiệu đại biểu" in text  # server-rendered programme
    assert "/calendar/ceremony.ics" in text
    assert "webcal://" in text
    assert "https://calendar.google.com/calendar/render?" in text


def test_the_mc_console_carries_every_message_and_a_point_only_its_own(app, mc_client, ward_client):
    ceremony = app.extensions["runsheet"].ceremony
    ceremony.perform(Actor("mc"), "message", {"text": "Cho mọi điểm cầu"})
    ceremony.perform(Actor("mc"), "message", {"text": "Chỉ cho An Phú Đông", "to": "an-phu-dong"})

    mc_messages = [m["text"] for m in page_data(mc_client.get("/mc"))["state"]["messages"]]
    ward_messages = [
        m["text"] for m in page_data(ward_client.get("/points/thoi-an"))["state"]["messages"]
    ]

    assert mc_messages == ["Cho mọi điểm cầu", "Chỉ cho An Phú Đông"]
    assert ward_messages == ["Cho mọi điểm cầu"]


def test_a_points_page_offers_that_points_calendar(ward_client):
    text = ward_client.get("/points/thoi-an").get_data(as_text=True)

    assert "/calendar/points/thoi-an.ics" in text


def test_the_stage_display_carries_the_plans_slogans(client):
    data = page_data(client.get("/stage"))

    assert data["page"] == "stage"
    assert len(data["state"]["slogans"]) == 11


# -- headers and markup that the Content-Security-Policy relies on ---------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_policy_that_allows_no_inline_script_or_style(mc_client, tokens, path):
    if path.startswith("/points/"):
        open_with_token(mc_client, path, tokens["thoi-an"])

    response = mc_client.get(path)

    assert response.status_code == 200
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", PAGES)
def test_no_page_has_inline_code_handlers_or_style_attributes(mc_client, tokens, path):
    if path.startswith("/points/"):
        open_with_token(mc_client, path, tokens["thoi-an"])

    parts = parts_of(mc_client.get(path))

    for script in parts.scripts:
        assert script.get("src") or script.get("type") == "application/json", script
    assert parts.inline_handlers == []
    assert parts.style_attributes == []
    assert parts.style_elements == 0


@pytest.mark.parametrize("status_path", ["/mc", "/points/nowhere", "/mc?token=wrong"])
def test_error_pages_send_the_same_security_headers(client, status_path):
    response = client.get(status_path)

    assert response.status_code in (401, 404)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_vendored_socketio_client_is_served_with_its_licence(client):
    script = client.get("/static/vendor/socket.io.min.js")
    licence = client.get("/static/vendor/socket.io-client.LICENSE")

    assert script.status_code == 200
    assert b"Socket.IO v4.8" in script.data[:200]
    assert licence.status_code == 200 and b"MIT" in licence.data
    script.close()
    licence.close()


# -- text from plans and people is text ------------------------------------------------------------

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_markup_in_the_plan_is_escaped_in_the_page_and_its_json(app, client, clock, plan):
    services = app.extensions["runsheet"]
    text = (PACKAGE / "plans" / "default.yaml").read_text(encoding="utf-8")
    hostile_yaml = text.replace("title: Diễn văn khai mạc", f"title: '{HOSTILE}'", 1).replace(
        "name: Phòng họp A", f"name: '{HOSTILE} A'", 1
    )
    install_plan(services.store, parse_plan(hostile_yaml), SECRET, clock())

    response = client.get("/")

    body = response.get_data(as_text=True)
    assert "<script>alert" not in body
    assert "<img src=x" not in body
    assert "&lt;script&gt;alert" in body  # the programme and points rendered on the server
    parts = parts_of(response)
    assert parts.inline_handlers == []
    titles = [item["title"] for item in page_data(response)["state"]["agenda"]]
    assert HOSTILE in titles  # the JSON carries the text itself, escaped for HTML


# -- language -------------------------------------------------------------------------------------


def test_pages_speak_vietnamese_by_default(client):
    response = client.get("/")

    assert parts_of(response).html_lang == "vi"
    assert catalog("vi")["common.now_speaking"] in response.get_data(as_text=True)
    assert page_data(response)["messages"] == catalog("vi")


def test_the_language_switch_keeps_english_in_a_cookie(client):
    switch = client.get("/?lang=en")

    assert switch.status_code == 303
    assert switch.headers["Location"] == "/"
    cookie = set_cookies(switch)[LANGUAGE_COOKIE]
    assert cookie.startswith(f"{LANGUAGE_COOKIE}=en;") and "HttpOnly" in cookie
    for path in ("/", "/stage"):
        response = client.get(path)
        assert parts_of(response).html_lang == "en"
        assert catalog("en")["common.now_speaking"] in response.get_data(as_text=True)
        assert catalog("vi")["common.now_speaking"] not in response.get_data(as_text=True)
    client.get("/?lang=vi")
    assert parts_of(client.get("/")).html_lang == "vi"


def test_a_token_link_can_choose_the_language_in_the_same_step(client, tokens):
    response = client.get(f"/mc?token={tokens['mc']}&lang=en")

    assert response.headers["Location"] == "/mc"
    assert {MC_COOKIE, LANGUAGE_COOKIE} <= set(set_cookies(response))
    assert page_data(client.get("/mc"))["lang"] == "en"


def test_an_unknown_language_is_ignored(client):
    response = client.get("/?lang=fr")

    assert response.status_code == 303
    assert LANGUAGE_COOKIE not in set_cookies(response)
    assert parts_of(client.get("/")).html_lang == "vi"


def test_the_notice_page_follows_the_language_too(client):
    client.get("/?lang=en")

    response = client.get("/mc")

    assert catalog("en")["notice.link_needed.title"] in response.get_data(as_text=True)


# -- message catalogs --------------------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_both_catalogs_have_the_same_keys_and_placeholders():
    vi, en = catalog("vi"), catalog("en")

    assert set(vi) == set(en)
    for key in vi:
        if key == "date.long":  # each language picks its own parts of a date
            date_parts = {"time", "weekday", "day", "dd", "mm", "month", "yyyy"}
            assert _placeholders(vi[key]) <= date_parts and _placeholders(en[key]) <= date_parts
            continue
        assert _placeholders(vi[key]) == _placeholders(en[key]), key
        assert vi[key].strip() and en[key].strip(), key


def test_every_key_the_pages_use_is_in_the_catalogs():
    used: set[str] = set()
    for template in (ROOT / "templates").glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["'](\w+(?:\.\w+)+)["']\s*[,)]""", template.read_text()))
    for script in (ROOT / "static" / "js").glob("*.js"):
        used |= set(re.findall(r"""\bt\(\s*"(\w+(?:\.\w+)+)"\s*[,)]""", script.read_text()))
    # Keys built from a value: every value the state or the code can give.
    used |= {f"phase.{p}" for p in ("not_started", "live", "finished")}
    used |= {f"status.{s}" for s in ("pending", "next", "live", "done")}
    used |= {f"trouble.{k}" for k in ("no_sound", "no_picture", "other")}
    used |= {f"board.state_{s}" for s in ("unconfirmed", "online", "offline", "trouble")}
    used |= {f"conn.{s}" for s in ("connecting", "online", "offline", "refused")}
    reasons = ("link_needed", "link_invalid", "link_other_page", "link_expired", "not_found")
    used |= {f"notice.{r}.{part}" for r in reasons for part in ("title", "text")}
    errors = ("offline", "timeout", "stale", "conflict", "invalid", "forbidden")
    errors += ("unauthenticated", "not_found", "too_large", "rate_limited", "other")
    used |= {f"error.{kind}" for kind in errors}
    used |= {f"weekday.{d}" for d in range(7)} | {f"month.{m}" for m in range(1, 13)}

    assert len(used) > 150  # the scan found the pages' keys
    for language in LANGUAGES:
        assert used - set(catalog(language)) == set(), language


def test_the_mc_console_links_to_the_stage_display_and_the_report(mc_client):
    html = mc_client.get("/mc").get_data(as_text=True)
    assert 'href="/stage"' in html
    assert 'href="/report"' in html
