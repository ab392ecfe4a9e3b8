"""Reading the audit log: filters as a caller gives them, entries as JSON, and a CSV export.

Transports hand over the query string's values as text; ``AuditQuery.parse`` checks them and
names the field at fault. The JSON and CSV forms show times in the event's time zone.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..domain.errors import InvalidInput
from ..domain.plan import MAX_ID_LENGTH
from ..storage.store import AUDIT_PAGE_LIMIT, AuditEntry, Store
from .payloads import Field

AUDIT_ROLES = ("organizer", "mc", "point", "public", "system")
DEFAULT_LIMIT = 100
CSV_PAGE = 1000  # entries read at a time while the CSV streams out

# The query string of GET /api/v1/audit (and of the CSV, which takes all but paging).
QUERY_FIELDS: dict[str, Field] = {
    "role": Field(str, max_length=20, choices=AUDIT_ROLES, description="Only this role's."),
    "point": Field(str, max_length=MAX_ID_LENGTH, description="Only this point's (its id)."),
    "run": Field(int, minimum=1, maximum=2**31 - 1, description="Only this run's (its number)."),
    "before": Field(
        int,
        minimum=1,
        maximum=2**53,
        description="Only entries older than this id: the `next_before` of the page before.",
    ),
    "limit": Field(
        int,
        minimum=1,
        maximum=AUDIT_PAGE_LIMIT,
        description=f"How many entries at most (default {DEFAULT_LIMIT}).",
    ),
}

# The CSV's columns: the key of each value, in order (headers come from the page language).
CSV_COLUMNS = (
    "id",
    "run",
    "at",
    "role",
    "point_id",
    "console",
    "channel",
    "action",
    "outcome",
    "version_before",
    "version_after",
    "error_kind",
    "error",
    "summary",
)


@dataclass(frozen=True)
class AuditQuery:
    """Which entries a caller asks for."""

    role: str | None = None
    point: str | None = None
    run: int | None = None
    before: int | None = None
    limit: int = DEFAULT_LIMIT

    @classmethod
    def parse(cls, values: Mapping[str, str]) -> AuditQuery:
        """Return the query a query string asks for; raise InvalidInput naming the field."""
        unknown = sorted(name for name in values if name not in QUERY_FIELDS and name != "lang")
        if unknown:
            raise InvalidInput(f"{unknown[0][:40]}: is not a filter of the audit log", field=None)
        parsed: dict[str, object] = {}
        for name, spec in QUERY_FIELDS.items():
            text = values.get(name)
            if text is None or text == "":
                continue
            if spec.kind is int:
                parsed[name] = _whole_number(name, text, spec)
            else:
                if len(text) > spec.max_length:
                    raise InvalidInput(f"{name}: is too long", field=name)
                if spec.choices and text not in spec.choices:
                    choices = ", ".join(spec.choices)
                    raise InvalidInput(f"{name}: must be one of {choices}", field=name)
                parsed[name] = text
        return cls(**parsed)  # type: ignore[arg-type]

    def entries(self, store: Store, event_id: int) -> list[AuditEntry]:
        """Return the page of entries this query asks for, newest first."""
        return store.audit_entries(
            event_id,
            run_number=self.run,
            role=self.role,
            point_id=self.point,
            before_id=self.before,
            limit=self.limit,
        )

    def every_entry(self, store: Store, event_id: int) -> Iterator[AuditEntry]:
        """Yield every entry the filters match (paging ignored), newest first."""
        before = self.before
        while True:
            page = store.audit_entries(
                event_id,
                run_number=self.run,
                role=self.role,
                point_id=self.point,
                before_id=before,
                limit=CSV_PAGE,
            )
            yield from page
            if len(page) < CSV_PAGE:
                return
            before = page[-1].id


def _whole_number(name: str, text: str, spec: Field) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 16:
        raise InvalidInput(f"{name}: must be a whole number", field=name)
    value = int(text)
    if spec.minimum is not None and value < spec.minimum:
        raise InvalidInput(f"{name}: must be at least {spec.minimum}", field=name)
    if spec.maximum is not None and value > spec.maximum:
        raise InvalidInput(f"{name}: must be at most {spec.maximum}", field=name)
    return value


def entry_as_dict(entry: AuditEntry, zone: ZoneInfo) -> dict:
    """Return an entry as the API answers it (``shapes.AuditLogEntry``)."""
    return {
        "id": entry.id,
        "run": entry.run_number,
        "at": entry.at.astimezone(zone).isoformat(),
        "role": entry.role,
        "point_id": entry.point_id,
        "console": entry.console,
        "channel": entry.channel,
        "action": entry.action,
        "summary": entry.summary,
        "version_before": entry.version_before,
        "version_after": entry.version_after,
        "outcome": entry.outcome,
        "error": entry.error,
        "error_kind": entry.error_kind,
    }


def audit_page(entries: list[AuditEntry], query: AuditQuery, zone: ZoneInfo) -> dict:
    """Return a page of the log as the API answers it (``shapes.AuditLog``)."""
    more = len(entries) == query.limit and entries
    return {
        "entries": [entry_as_dict(entry, zone) for entry in entries],
        "next_before": entries[-1].id if more else None,
    }


# A cell starting with one of these is a formula to a spreadsheet; the log holds text that
# callers chose (a console's name, a message), so such text is kept as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def audit_csv(entries: Iterator[AuditEntry], zone: ZoneInfo, headers: list[str]) -> Iterator[str]:
    """Yield the CSV of ``entries`` piece by piece: a BOM (Excel reads UTF-8), then rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flushed() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(headers)
    yield "\ufeff" + flushed()
    for count, entry in enumerate(entries, start=1):
        row = entry_as_dict(entry, zone)
        row["summary"] = json.dumps(entry.summary, ensure_ascii=False, sort_keys=True)
        writer.writerow([_cell(row[key]) for key in CSV_COLUMNS])
        if count % 200 == 0:
            yield flushed()
    yield flushed()
