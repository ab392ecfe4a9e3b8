"""Message catalogs: every word the pages show, in Vietnamese (the default) and English.

``vi.json`` and ``en.json`` map the same keys to text; ``{name}`` marks a value filled in
when the text is used, by ``translate`` here and by ``static/js/i18n.js`` in the browser.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


@lru_cache(maxsize=len(LANGUAGES))
def catalog(language: str) -> dict[str, str]:
    """Return the message catalog of a supported language."""
    if language not in LANGUAGES:
        raise ValueError(f"no message catalog for language {language!r}")
    text = resources.files(__name__).joinpath(f"{language}.json").read_text(encoding="utf-8")
    return json.loads(text)


def supported_language(value: str | None) -> str | None:
    """Return ``value`` as a supported language code, or None if it is not one."""
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    return value if value in LANGUAGES else None


def translate(language: str, key: str, **values: Any) -> str:
    """Return the text of ``key`` in ``language`` with its ``{name}`` values filled in."""
    text = catalog(language)[key]
    return text.format_map(values) if values else text
