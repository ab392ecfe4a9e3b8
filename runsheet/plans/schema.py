"""The plan file format in code: the fields of each section and how each value is checked.

Each check takes a value read from YAML or JSON and returns the value the domain model
wants, or raises Invalid with a plain sentence. Each also carries the JSON Schema of the
values it lets through as written back out (``plan_to_dict``), from which the API document
describes the plan. ``docs/plan-format.md`` describes the same format for people.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..domain.plan import GROUP_SEPARATOR, MAX_GROUP_LEVELS, MAX_ID_LENGTH, POINT_KINDS
from ..domain.text import (
    clean_text,
    describe_character,
    first_control_character,
    has_visible_character,
)

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\]]+")
LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
DOMAIN = re.compile(rf"{LABEL}(\.{LABEL})*")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
EVENT_FORMS = ("online", "hybrid", "in-person")
MAX_ITEM_MINUTES = 24 * 60
MAX_REMINDER_MINUTES = 4 * 7 * 24 * 60
MAX_WARN_MINUTES = 60
# Calendar files and time arithmetic stay far from datetime's limits within these years.
FIRST_YEAR = 2000
LAST_YEAR = 2100
# Every text rides in every push to every screen: room for a long title, not for a book.
MAX_LINE_LENGTH = 300  # titles, names, speakers, addresses, slogans
MAX_LONG_TEXT_LENGTH = 5000  # descriptions and notes (these may span several lines)
MAX_LIST_ENTRIES = 100  # e.g. the attendee groups of one point


class Invalid(ValueError):
    """A value that does not fit its field; ``problems`` holds (sub-path, sentence) pairs."""

    def __init__(self, message: str, at: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.problems = [(at, message)]

    @classmethod
    def many(cls, problems: list[tuple[tuple[int, ...], str]]) -> Invalid:
        """Return one Invalid carrying several problems (e.g. for entries of a list)."""
        error = cls(problems[0][1], problems[0][0])
        error.problems = problems
        return error


Check = Callable[[Any], Any]
Schema = dict[str, Any]

TEXT: Schema = {"type": "string"}
ID: Schema = {"type": "string", "pattern": f"^{SLUG.pattern}$"}


def values(schema: Schema) -> Callable[[Check], Check]:
    """Record on a check the JSON Schema of the values it accepts, as they are written out."""

    def record(check: Check) -> Check:
        check.json_schema = schema  # type: ignore[attr-defined]
        return check

    return record


@dataclass(frozen=True)
class Field:
    """One key of a section: its name in the file, its check, and the model attribute."""

    key: str
    check: Check
    required: bool = False
    attr: str = ""  # the dataclass attribute, when it differs from the key

    @property
    def attribute(self) -> str:
        """Return the name of the domain attribute this field fills."""
        return self.attr or self.key

    @property
    def json_schema(self) -> Schema:
        """Return the JSON Schema of this key's value, as its check records it."""
        return self.check.json_schema  # type: ignore[attr-defined]


