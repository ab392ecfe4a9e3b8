"""JSON text of the states a change stores and pushes, written fast: orjson, else ``json``.

A change writes its state as JSON once to the database and once per distinct variant to
the sockets, before the first screen has it: with the standard library that was about
50 µs per 9 KB state (the 13-point plan), with orjson about 8. orjson writes UTF-8 text
unescaped, as the sockets want it (``wire.py``). What orjson refuses (a lone surrogate,
which JSON allows and UTF-8 cannot carry; an integer beyond 64 bits; a key that is not
text) goes through ``json`` instead, with non-ASCII escaped, so that every value the
standard library can write is still written.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    """Return ``value`` as compact JSON text, non-ASCII unescaped where UTF-8 can hold it."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"))
