"""Free text as people typed it: invisible controls removed, control characters found.

Names, notes and messages travel to every screen. A right-to-left override in one of them
reorders the text shown after it, and zero-width characters make a "name" nobody can see,
so they are taken out of every free text a user sends (plan texts and action payloads
alike). Plain Python: no framework imports.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that change the direction of the text around them (explicit embeddings and
# overrides, isolates, the implicit marks, the Arabic letter mark).
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
    "\u200e\u200f\u061c"  # marks
)
# Characters that take no room at all: zero-width space, non-joiner, joiner, word joiner
# and the byte-order mark (a zero-width no-break space inside a text).
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
ZERO_WIDTH_JOINER = "\u200d"
INVISIBLE = BIDI_CONTROLS | ZERO_WIDTH
_INVISIBLE_RUN = re.compile("[" + "".join(sorted(INVISIBLE)) + "]")

# Letters and symbols that render as blank space although Unicode files them as visible.
BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
# Categories that draw nothing: separators, controls, format characters, surrogates,
# unassigned and private-use code points.
INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Cn", "Co"})

# Line breaks other than "\n" that Unicode, calendar files or HTTP headers treat as one.
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
MULTI_LINE_ALLOWED = frozenset("\n\t")


def clean_text(text: str) -> str:
    """Return ``text`` without bidirectional controls and zero-width characters.

    A zero-width joiner between two emoji is kept: it makes one picture of them (a family,
    a flag) and cannot reorder or hide anything.
    """
    if not _INVISIBLE_RUN.search(text):
        return text  # the usual case, without building a new string
    kept = []
    for index, char in enumerate(text):
        if char not in INVISIBLE:
            kept.append(char)
        elif char == ZERO_WIDTH_JOINER and _joins_emoji(text, index):
            kept.append(char)
    return "".join(kept)


def has_visible_character(text: str) -> bool:
    """Say whether ``text`` holds at least one character that shows on a screen."""
    return any(_is_visible(char) for char in text)


def first_control_character(text: str, multi_line: bool = False) -> str | None:
    """Return the first control character or line break ``text`` must not hold, or None.

    One-line texts (titles, names) go into calendar lines, HTTP headers and single-line
    tiles, where a line break breaks the format; multi-line texts may hold "\\n" and tabs.
    """
    allowed = MULTI_LINE_ALLOWED if multi_line else frozenset("\t")
    for char in text:
        if char in allowed:
            continue
        if char in LINE_BREAKS or unicodedata.category(char) == "Cc":
            return char
    return None


def describe_character(char: str) -> str:
    """Return a character as a person can find it: U+000A (LINE FEED)."""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "a control character")
    return f"U+{ord(char):04X} ({name})"


_CONTROL_NAMES = {
    "\n": "LINE FEED",
    "\r": "CARRIAGE RETURN",
    "\t": "TAB",
    "\x0b": "LINE TABULATION",
    "\x0c": "FORM FEED",
    "\x85": "NEXT LINE",
    "\x00": "NUL",
}


def _is_visible(char: str) -> bool:
    if char in BLANK_LOOKALIKES:
        return False
    category = unicodedata.category(char)
    # combining marks draw only on top of a base character
    return category not in INVISIBLE_CATEGORIES and not category.startswith("M")


def _joins_emoji(text: str, index: int) -> bool:
    before = index - 1
    # skip the presentation selector and skin tones that may follow the first emoji
    while before >= 0 and _is_emoji_modifier(text[before]):
        before -= 1
    after = index + 1
    return before >= 0 and after < len(text) and _is_emoji(text[before]) and _is_emoji(text[after])


def _is_emoji_modifier(char: str) -> bool:
    return char == "\ufe0f" or 0x1F3FB <= ord(char) <= 0x1F3FF


def _is_emoji(char: str) -> bool:
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF  # pictographs, emoticons, transport, symbols
        or 0x2600 <= code <= 0x27BF  # miscellaneous symbols and dingbats (♀, ♂, ❤)
        or 0x2B00 <= code <= 0x2BFF  # arrows, stars (⬛, ⭐)
        or 0x2300 <= code <= 0x23FF  # technical symbols (⌚, ⏰)
    )