def describe(value: Any) -> str:
    """Return what a value looks like to someone who wrote it in YAML."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping of fields"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, str):
        return "text"
    return "something else"


@values(TEXT)
def text(value: Any) -> str:
    """Check a one-line piece of text (a title, a name) that must not be blank."""
    return _free_text(value, MAX_LINE_LENGTH, multi_line=False)


@values(TEXT)
def long_text(value: Any) -> str:
    """Check a text that may span several lines (a description, notes)."""
    return _free_text(value, MAX_LONG_TEXT_LENGTH, multi_line=True)


def _free_text(value: Any, max_length: int, multi_line: bool) -> str:
    if not isinstance(value, str):
        hint = " (put it in quotes)" if isinstance(value, bool | int | float) else ""
        raise Invalid(f"must be text, not {describe(value)}{hint}")
    if len(value) > max_length:
        raise Invalid(f"must be at most {max_length:,} characters long, not {len(value):,}")
    control = first_control_character(value, multi_line=multi_line)
    if control is not None:
        if multi_line:
            raise Invalid(f"must not contain the control character {describe_character(control)}")
        raise Invalid(
            f"must be one line, without line breaks or control characters "
            f"(it holds {describe_character(control)})"
        )
    value = clean_text(value)  # direction overrides and zero-width characters
    if not value.strip():
        raise Invalid("must not be empty")
    if not has_visible_character(value):
        raise Invalid("must hold at least one visible character")
    return value


@values(TEXT)
def group_path(value: Any) -> str:
    """Check a point's group: up to MAX_GROUP_LEVELS names joined by " / ".

    Spaces around each slash are tidied, so "Tỉnh A/Xã B" and "Tỉnh A  /  Xã B" are the
    same group as "Tỉnh A / Xã B"; a blank level ("Tỉnh A / / Xã B") is refused.
    """
    whole = text(value)
    levels = [level.strip() for level in whole.split("/")]
    if len(levels) > MAX_GROUP_LEVELS:
        raise Invalid(
            f"must have at most {MAX_GROUP_LEVELS} levels separated by /, not {len(levels)}"
        )
    if not all(levels):
        raise Invalid("must not have an empty level between slashes")
    return GROUP_SEPARATOR.join(levels)


@values(ID)
def slug(value: Any) -> str:
    """Check a stable id: lowercase ASCII letters and digits joined by single hyphens."""
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise Invalid(
            "must be an id of lowercase ASCII letters and digits joined by single hyphens, "
            "like phong-hop-a"
        )
    if len(value) > MAX_ID_LENGTH:
        raise Invalid(f"must be an id of at most {MAX_ID_LENGTH} characters, not {len(value)}")
    return value


@values({"type": "string", "format": "email"})
def email(value: Any) -> str:
    """Check an e-mail address."""
    if not isinstance(value, str) or len(value) > 254 or not EMAIL.fullmatch(value):
        raise Invalid("must be an e-mail address like name@example.org")
    return value


@values({"type": "string", "pattern": f"^{DOMAIN.pattern}$"})
def domain_name(value: Any) -> str:
    """Check a domain name (used on the right of calendar UIDs)."""
    if not isinstance(value, str) or len(value) > 253 or not DOMAIN.fullmatch(value):
        raise Invalid("must be a domain name like runsheet.example.org")
    return value


def _whole_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@values({"type": "integer", "minimum": 1, "maximum": MAX_ITEM_MINUTES})
def item_minutes(value: Any) -> int:
    """Check the planned length of a programme item."""
    minutes = _whole_number(value)
    if minutes is None or minutes <= 0:
        raise Invalid("must be a whole number of minutes above 0")
    if minutes > MAX_ITEM_MINUTES:
        raise Invalid(f"must be at most {MAX_ITEM_MINUTES} minutes (one day)")
    return minutes


@values({"type": "integer", "minimum": 0, "maximum": MAX_WARN_MINUTES})
def warn_minutes(value: Any) -> int:
    """Check how many minutes before an item's end its countdown turns to warning."""
    minutes = _whole_number(value)
    if minutes is None or not 0 <= minutes <= MAX_WARN_MINUTES:
        raise Invalid(f"must be a whole number of minutes from 0 to {MAX_WARN_MINUTES}")
    return minutes


@values({"type": "integer", "minimum": 0, "maximum": MAX_REMINDER_MINUTES})
def reminder_minutes(value: Any) -> int:
    """Check how many minutes before the start a calendar reminder fires."""
    minutes = _whole_number(value)
    if minutes is None or not 0 <= minutes <= MAX_REMINDER_MINUTES:
        raise Invalid(f"must be a whole number of minutes from 0 to {MAX_REMINDER_MINUTES}")
    return minutes


@values({"type": "boolean"})
def flag(value: Any) -> bool:
    """Check a yes/no value."""
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, not {describe(value)}")
    return value


def one_of(*choices: str) -> Check:
    """Return a check that accepts exactly one of the given words."""

    @values({"enum": list(choices)})
    def check(value: Any) -> str:
        if value not in choices:
            raise Invalid(f"must be one of: {', '.join(choices)}")
        return value

    return check


