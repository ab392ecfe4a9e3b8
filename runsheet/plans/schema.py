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
from difflib import get_close_matches
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..domain.plan import (
    DELIVERY_GROUPS,
    GROUP_SEPARATOR,
    MAX_GROUP_LEVELS,
    MAX_ID_LENGTH,
    POINT_KINDS,
    Conference,
)
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
# Meeting links carry long tokens (Teams links run to 300 characters and more); QR codes
# and calendar apps still take 2,000.
MAX_URL_LENGTH = 2000
MAX_CODE_LENGTH = 100  # a meeting id or passcode
WEB_SCHEMES = ("http", "https")
MAX_POINT_REFERENCES = 20_000  # a deadline may name every point of a national conference


class Issue(NamedTuple):
    """One problem with a value: where below the field, the sentence, its code and values."""

    at: tuple[int | str, ...]  # list positions (and, in a mapping, keys) below the field
    message: str  # in English
    code: str = ""  # stable, for translation: plan.problem.<code> in the message catalogs
    params: dict[str, Any] = {}  # noqa: RUF012 - never changed; the values the code's text names


class Invalid(ValueError):
    """A value that does not fit its field; ``problems`` holds one Issue per mistake.

    ``code`` and ``params`` let the message be told in other languages (``plans.messages``);
    a check without them is reported in English everywhere.
    """

    def __init__(
        self,
        message: str,
        at: tuple[int, ...] = (),
        code: str = "",
        **params: Any,  # noqa: ANN401
    ) -> None:
        super().__init__(message)
        self.problems = [Issue(at, message, code, params)]

    @classmethod
    def many(cls, problems: list[Issue]) -> Invalid:
        """Return one Invalid carrying several problems (e.g. for entries of a list)."""
        error = cls(problems[0].message, problems[0].at)
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


# What a value looks like, by the code a translated message names it with (plan.kind.<code>).
KIND_WORDS = {
    "empty": "empty",
    "true_false": "true/false",
    "number": "a number",
    "list": "a list",
    "mapping": "a mapping of fields",
    "datetime": "a date and time",
    "date": "a date",
    "text": "text",
    "other": "something else",
}


