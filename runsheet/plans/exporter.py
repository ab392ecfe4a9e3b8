"""Write a Plan back out: as a JSON-ready dict and as YAML text in the plan file format."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import yaml

from ..domain.plan import Conference, Plan
from .schema import (
    ACTIVITY_FIELDS,
    AGENDA_FIELDS,
    CONFERENCE_FIELDS,
    DEADLINE_FIELDS,
    EVENT_FIELDS,
    POINT_FIELDS,
    Field,
)

HEADER = "# runsheet plan file; the format is described in docs/plan-format.md\n"


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """Return the plan as a JSON-serialisable dict shaped like the plan file."""
    return {
        "event": _record(plan.event, EVENT_FIELDS),
        "points": [_record(point, POINT_FIELDS) for point in plan.points],
        "agenda": [_record(item, AGENDA_FIELDS) for item in plan.agenda],
        "activities": [_record(activity, ACTIVITY_FIELDS) for activity in plan.activities],
        "deadlines": [_record(deadline, DEADLINE_FIELDS) for deadline in plan.deadlines],
        "slogans": list(plan.slogans),
    }


def dump_plan(plan: Plan) -> str:
    """Return the plan as YAML text that parse_plan reads back into an equal plan."""
    body = yaml.dump(
        plan_to_dict(plan),
        Dumper=_Dumper,
        allow_unicode=True,  # keep Vietnamese readable instead of \u escapes
        sort_keys=False,  # keep the order of the format: id first, then title...
        width=100,
    )
    return HEADER + body


class _Dumper(yaml.SafeDumper):
    """A safe dumper that indents list entries under their key, as people write plan files."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_text(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    # PyYAML folds NEL and Unicode line separators inside plain and single-quoted scalars,
    # so "a\x85" would come back as "a "; double quotes escape them instead.
    style = '"' if any(c in value for c in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def _record(obj: object, fields: tuple[Field, ...]) -> dict[str, Any]:
    # Left-out optional fields mean "the default" when read back, so the file stays short.
    result = {}
    for field in fields:
        value = getattr(obj, field.attribute)
        if value is None or value == "" or value == ():
            continue
        result[field.key] = _plain(value)
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, Conference):
        return _record(value, CONFERENCE_FIELDS)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value
