"""Check the shape of an action's payload before any rule sees it.

HTTP bodies and Socket.IO event data go through the same checks, so both transports refuse
the same bad input with the same sentence, naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.errors import InvalidInput
from ..domain.text import clean_text, has_visible_character


@dataclass(frozen=True)
class Field:
    """What one payload field may hold, and what it means to the people who send it.

    ``description``, ``choices`` and ``pattern`` are stated in the API document beside the
    shape checked here. ``choices`` and ``pattern`` are rules the action's domain rule
    applies (and refuses with its own sentence), e.g. the trouble kinds or "not blank".
    """

    kind: type  # int, str or bool
    required: bool = False
    max_length: int = 500  # for strings, in characters
    minimum: int | None = None  # for integers
    maximum: int | None = None
    nullable: bool = False
    description: str = ""
    choices: tuple[str, ...] = ()  # the only values the action accepts
    pattern: str | None = None  # a regular expression the text must contain a match of


def parse_payload(payload: Any, fields: dict[str, Field]) -> dict[str, Any]:
    """Return the payload's known fields checked against ``fields``; raise InvalidInput."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise InvalidInput("the payload must be a JSON object")
    unknown = sorted(str(k) for k in payload if k not in fields)
    if unknown:
        raise InvalidInput(f"{unknown[0]}: is not a field of this action", field=unknown[0])
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in payload:
            if spec.required:
                raise InvalidInput(f"{name}: is required", field=name)
            continue
        values[name] = _check(name, payload[name], spec)
    return values


def _check(name: str, value: Any, spec: Field) -> Any:
    if value is None:
        if spec.nullable:
            return None
        raise InvalidInput(f"{name}: must not be null", field=name)
    if spec.kind is int:
        # bool is a subclass of int in Python; JSON true is not a number.
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{name}: must be a whole number", field=name)
        if spec.minimum is not None and value < spec.minimum:
            raise InvalidInput(f"{name}: must be at least {spec.minimum}", field=name)
        if spec.maximum is not None and value > spec.maximum:
            raise InvalidInput(f"{name}: must be at most {spec.maximum}", field=name)
        return value
    if spec.kind is str:
        if not isinstance(value, str):
            raise InvalidInput(f"{name}: must be text", field=name)
        if len(value) > spec.max_length:
            raise InvalidInput(
                f"{name}: must be at most {spec.max_length} characters long", field=name
            )
        if "\x00" in value:
            raise InvalidInput(f"{name}: must not contain NUL characters", field=name)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # JSON allows "\ud800", a lone surrogate no text holds
            raise InvalidInput(f"{name}: must be valid Unicode text", field=name) from None
        if spec.choices and value not in spec.choices:
            raise InvalidInput(f"{name}: must be one of {', '.join(spec.choices)}", field=name)
        value = clean_text(value)
        # Text that shows nothing (spaces, a Hangul filler) counts as no text at all, so
        # the rules refuse a name nobody can read as they refuse an empty one.
        return value if has_visible_character(value) else ""
    if spec.kind is bool:
        if not isinstance(value, bool):
            raise InvalidInput(f"{name}: must be true or false", field=name)
        return value
    raise TypeError(f"unsupported field kind {spec.kind!r}")