@values({"type": "string", "format": "date"})
def iso_date(value: Any) -> date:
    """Check a calendar date written as YYYY-MM-DD."""
    if isinstance(value, date) and not isinstance(value, datetime):
        _check_year(value.year)
        return value  # a dict built in Python may already hold dates
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise Invalid(f"must be a date like 2021-10-01, not {describe(value)}")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"is not a real date: {value}") from None
    _check_year(day.year)
    return day


@values({"type": "string", "format": "date-time"})
def aware_datetime(value: Any) -> datetime:
    """Check a date and time with a UTC offset, in ISO 8601."""
    example = "like 2021-10-01T08:00:00+07:00"
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid(f"must be a date and time in ISO 8601, {example}") from None
    else:
        raise Invalid(f"must be a date and time {example}, not {describe(value)}")
    if moment.utcoffset() is None:
        raise Invalid(f"must include its UTC offset, {example}")
    _check_year(moment.year)
    return moment


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Invalid(f"must be in the years {FIRST_YEAR} to {LAST_YEAR}, not in {year}")


@values(TEXT)
def time_zone(value: Any) -> str:
    """Check an IANA time zone name."""
    if isinstance(value, str) and value:
        try:
            ZoneInfo(value)
            return value
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise Invalid("must be an IANA time zone name like Asia/Ho_Chi_Minh")


@values({"type": "array", "items": TEXT})
def text_list(value: Any, max_entries: int = MAX_LIST_ENTRIES) -> tuple[str, ...]:
    """Check a list whose entries are non-blank one-line texts."""
    if not isinstance(value, list | tuple):
        raise Invalid(f"must be a list of text, not {describe(value)}")
    if len(value) > max_entries:
        raise Invalid(f"must have at most {max_entries:,} entries, not {len(value):,}")
    problems = []
    entries = []
    for index, entry in enumerate(value):
        try:
            entries.append(text(entry))
        except Invalid as err:
            problems.extend(((index,), message) for _, message in err.problems)
    if problems:
        raise Invalid.many(problems)
    return tuple(entries)


EVENT_FIELDS = (
    Field("slug", slug, required=True),
    Field("title", text, required=True),
    Field("theme", text),
    Field("reference", text),
    Field("organizer", text),
    Field("standing_body", text),
    Field("organizer_email", email),
    Field("form", one_of(*EVENT_FORMS)),
    Field("description", long_text),
    Field("starts_at", aware_datetime, required=True),
    Field("timezone", time_zone, required=True),
    Field("reminder_minutes", reminder_minutes),
    Field("warn_minutes", warn_minutes),
    Field("calendar_domain", domain_name),
)

POINT_FIELDS = (
    Field("id", slug, required=True),
    Field("name", text, required=True),
    Field("kind", one_of(*POINT_KINDS), required=True),
    Field("address", text),
    Field("attendees", text_list),
    Field("contact_name", text),
    Field("contact_email", email),
    Field("group", group_path),
)

AGENDA_FIELDS = (
    Field("id", slug, required=True),
    Field("title", text, required=True),
    Field("speaker", text),
    Field("prepared_by", text),
    Field("point", slug, attr="point_id"),
    Field("planned_minutes", item_minutes, required=True),
    Field("minutes_estimated", flag),
    Field("notes", long_text),
    Field("warn_minutes", warn_minutes),
)

ACTIVITY_FIELDS = (
    Field("id", slug, required=True),
    Field("title", text, required=True),
    Field("starts_on", iso_date, required=True),
    Field("ends_on", iso_date),  # a one-day activity may leave it out
    Field("description", long_text),
)

DEADLINE_FIELDS = (
    Field("id", slug, required=True),
    Field("title", text, required=True),
    Field("due_on", iso_date, required=True),
    Field("responsible", text),
    Field("description", long_text),
)

TOP_LEVEL_KEYS = ("event", "points", "agenda", "activities", "deadlines", "slogans")

# The most entries each list section may hold: room for a national conference's points.
MAX_ENTRIES = {
    "points": 20_000,
    "agenda": 1_000,
    "activities": 1_000,
    "deadlines": 1_000,
    "slogans": 1_000,
}
