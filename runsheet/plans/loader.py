"""Turn plan files and stored plan dicts into a checked Plan, reporting every problem at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from difflib import get_close_matches
from functools import lru_cache
from importlib import resources
from os import PathLike
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.plan import Activity, AgendaItem, Deadline, Event, Plan, Point
from .problems import FieldPath, PlanError, Problem, format_path
from .schema import (
    ACTIVITY_FIELDS,
    AGENDA_FIELDS,
    DEADLINE_FIELDS,
    EVENT_FIELDS,
    KIND_WORDS,
    LAST_YEAR,
    MAX_ENTRIES,
    POINT_FIELDS,
    TOP_LEVEL_KEYS,
    Check,
    Field,
    Invalid,
    kind_of,
    text_list,
)
from .yamltree import read_yaml

DEFAULT_PLAN_FILE = "default.yaml"
# Far above a national conference's plan (20,000 points fill about 4 MB), far below what
# would keep the YAML reader busy for minutes.
MAX_PLAN_BYTES = 16 * 1024 * 1024


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    """Read a plan from YAML text; raise PlanError listing every problem with its line."""
    if len(text) > MAX_PLAN_BYTES:  # characters: at least as many bytes in UTF-8
        raise PlanError([Problem("", _too_large(len(text)), None, source)])
    tree = read_yaml(text, source)
    checker = _Checker(source, tree.lines, tree.problems)
    return checker.plan(tree.data)


def load_plan_file(path: str | PathLike[str]) -> Plan:
    """Read a plan from a UTF-8 YAML file; raise PlanError if it cannot be used."""
    source = str(path)
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_PLAN_BYTES + 1)  # enough to know it is too large
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise PlanError([Problem("", f"cannot be read: {reason}", None, source)]) from None
    if len(raw) > MAX_PLAN_BYTES:
        raise PlanError([Problem("", _too_large(len(raw)), None, source)])
    try:
        text = raw.decode("utf-8-sig")  # tolerate the byte-order mark some editors add
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        message = "is not UTF-8 text; save the plan as UTF-8"
        raise PlanError([Problem("", message, line, source)]) from None
    return parse_plan(text, source)


def plan_from_dict(data: dict, source: str = "<stored plan>") -> Plan:
    """Build a plan from a dict shaped like the plan file; raise PlanError like parse_plan."""
    return _Checker(source).plan(data)


@lru_cache(maxsize=1)
def default_plan() -> Plan:
    """Return the built-in plan that ships with runsheet."""
    text = resources.files(__package__).joinpath(DEFAULT_PLAN_FILE).read_text("utf-8")
    return parse_plan(text, DEFAULT_PLAN_FILE)


class _Checker:
    """Check plain plan data section by section, collecting problems instead of stopping."""

    def __init__(
        self,
        source: str,
        lines: dict[FieldPath, int] | None = None,
        problems: list[Problem] | None = None,
    ) -> None:
        self.source = source
        self.lines = lines or {}
        self.problems = list(problems or [])

    def report(self, path: FieldPath, message: str, code: str = "", **params: Any) -> None:  # noqa: ANN401
        problem = Problem(format_path(path), message, self.line(path), self.source, code, params)
        self.problems.append(problem)

    def line(self, path: FieldPath) -> int | None:
        # a missing key has no line of its own: point at the mapping that lacks it
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def plan(self, data: Any) -> Plan:
        if not isinstance(data, dict):
            sections = ", ".join(TOP_LEVEL_KEYS)
            found = kind_of(data)
            message = f"must be a mapping with the sections {sections}, not {KIND_WORDS[found]}"
            self.report((), message, "not_plan", sections=sections, found=found)
            self.fail()
        self.unknown_keys((), data, TOP_LEVEL_KEYS)
        event = self.event(data)
        points = self.records(data, "points", POINT_FIELDS, "connection point")
        agenda = self.records(data, "agenda", AGENDA_FIELDS, "programme item")
        activities = self.records(data, "activities", ACTIVITY_FIELDS)
        deadlines = self.records(data, "deadlines", DEADLINE_FIELDS)
        slogans = self.slogans(data)
        point_ids = {p["id"] for p in points if "id" in p}
        self.check_points_named(agenda, point_ids)
        self.check_deadline_points(deadlines, point_ids)
        self.check_activity_dates(activities)
        self.check_planned_end(event, agenda)
        if self.problems:
            self.fail()
        return Plan(
            event=Event(**event),
            points=tuple(Point(**p) for p in points),
            agenda=tuple(AgendaItem(**i) for i in agenda),
            activities=tuple(Activity(**a) for a in activities),
            deadlines=tuple(Deadline(**d) for d in deadlines),
            slogans=slogans,
        )

    def fail(self) -> None:
        # problems from the YAML reader and from the checks come out in file order
        ordered = sorted(self.problems, key=lambda p: p.line or 0)
        raise PlanError(ordered)

    def event(self, data: dict) -> dict[str, Any]:
        if "event" not in data:
            self.report(("event",), "is required but missing", "required_missing")
            return {}
        values = self.record(("event",), data["event"], EVENT_FIELDS)
        if "starts_at" in values and "timezone" in values:
            values["starts_at"] = self.in_zone(values["starts_at"], values["timezone"])
        return values

    def in_zone(self, starts_at: datetime, timezone: str) -> datetime:
        local = starts_at.astimezone(ZoneInfo(timezone))
        if local.utcoffset() != starts_at.utcoffset():
            given, expected, day = _offset(starts_at), _offset(local), local.date().isoformat()
            self.report(
                ("event", "starts_at"),
                f"has the UTC offset {given}, but {timezone} is at {expected} on {day}",
                "offset_mismatch",
                offset=given,
                zone=timezone,
                zone_offset=expected,
                date=day,
            )
        return local

    def records(
        self, data: dict, key: str, fields: tuple[Field, ...], needed: str = ""
    ) -> list[dict[str, Any]]:
        """Check a list section; ``needed`` names its entries when it must not be empty."""
        raw = data.get(key)
        if raw is None:
            if needed:
                state = "missing" if key not in data else "empty"
                message = f"is {state}; the plan needs at least one {needed}"
                self.report((key,), message, f"section_{state}", section=key)
            return []
        if not isinstance(raw, list):
            found = kind_of(raw)
            self.report((key,), f"must be a list, not {KIND_WORDS[found]}", "not_list", found=found)
            return []
        if needed and not raw:
            message = f"is empty; the plan needs at least one {needed}"
            self.report((key,), message, "section_empty", section=key)
        limit = MAX_ENTRIES[key]
        if len(raw) > limit:
            message = f"has {len(raw):,} entries; a plan may have at most {limit:,}"
            self.report((key,), message, "too_many_entries", count=len(raw), max=limit)
            return []
        records = [self.record((key, index), entry, fields) for index, entry in enumerate(raw)]
        self.check_unique_ids(key, records)
        return records

    def record(self, path: FieldPath, raw: Any, fields: tuple[Field, ...]) -> dict[str, Any]:
        """Check one mapping against its fields; return the values that passed, by attribute."""
        if not isinstance(raw, dict):
            found = kind_of(raw)
            message = f"must be a mapping of fields, not {KIND_WORDS[found]}"
            self.report(path, message, "not_mapping", found=found)
            return {}
        self.unknown_keys(path, raw, tuple(f.key for f in fields))
        values: dict[str, Any] = {}
        for field in fields:
            value = raw.get(field.key)
            if value is None:
                if field.required:
                    state = "missing" if field.key not in raw else "empty"
                    message = f"is required but {state}"
                    self.report((*path, field.key), message, f"required_{state}")
                continue  # an optional field left out or empty takes the model's default
            checked = self.check((*path, field.key), value, field.check)
            if checked is not None:
                values[field.attribute] = checked
        return values

    def check(self, path: FieldPath, value: Any, check: Check) -> Any | None:
        try:
            return check(value)
        except Invalid as err:
            for issue in err.problems:
                self.report((*path, *issue.at), issue.message, issue.code, **issue.params)
            return None

    def unknown_keys(self, path: FieldPath, raw: dict, known: tuple[str, ...]) -> None:
        for key in raw:
            if key in known:
                continue
            name = str(key)
            message = f"unknown key {name!r}"
            guess = get_close_matches(name, known, n=1)
            if guess:
                message += f"; did you mean {guess[0]!r}?"
                self.report((*path, name), message, "unknown_key_guess", key=name, guess=guess[0])
            else:
                listed = ", ".join(known)
                message += f"; the keys here are {listed}"
                self.report((*path, name), message, "unknown_key", key=name, known=listed)

    def slogans(self, data: dict) -> tuple[str, ...]:
        raw = data.get("slogans")
        if raw is None:
            return ()
        return self.check(("slogans",), raw, lambda v: text_list(v, MAX_ENTRIES["slogans"])) or ()

    def check_unique_ids(self, key: str, records: list[dict[str, Any]]) -> None:
        first_index: dict[str, int] = {}
        for index, values in enumerate(records):
            record_id = values.get("id")
            if record_id is None:
                continue
            if record_id in first_index:
                other = f"{key}[{first_index[record_id]}]"
                message = f"repeats the id {record_id!r} of {other}"
                self.report((key, index, "id"), message, "repeated_id", id=record_id, other=other)
            else:
                first_index[record_id] = index

    def check_points_named(self, agenda: list[dict[str, Any]], point_ids: set[str]) -> None:
        for index, item in enumerate(agenda):
            point_id = item.get("point_id")
            if point_id is not None and point_id not in point_ids:
                message = f"names the point {point_id!r}, but no point has that id"
                self.report(("agenda", index, "point"), message, "unknown_point", point=point_id)

    def check_deadline_points(self, deadlines: list[dict[str, Any]], point_ids: set[str]) -> None:
        for index, deadline in enumerate(deadlines):
            named = deadline.get("points")
            if not isinstance(named, tuple):
                continue  # left out, or a group like "all_wards"
            for position, point_id in enumerate(named):
                if point_id in point_ids:
                    continue
                message = f"names the point {point_id!r}, but no point has that id"
                path = ("deadlines", index, "points", position)
                guess = get_close_matches(point_id, sorted(point_ids), n=1)
                if guess:
                    message += f"; did you mean {guess[0]!r}?"
                    self.report(
                        path, message, "unknown_point_guess", point=point_id, guess=guess[0]
                    )
                else:
                    self.report(path, message, "unknown_point", point=point_id)

    def check_activity_dates(self, activities: list[dict[str, Any]]) -> None:
        for index, activity in enumerate(activities):
            starts_on = activity.get("starts_on")
            if starts_on is None:
                continue
            ends_on = activity.setdefault("ends_on", starts_on)  # one-day activity
            if ends_on < starts_on:
                day = starts_on.isoformat()
                message = f"is before starts_on ({day}); an activity cannot end before it starts"
                path = ("activities", index, "ends_on")
                self.report(path, message, "ends_before_start", date=day)

    def check_planned_end(self, event: dict[str, Any], agenda: list[dict[str, Any]]) -> None:
        # Calendar files hold the end of every item: it must stay within the years a plan
        # may use, as the start does.
        starts_at = event.get("starts_at")
        if starts_at is None:
            return
        minutes = sum(item.get("planned_minutes", 0) for item in agenda)
        planned_end = starts_at + timedelta(minutes=minutes)  # under three years past it
        if planned_end.year > LAST_YEAR:
            day = planned_end.date().isoformat()
            message = (
                f"ends the ceremony on {day}, after the last year a plan may use ({LAST_YEAR})"
            )
            self.report(("agenda",), message, "ends_too_late", date=day, last=LAST_YEAR)


def _too_large(size: int) -> str:
    limit = MAX_PLAN_BYTES // (1024 * 1024)
    return f"is {size / (1024 * 1024):.0f} MB or more; a plan file may be at most {limit} MB"


def _offset(moment: datetime) -> str:
    """Return a datetime's UTC offset as +07:00."""
    seconds = int(moment.utcoffset().total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02}:{minutes:02}" + (f":{seconds:02}" if seconds else "")