def kind_of(value: Any) -> str:  # noqa: ANN401
    """Return the code of what a value looks like (a key of KIND_WORDS)."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true_false"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, str):
        return "text"
    return "other"


def describe(value: Any) -> str:  # noqa: ANN401
    """Return what a value looks like to someone who wrote it in YAML."""
    return KIND_WORDS[kind_of(value)]


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
        if isinstance(value, bool | int | float):
            found = kind_of(value)
            message = f"must be text, not {KIND_WORDS[found]} (put it in quotes)"
            raise Invalid(message, code="not_text_quote", found=found)
        found = kind_of(value)
        raise Invalid(f"must be text, not {KIND_WORDS[found]}", code="not_text", found=found)
    if len(value) > max_length:
        raise Invalid(
            f"must be at most {max_length:,} characters long, not {len(value):,}",
            code="too_long",
            max=max_length,
            length=len(value),
        )
    control = first_control_character(value, multi_line=multi_line)
    if control is not None:
        character = describe_character(control)
        if multi_line:
            raise Invalid(
                f"must not contain the control character {character}",
                code="control_character",
                character=character,
            )
        raise Invalid(
            f"must be one line, without line breaks or control characters (it holds {character})",
            code="not_one_line",
            character=character,
        )
    value = clean_text(value)  # direction overrides and zero-width characters
    if not value.strip():
        raise Invalid("must not be empty", code="empty")
    if not has_visible_character(value):
        raise Invalid("must hold at least one visible character", code="invisible")
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
            "like phong-hop-a",
            code="not_id",
        )
    if len(value) > MAX_ID_LENGTH:
        raise Invalid(
            f"must be an id of at most {MAX_ID_LENGTH} characters, not {len(value)}",
            code="id_too_long",
            max=MAX_ID_LENGTH,
            length=len(value),
        )
    return value


@values({"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": MAX_URL_LENGTH})
def web_url(value: Any) -> str:
    """Check a web link that people open: http(s), with a host, one line, no spaces."""
    example = "like https://meet.example.org/abc-defg-hij"
    if not isinstance(value, str):
        found = kind_of(value)
        raise Invalid(
            f"must be a web address {example}, not {KIND_WORDS[found]}", code="not_url", found=found
        )
    if len(value) > MAX_URL_LENGTH:
        raise Invalid(
            f"must be at most {MAX_URL_LENGTH:,} characters long, not {len(value):,}",
            code="too_long",
            max=MAX_URL_LENGTH,
            length=len(value),
        )
    if first_control_character(value, multi_line=False) is not None or any(
        c.isspace() for c in value
    ):
        raise Invalid(
            f"must be one web address without spaces or line breaks, {example}", code="url_spaces"
        )
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise Invalid(
            f"is not a valid web address; write one {example}", code="url_invalid"
        ) from None
    if parts.scheme.lower() not in WEB_SCHEMES:
        raise Invalid(f"must start with https:// or http://, {example}", code="url_scheme")
    if not host:
        raise Invalid(f"must name a host after {parts.scheme}://, {example}", code="url_no_host")
    return value


@values({"type": "string", "maxLength": MAX_CODE_LENGTH})
def code(value: Any) -> str:
    """Check a meeting id or passcode: one short line of text.

    A bare number is refused (the check says to quote it): YAML reads 012345 as the octal
    number 5349, which would lose the passcode's digits.
    """
    checked = _free_text(value, MAX_LINE_LENGTH, multi_line=False)
    if len(checked) > MAX_CODE_LENGTH:
        raise Invalid(
            f"must be at most {MAX_CODE_LENGTH} characters long, not {len(checked)}",
            code="too_long",
            max=MAX_CODE_LENGTH,
            length=len(checked),
        )
    return checked


@values({"type": "string", "format": "email"})
def email(value: Any) -> str:
    """Check an e-mail address."""
    if not isinstance(value, str) or len(value) > 254 or not EMAIL.fullmatch(value):
        raise Invalid("must be an e-mail address like name@example.org", code="not_email")
    return value


@values({"type": "string", "pattern": f"^{DOMAIN.pattern}$"})
def domain_name(value: Any) -> str:
    """Check a domain name (used on the right of calendar UIDs)."""
    if not isinstance(value, str) or len(value) > 253 or not DOMAIN.fullmatch(value):
        raise Invalid("must be a domain name like runsheet.example.org", code="not_domain")
    return value


def _whole_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@values({"type": "integer", "minimum": 1, "maximum": MAX_ITEM_MINUTES})
def item_minutes(value: Any) -> int:
    """Check the planned length of a programme item."""
    minutes = _whole_number(value)
    if minutes is None or minutes <= 0:
        raise Invalid("must be a whole number of minutes above 0", code="minutes_not_positive")
    if minutes > MAX_ITEM_MINUTES:
        raise Invalid(
            f"must be at most {MAX_ITEM_MINUTES} minutes (one day)",
            code="minutes_above_day",
            max=MAX_ITEM_MINUTES,
        )
    return minutes


@values({"type": "integer", "minimum": 0, "maximum": MAX_WARN_MINUTES})
def warn_minutes(value: Any) -> int:
    """Check how many minutes before an item's end its countdown turns to warning."""
    minutes = _whole_number(value)
    if minutes is None or not 0 <= minutes <= MAX_WARN_MINUTES:
        raise Invalid(
            f"must be a whole number of minutes from 0 to {MAX_WARN_MINUTES}",
            code="minutes_range",
            max=MAX_WARN_MINUTES,
        )
    return minutes


