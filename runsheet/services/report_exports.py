"""The report as tables: a CSV file (one section per part) and an xlsx workbook (one sheet each).

``report_tables`` lays the report (``services.report``) out as tables whose headers are in
the reader's language; ``report_csv`` and ``report_xlsx`` write them. Both hold the same
figures: durations in seconds, times as in the report (ISO 8601 in the event's zone in the
CSV; the event's local time in the workbook, which has no time zones).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from . import shapes

Translate = Callable[[str], str]
Cell = str | int | float | bool | None

# Which report keys hold a moment: the workbook writes them as date-times.
MOMENT_COLUMNS = {
    "at",
    "from",
    "to",
    "started_at",
    "ended_at",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "projected_end",
    "confirmed_at",
    "answered_at",
    "sent_at",
    "read_at",
}
# A spreadsheet reads a CSV cell starting with one of these as a formula; openpyxl writes a
# string starting with "=" as one. Text from plans and pages never goes in as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_FORMULA_STARTS = ("=",)
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


class Phrase(str):
    """An i18n key standing for words of the report (a figure's name, a status), not data."""


@dataclass(frozen=True)
class Table:
    """One part of the report: its name (an i18n key), its columns and its rows."""

    name: str
    columns: list[str]  # report keys; the header is the i18n key "report.col.<key>"
    rows: list[list[Cell]]


def report_tables(report: shapes.Report) -> list[Table]:
    """Return the report's parts as tables, in the order the page shows them."""
    ceremony = report["ceremony"]
    ceremony_keys = [
        "planned_start",
        "actual_start",
        "start_delay_seconds",
        "drift_seconds",
        "planned_end",
        "actual_end",
        "end_delay_seconds",
        "planned_seconds",
        "actual_seconds",
    ]
    tables = [
        Table(
            "ceremony",
            ["figure", "value"],
            [[Phrase(f"report.col.{key}"), ceremony[key]] for key in ceremony_keys],
        ),
        _table(
            "items",
            [
                "position",
                "title",
                "speaker",
                "point_name",
                "status",
                "planned_start",
                "planned_minutes",
                "actual_start",
                "actual_end",
                "actual_seconds",
                "over_under_seconds",
                "extended_seconds",
                "extensions",
                "holds",
                "held_seconds",
            ],
            [
                {
                    **item,
                    "status": Phrase(f"report.status.{item['status']}"),
                    "extensions": len(item["extensions"]),
                    "holds": len(item["holds"]),
                    "held_seconds": round(sum(h["seconds"] for h in item["holds"]), 3),
                }
                for item in report["items"]
            ],
        ),
        _table(
            "points",
            [
                "point",
                "confirmed_at",
                "confirmed_by",
                "present",
                "checkins",
                "troubles",
                "online_seconds",
                "online_at_end",
                "rtt_median_ms",
                "jitter_ms",
                "roll_calls_answered",
                "messages_read",
            ],
            [
                {
                    **point,
                    "point": point["name"],
                    "checkins": len(point["checkins"]),
                    "troubles": len(point["troubles"]),
                    "online_seconds": round(sum(s["seconds"] for s in point["online_spans"]), 3),
                    "rtt_median_ms": (point["link"] or {}).get("rtt_median_ms"),
                    "jitter_ms": (point["link"] or {}).get("jitter_ms"),
                    "roll_calls_answered": sum(1 for r in point["roll_calls"] if r["answered_at"]),
                    "messages_read": sum(1 for m in point["messages"] if m["read_at"]),
                }
                for point in report["points"]
            ],
        ),
        _point_rows("checkins", ["at", "by", "present", "note"], report),
        _point_rows("troubles", ["kind", "text", "from", "to", "seconds"], report),
        _point_rows("online_spans", ["from", "to", "seconds"], report),
        _point_rows("roll_calls", ["id", "started_at", "answered_at", "delay_seconds"], report),
        _point_rows("messages", ["id", "text", "sent_at", "read_at", "read_after_seconds"], report),
    ]
    if report["audit_source"] == "audit":
        tables.append(
            _table(
                "audit",
                ["at", "role", "point_id", "console", "channel", "action", "outcome", "error"],
                report["audit"],
            )
        )
    else:
        tables.append(
            _table(
                "record_log",
                ["at", "action", "item_id", "point_id", "detail"],
                report["record_log"],
            )
        )
    return tables


def _table(name: str, columns: list[str], rows: list[Any]) -> Table:
    return Table(name, columns, [[row.get(key) for key in columns] for row in rows])


def _point_rows(part: str, columns: list[str], report: shapes.Report) -> Table:
    """One row for each entry of every point's ``part``, led by the point's name."""
    rows = [
        [point["name"], *(entry.get(key) for key in columns)]
        for point in report["points"]
        for entry in point[part]
    ]
    return Table(part, ["point", *columns], rows)


def _header(table: Table, t: Translate) -> list[str]:
    return [t(f"report.col.{key}") for key in table.columns]


def _cell_text(value: Cell, t: Translate, guarded: tuple[str, ...] = FORMULA_STARTS) -> Cell:
    """Return a value as a cell: i18n keys of figures translated, text never a formula."""
    if isinstance(value, Phrase):
        return t(value)
    if isinstance(value, str) and value.startswith(guarded):
        return "'" + value
    return value


def report_csv(report: shapes.Report, t: Translate) -> str:
    """Return the report as CSV: each part a section (its name, header, rows, a blank line)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for table in report_tables(report):
        writer.writerow([t(f"report.part.{table.name}")])
        writer.writerow(_header(table, t))
        for row in table.rows:
            writer.writerow(["" if v is None else _cell_text(v, t) for v in row])
        writer.writerow([])
    # A byte-order mark, so that Excel opens the Vietnamese text as UTF-8.
    return "\ufeff" + out.getvalue()


def report_xlsx(report: shapes.Report, t: Translate) -> bytes:
    """Return the report as an xlsx workbook with one sheet per part.

    Written row by row (openpyxl's write-only mode), so a long audit log costs time in
    proportion to its length.
    """
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for table in report_tables(report):
        sheet = workbook.create_sheet(_sheet_title(t(f"report.part.{table.name}")))
        sheet.freeze_panes = "A2"
        for index, key in enumerate(table.columns, start=1):
            wide = key in ("title", "text", "point", "point_name", "figure", "note", "detail")
            sheet.column_dimensions[get_column_letter(index)].width = 42 if wide else 18
        sheet.append([_styled(sheet, text, font=bold) for text in _header(table, t)])
        for row in table.rows:
            sheet.append(
                [
                    _xlsx_cell(sheet, key, value, t)
                    for key, value in zip(table.columns, row, strict=True)
                ]
            )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _styled(sheet: Any, value: Any, **style: Any) -> WriteOnlyCell:  # noqa: ANN401
    cell = WriteOnlyCell(sheet, value=value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _xlsx_cell(sheet: Any, key: str, value: Cell, t: Translate) -> Any:  # noqa: ANN401
    """A cell of the workbook; a moment with a date-time format."""
    shown = _xlsx_value(key, value, t)
    if isinstance(shown, datetime):
        return _styled(sheet, shown, number_format=DATETIME_FORMAT)
    return shown


def _xlsx_value(key: str, value: Cell, t: Translate) -> Any:  # noqa: ANN401
    """A cell of the workbook: moments as local date-times (xlsx has no time zones)."""
    if isinstance(value, str) and (key in MOMENT_COLUMNS or key == "value"):
        try:
            return datetime.fromisoformat(value).replace(tzinfo=None)
        except ValueError:
            pass
    cell = _cell_text(value, t, XLSX_FORMULA_STARTS)
    if isinstance(cell, str):  # control characters a workbook cannot hold: shown as such
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", cell)
    return cell


def _sheet_title(name: str) -> str:
    """A sheet's title: at most 31 characters, none of those xlsx forbids."""
    return "".join("-" if c in "[]:*?/\\" else c for c in name)[:31]