@values({"type": "integer", "minimum": 0, "maximum": MAX_REMINDER_MINUTES})
def reminder_minutes(value: Any) -> int:
    """Check how many minutes before the start a calendar reminder fires."""
    minutes = _whole_number(value)
    if minutes is None or not 0 <= minutes <= MAX_REMINDER_MINUTES:
        raise Invalid(
            f"must be a whole number of minutes from 0 to {MAX_REMINDER_MINUTES}",
            code="minutes_range",
            max=MAX_REMINDER_MINUTES,
        )
    return minutes


@values({"type": "boolean"})
def flag(value: Any) -> bool:
    """Check a yes/no value."""
    if not isinstance(value, bool):
        found = kind_of(value)
        raise Invalid(
            f"must be true or false, not {KIND_WORDS[found]}", code="not_flag", found=found
        )
    return value


def one_of(*choices: str) -> Check:
    """Return a check that accepts exactly one of the given words."""

    @values({"enum": list(choices)})
    def check(value: Any) -> str:
        if value not in choices:
            listed = ", ".join(choices)
            raise Invalid(f"must be one of: {listed}", code="not_one_of", choices=listed)
        return value

    return check


@values({"type": "string", "format": "date"})
def iso_date(value: Any) -> date:
    """Check a calendar date written as YYYY-MM-DD."""
    if isinstance(value, date) and not isinstance(value, datetime):
        _check_year(value.year)
        return value  # a dict built in Python may already hold dates
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        found = kind_of(value)
        raise Invalid(
            f"must be a date like 2021-10-01, not {KIND_WORDS[found]}", code="not_date", found=found
        )
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"is not a real date: {value}", code="not_real_date", value=value) from None
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
            raise Invalid(
                f"must be a date and time in ISO 8601, {example}", code="not_iso_datetime"
            ) from None
    else:
        found = kind_of(value)
        raise Invalid(
            f"must be a date and time {example}, not {KIND_WORDS[found]}",
            code="not_datetime",
            found=found,
        )
    if moment.utcoffset() is None:
        raise Invalid(f"must include its UTC offset, {example}", code="no_utc_offset")
    _check_year(moment.year)
    return moment


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Invalid(
            f"must be in the years {FIRST_YEAR} to {LAST_YEAR}, not in {year}",
            code="year_out_of_range",
            first=FIRST_YEAR,
            last=LAST_YEAR,
            year=year,
        )


@values(TEXT)
def time_zone(value: Any) -> str:
    """Check an IANA time zone name."""
    if isinstance(value, str) and value:
        try:
            ZoneInfo(value)
            return value
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise Invalid("must be an IANA time zone name like Asia/Ho_Chi_Minh", code="not_time_zone")


@values({"type": "array", "items": TEXT})
def text_list(value: Any, max_entries: int = MAX_LIST_ENTRIES) -> tuple[str, ...]:
    """Check a list whose entries are non-blank one-line texts."""
    if not isinstance(value, list | tuple):
        found = kind_of(value)
        raise Invalid(
            f"must be a list of text, not {KIND_WORDS[found]}", code="not_text_list", found=found
        )
    if len(value) > max_entries:
        raise Invalid(
            f"must have at most {max_entries:,} entries, not {len(value):,}",
            code="too_many_entries",
            max=max_entries,
            count=len(value),
        )
    problems = []
    entries = []
    for index, entry in enumerate(value):
        try:
            entries.append(text(entry))
        except Invalid as err:
            problems.extend(issue._replace(at=(index, *issue.at)) for issue in err.problems)
    if problems:
        raise Invalid.many(problems)
    return tuple(entries)


CONFERENCE_FIELDS = (
    Field("platform", text),
    Field("url", web_url, required=True),
    Field("meeting_id", code),
    Field("passcode", code),
)


def _conference_schema() -> Schema:
    properties = {field.key: field.json_schema for field in CONFERENCE_FIELDS}
    return {
        "type": "object",
        "properties": properties,
        "required": [field.key for field in CONFERENCE_FIELDS if field.required],
        "additionalProperties": False,
    }


def conference(value: Any) -> Conference:
    """Check a video conference: a mapping of platform, url, meeting_id and passcode."""
    if not isinstance(value, dict):
        found = kind_of(value)
        raise Invalid(
            f"must be a mapping of fields (platform, url, meeting_id, passcode), "
            f"not {KIND_WORDS[found]}",
            code="not_conference",
            found=found,
        )
    known = tuple(field.key for field in CONFERENCE_FIELDS)
    listed = ", ".join(known)
    problems = [
        Issue(
            (str(key),),
            f"unknown key {str(key)!r}; the keys here are {listed}",
            "unknown_key",
            {"key": str(key), "known": listed},
        )
        for key in value
        if key not in known
    ]
    checked: dict[str, Any] = {}
    for field in CONFERENCE_FIELDS:
        raw = value.get(field.key)
        if raw is None:
            if field.required:
                state = "missing" if field.key not in value else "empty"
                problems.append(
                    Issue((field.key,), f"is required but {state}", f"required_{state}")
                )
            continue
        try:
            checked[field.attribute] = field.check(raw)
        except Invalid as err:
            problems.extend(issue._replace(at=(field.key, *issue.at)) for issue in err.problems)
    if problems:
        raise Invalid.many(problems)
    return Conference(**checked)


conference.json_schema = _conference_schema()  # type: ignore[attr-defined]


@values(
    {
        "oneOf": [
            {"enum": list(DELIVERY_GROUPS)},
            {"type": "array", "items": ID, "minItems": 1, "uniqueItems": True},
        ]
    }
)
def delivering_points(value: Any) -> tuple[str, ...] | str:
    """Check who delivers by a deadline: a list of point ids, "all_wards" or "all".

    Whether each id names a point of the plan is checked with the whole plan (loader).
    """
    if isinstance(value, str):
        if value in DELIVERY_GROUPS:
            return value
        groups = ", ".join(DELIVERY_GROUPS)
        guess = get_close_matches(value, DELIVERY_GROUPS, n=1)
        if guess:
            message = (
                f"must be a list of point ids, or one of: {groups}; did you mean {guess[0]!r}?"
            )
            raise Invalid(message, code="not_delivering_guess", groups=groups, guess=guess[0])
        message = f"must be a list of point ids, or one of: {groups}"
        raise Invalid(message, code="not_delivering", groups=groups)
    if not isinstance(value, list | tuple):
        groups = ", ".join(DELIVERY_GROUPS)
        found = kind_of(value)
        message = f"must be a list of point ids, or one of: {groups}; not {KIND_WORDS[found]}"
        raise Invalid(message, code="not_delivering_list", groups=groups, found=found)
    if not value:
        message = "must name at least one point (leave the key out when nobody delivers)"
        raise Invalid(message, code="no_delivering_point")
    if len(value) > MAX_POINT_REFERENCES:
        raise Invalid(
            f"must have at most {MAX_POINT_REFERENCES:,} entries, not {len(value):,}",
            code="too_many_entries",
            max=MAX_POINT_REFERENCES,
            count=len(value),
        )
    problems: list[Issue] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(value):
        try:
            point_id = slug(entry)
        except Invalid as err:
            problems.extend(issue._replace(at=(index, *issue.at)) for issue in err.problems)
            continue
        if point_id in seen:
            first = seen[point_id]
            message = f"repeats the point {point_id!r} of entry {first}"
            problems.append(
                Issue((index,), message, "repeated_point", {"point": point_id, "other": first})
            )
        else:
            seen[point_id] = index
    if problems:
        raise Invalid.many(problems)
    return tuple(seen)


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
    Field("conference", conference),
    Field("livestream_url", web_url),
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
    Field("conference", conference),
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
    Field("points", delivering_points),
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
