"""Plans as xlsx workbooks (openpyxl): write one, read one back through the plan's checks.

``workbook_bytes`` writes a plan (or a blank template) with one sheet per section, named
and headed in Vietnamese or English (``plans.sheets``). ``plan_from_workbook`` reads a
workbook into plan data, then into a ``Plan`` through the plan loader's own checks; every
problem names its sheet, row and column as well as its plan path. Dates and times may be
date/time cells or text ("01/10/2021", "08:00").

A workbook comes from outside, so it is read with care: the archive is checked before
openpyxl opens it (its unpacked size and number of parts), openpyxl reads it in read-only
mode (rows are streamed, not held) with defusedxml guarding its XML, and no sheet is read
beyond the rows a plan section may hold.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation

from ..domain.plan import Plan
from .exporter import plan_to_dict
from .loader import plan_from_dict
from .messages import english
from .problems import PlanError, Problem
from .schema import MAX_ENTRIES
from .sheets import (
    CHOICE,
    CHOICES,
    DAY,
    EVENT_HEADERS,
    EVENT_SHEET,
    FLAG,
    LIST,
    LONG_TEXT,
    NO,
    POINT_LIST,
    SHEETS,
    SHEETS_BY_SECTION,
    TEXT,
    TIME,
    WHOLE,
    YES,
    Column,
    Sheet,
    choice_label,
    choice_value,
    column_named,
    normalized,
    sheet_named,
)

WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# An upload is at most this large, packed; its parts at most this large unpacked (XML
# packs about tenfold; a 20,000-point plan's workbook is about 1 MB packed).
MAX_WORKBOOK_BYTES = 8 * 1024 * 1024
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
MAX_PARTS = 1_000
# Rows read beyond a section's most entries: blank rows in between are skipped, not counted
# as entries, but a sheet is never read further than this.
SPARE_ROWS = 1_000
MAX_EVENT_ROWS = 200  # the event's sheet: one row per field, and some blank ones
MAX_COLUMNS = 50  # a sheet's columns read at most (headers beyond are not looked at)
DAY_FORMAT = "DD/MM/YYYY"
TIME_FORMAT = "HH:MM"
DAY_TEXT = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
ISO_DAY_TEXT = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
TIME_TEXT = re.compile(r"(\d{1,2})\s*(?::|h|g|giờ)\s*(\d{2})?(?::(\d{2}))?\s*", re.IGNORECASE)
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")


class NotAWorkbook(ValueError):
    """Content that is not an xlsx workbook runsheet can read; the message says why."""


# -- writing ------------------------------------------------------------------------------------


def workbook_bytes(plan: Plan | None, language: str) -> bytes:
    """Return an xlsx workbook of ``plan`` in ``language`` (vi or en); None: a blank template."""
    data = plan_to_dict(plan) if plan is not None else _template_data()
    book = openpyxl.Workbook()
    book.remove(book.active)
    for sheet in SHEETS:
        sheet_out = book.create_sheet(sheet.name(language))
        if sheet.is_record:
            _write_event(sheet_out, data.get("event", {}), language)
        else:
            _write_table(sheet_out, sheet, _records(sheet, data), language)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _template_data() -> dict[str, Any]:
    """Return what a blank template shows: only the defaults worth seeing."""
    return {"event": {"timezone": "Asia/Ho_Chi_Minh", "form": "online", "reminder_minutes": 15}}


def _records(sheet: Sheet, data: dict[str, Any]) -> list[dict[str, Any]]:
    if sheet.section == "slogans":
        return [{"slogan": slogan} for slogan in data.get("slogans", [])]
    return list(data.get(sheet.section, []))


def _write_event(out, event: dict[str, Any], language: str) -> None:  # noqa: ANN001
    out.append([label[0] if language == "vi" else label[1] for label in EVENT_HEADERS])
    starts_at = event.get("starts_at")
    moment = datetime.fromisoformat(starts_at) if isinstance(starts_at, str) else None
    for row, column in enumerate(EVENT_SHEET.columns, start=2):
        if column.key == "date":
            value: Any = moment.date() if moment else None
        elif column.key == "time":
            value = moment.time().replace(tzinfo=None) if moment else None
        else:
            value = _lookup(event, column.key)
        out.append([column.label(language), _cell_value(column, value, language)])
        _format(out.cell(row=row, column=2), column)  # (max_row walks every cell: slow)
    _style_header(out, 2)
    out.column_dimensions["A"].width = 30
    out.column_dimensions["B"].width = 70
    for column in EVENT_SHEET.columns:
        if column.kind == CHOICE:
            row = EVENT_SHEET.columns.index(column) + 2
            _choices(out, column, language, f"B{row}")


def _write_table(out, sheet: Sheet, records: list[dict[str, Any]], language: str) -> None:  # noqa: ANN001
    out.append([column.label(language) for column in sheet.columns])
    for row, record in enumerate(records, start=2):
        out.append(
            [_cell_value(column, _lookup(record, column.key), language) for column in sheet.columns]
        )
        for index, column in enumerate(sheet.columns, start=1):
            _format(out.cell(row=row, column=index), column)  # (max_row walks every cell)
    _style_header(out, len(sheet.columns))
    last_row = len(records) + 1 + 500  # room to type new rows within the drop-downs
    for index, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(index)
        wide = column.kind in (LONG_TEXT, LIST) or column.key in ("title", "name")
        out.column_dimensions[letter].width = 45 if wide else max(14, len(column.vi) + 4)
        if column.kind == CHOICE:
            _choices(out, column, language, f"{letter}2:{letter}{last_row}")


def _cell_value(column: Column, value: Any, language: str) -> Any:  # noqa: ANN401
    if value is None:
        return None
    if column.kind == DAY and isinstance(value, str):
        return date.fromisoformat(value)
    if column.kind == FLAG:
        return ("có" if value else "không") if language == "vi" else ("yes" if value else "no")
    if column.kind == LIST:
        return "\n".join(value)
    if column.kind == POINT_LIST:
        if isinstance(value, str):
            return choice_label(column.choices, value, language)
        return "\n".join(value)
    if column.kind == CHOICE:
        return choice_label(column.choices, value, language)
    return value


def _format(cell, column: Column) -> None:  # noqa: ANN001
    if isinstance(cell.value, str) and cell.value.startswith("="):
        cell.data_type = "s"  # a text of the plan, never a formula the spreadsheet would run
    if column.kind == DAY:
        cell.number_format = DAY_FORMAT
    elif column.kind == TIME:
        cell.number_format = TIME_FORMAT
    elif column.kind in (TEXT, LONG_TEXT, LIST, POINT_LIST):
        cell.number_format = "@"  # text: Excel keeps "08" or "1/10" as typed
        if column.kind != TEXT:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _style_header(out, count: int) -> None:  # noqa: ANN001
    for index in range(1, count + 1):
        cell = out.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    out.freeze_panes = "A2"


def _choices(out, column: Column, language: str, cells: str) -> None:  # noqa: ANN001
    words = [choice_label(column.choices, value, language) for value in CHOICES[column.choices]]
    validation = DataValidation(type="list", formula1=f'"{",".join(words)}"', allow_blank=True)
    out.add_data_validation(validation)
    validation.add(cells)


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """Where a value was read: the sheet's name as the workbook spells it, row, header."""

    sheet: str
    row: int | None = None
    column: str = ""


@dataclass
class _Reading:
    """What reading a workbook found: plan data, where each path came from, cell problems."""

    source: str
    language: str = "vi"  # the language of the workbook's sheet names (for missing ones)
    data: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, Cell] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # Paths whose problem the reader already reported (the loader's would repeat it).
    reported: set[str] = field(default_factory=set)
    missing_columns: set[tuple[str, str]] = field(default_factory=set)  # (section, key)

    def report(self, path: str, cell: Cell, code: str, **params: Any) -> None:  # noqa: ANN401
        """Record a problem the reader found, told by its code (English from the catalog)."""
        problem = Problem(path, english(code, params), None, self.source, code, params)
        self.problems.append(replace(problem, sheet=cell.sheet, row=cell.row, column=cell.column))
        if path:
            self.reported.add(path)

    def locate(self, problem: Problem) -> Problem:
        """Return a loader problem with the cell its path came from."""
        path = problem.path
        while path:
            cell = self.cells.get(path)
            if cell is not None:
                return replace(problem, sheet=cell.sheet, row=cell.row, column=cell.column)
            path = _parent(path)
        return problem

    def repeats(self, problem: Problem) -> bool:
        """Say whether the reader already reported this loader problem in its own words."""
        if problem.path in self.reported:
            return True
        section, _, rest = problem.path.partition("[")
        key = rest.partition(".")[2]
        return problem.code.startswith("required_") and (section, key) in self.missing_columns


def plan_from_workbook(content: bytes, source: str = "<workbook>") -> Plan:
    """Read a plan from xlsx bytes; raise PlanError with every problem and its cell.

    Raise NotAWorkbook if the content is not a workbook that can be read at all.
    """
    reading = read_workbook(content, source)
    try:
        plan = plan_from_dict(reading.data, source)
    except PlanError as error:
        found = [reading.locate(p) for p in error.problems if not reading.repeats(p)]
        raise PlanError(_in_sheet_order(reading.problems + found)) from None
    if reading.problems:
        raise PlanError(_in_sheet_order(reading.problems))
    return plan


def _in_sheet_order(problems: list[Problem]) -> list[Problem]:
    order = {sheet.section: index for index, sheet in enumerate(SHEETS)}

    def key(problem: Problem) -> tuple:
        section = re.split(r"[.\[]", problem.path, maxsplit=1)[0]
        return (order.get(section, -1), problem.row or 0)

    return sorted(problems, key=key)


def read_workbook(content: bytes, source: str = "<workbook>") -> _Reading:
    """Read a workbook's sheets into plan data, keeping where each value came from."""
    book = _open(content)
    reading = _Reading(source)
    try:
        found: dict[str, Any] = {}
        for worksheet in book.worksheets:
            sheet = sheet_named(worksheet.title)
            if sheet is None:
                continue  # a sheet of the organizer's own (notes, a draft): not the plan's
            if sheet.section in found:
                other = found[sheet.section].title
                reading.report(sheet.section, Cell(worksheet.title), "sheet_repeated", other=other)
                continue
            found[sheet.section] = worksheet
            if len(found) == 1:
                reading.language = "en" if worksheet.title == sheet.en else "vi"
        if not found:
            names = ", ".join(f"{sheet.vi} ({sheet.en})" for sheet in SHEETS)
            reading.report("", Cell(""), "no_plan_sheets", sheets=names)
            return reading
        for sheet in SHEETS:
            worksheet = found.get(sheet.section)
            if worksheet is None:
                if sheet.required:
                    name = sheet.name(reading.language)
                    reading.report(sheet.section, Cell(name), "sheet_missing", sheet=name)
                continue
            if sheet.is_record:
                _read_event(reading, worksheet)
            else:
                rows = _rows(worksheet, MAX_COLUMNS, _most_rows(sheet))
                _read_table(reading, sheet, worksheet.title, rows)
    finally:
        book.close()
    return reading


def _open(content: bytes):  # noqa: ANN202
    """Open xlsx bytes with openpyxl, read-only, once the archive looks safe to open."""
    if len(content) > MAX_WORKBOOK_BYTES:
        limit = MAX_WORKBOOK_BYTES // (1024 * 1024)
        raise NotAWorkbook(f"is larger than {limit} MB; a plan's workbook is far smaller")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise NotAWorkbook(
            "is not an xlsx workbook; save the spreadsheet as an Excel workbook (.xlsx)"
        ) from None
    if len(parts) > MAX_PARTS or sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES:
        raise NotAWorkbook("unpacks to far more than a plan's workbook holds; it is refused")
    if "xl/workbook.xml" not in {part.filename for part in parts}:
        raise NotAWorkbook("is a zip archive but not an xlsx workbook")
    try:
        return openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds on broken files
        raise NotAWorkbook(f"cannot be read as an xlsx workbook ({type(error).__name__})") from None


def _read_event(reading: _Reading, worksheet) -> None:  # noqa: ANN001
    event: dict[str, Any] = {}
    reading.data["event"] = event
    reading.cells["event"] = Cell(worksheet.title)
    value_header = ""
    rows_seen: dict[str, int] = {}
    parts: dict[str, Any] = {}
    for row_number, row in enumerate(_rows(worksheet, 2, MAX_EVENT_ROWS), start=1):
        label, value = (row + (None, None))[:2]
        if _blank(label) and _blank(value):
            continue
        label_text = str(label).strip() if not _blank(label) else ""
        if row_number == 1 and _is_event_header(label_text):
            value_header = str(value).strip() if not _blank(value) else ""
            continue
        column = column_named(EVENT_SHEET, label_text) if label_text else None
        cell = Cell(worksheet.title, row_number, value_header or _value_header(reading))
        if column is None:
            known = ", ".join(c.label(reading.language) for c in EVENT_SHEET.columns)
            where = replace(cell, column="")
            reading.report("event", where, "unknown_field", field=label_text, known=known)
            continue
        if column.key in rows_seen:
            first = rows_seen[column.key]
            reading.report(f"event.{column.key}", cell, "field_repeated", other=first)
            continue
        rows_seen[column.key] = row_number
        path = "event.starts_at" if column.key in ("date", "time") else f"event.{column.key}"
        if column.key == "date" or path not in reading.cells:
            reading.cells[path] = cell
        converted = _convert(reading, path, cell, column, value)
        if column.key in ("date", "time"):
            parts[column.key] = converted  # None: blank or reported
        elif converted is not None:
            _store(event, column.key, converted)
    if "event.starts_at" in reading.reported:
        pass  # a date or time that cannot be read: said already
    elif parts.get("date") and parts.get("time"):
        event["starts_at"] = datetime.combine(
            parts["date"], parts["time"], tzinfo=_zone(event.get("timezone"))
        )
    elif parts.get("date") or parts.get("time"):  # one of the two: say which is missing
        lacking = "time" if parts.get("date") else "date"
        label = next(c for c in EVENT_SHEET.columns if c.key == lacking).label(reading.language)
        where = reading.cells["event.starts_at"]
        reading.report("event.starts_at", where, "starts_at_incomplete", field=label)


def _is_event_header(label: str) -> bool:
    return normalized(label) in {normalized(word) for pair in EVENT_HEADERS[:1] for word in pair}


def _value_header(reading: _Reading) -> str:
    return EVENT_HEADERS[1][0] if reading.language == "vi" else EVENT_HEADERS[1][1]


def _zone(name: Any) -> ZoneInfo:  # noqa: ANN401
    # An unknown zone is reported by the loader; the time is then read as UTC meanwhile.
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else UTC
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def _read_table(reading: _Reading, sheet: Sheet, title: str, rows: Iterator[tuple]) -> None:
    """Read a table sheet's rows (headers first) into its section of the plan data."""
    headers = next(rows, ())
    columns: dict[int, Column] = {}
    header_of: dict[str, str] = {}
    for index, header in enumerate(headers):
        if _blank(header):
            continue
        text = str(header).strip()
        column = column_named(sheet, text)
        cell = Cell(title, 1, text)
        if column is None:
            known = ", ".join(c.label(reading.language) for c in sheet.columns)
            reading.report(sheet.section, cell, "unknown_column", known=known)
        elif column.key in header_of:
            reading.report(sheet.section, cell, "column_repeated", column=header_of[column.key])
        else:
            columns[index] = column
            header_of[column.key] = text
    for column in sheet.columns:
        if column.required and column.key not in header_of:
            label = column.label(reading.language)
            where = Cell(title, 1, label)
            reading.report(sheet.section, where, "column_missing", column=label)
            reading.missing_columns.add((sheet.section, column.key))
    reading.cells[sheet.section] = Cell(title)
    records: list[Any] = []
    limit = MAX_ENTRIES[sheet.section]
    for row_number, row in enumerate(rows, start=2):
        if row_number > limit + SPARE_ROWS + 1:
            reading.report(sheet.section, Cell(title), "too_many_rows", max=limit)
            break
        values = {index: row[index] for index in columns if index < len(row)}
        if all(_blank(value) for value in values.values()):
            continue  # a blank row between records
        index = len(records)
        base = f"{sheet.section}[{index}]"
        reading.cells[base] = Cell(title, row_number)
        record: dict[str, Any] = {}
        for position, column in columns.items():
            path = base if sheet.section == "slogans" else f"{base}.{column.key}"
            cell = Cell(title, row_number, header_of[column.key])
            reading.cells[path] = cell
            converted = _convert(reading, path, cell, column, values.get(position))
            if converted is not None:
                _store(record, column.key, converted)
        records.append(record.get("slogan") if sheet.section == "slogans" else record)
    reading.data[sheet.section] = records


def _most_rows(sheet: Sheet) -> int:
    """Return how many rows of a table sheet are read at most (one more than may be used)."""
    return 1 + MAX_ENTRIES[sheet.section] + SPARE_ROWS + 1


def _rows(worksheet, columns: int, most: int):  # noqa: ANN001, ANN202
    """Yield a sheet's rows as tuples of values, at most ``most`` rows of ``columns`` cells."""
    for count, row in enumerate(worksheet.iter_rows(max_col=columns, values_only=True)):
        if count >= most:
            return
        yield tuple(row)


def _lookup(record: dict[str, Any], key: str) -> Any:  # noqa: ANN401
    """Return a record's value of a column's key: conference.url is url of conference."""
    outer, _, inner = key.partition(".")
    value = record.get(outer)
    if inner:
        return value.get(inner) if isinstance(value, dict) else None
    return value


def _store(record: dict[str, Any], key: str, value: Any) -> None:  # noqa: ANN401
    """Put a cell's value into a record under a column's key (conference.url too)."""
    outer, _, inner = key.partition(".")
    if inner:
        record.setdefault(outer, {})[inner] = value
    else:
        record[outer] = value


def _blank(value: Any) -> bool:  # noqa: ANN401
    return value is None or (isinstance(value, str) and not value.strip())


def _parent(path: str) -> str:
    """Return the path one step up: agenda[2].title -> agenda[2] -> agenda -> ""."""
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


# -- cells to plan values -------------------------------------------------------------------------


def _convert(reading: _Reading, path: str, cell: Cell, column: Column, value: Any) -> Any:  # noqa: ANN401
    """Return a cell's value as the plan file would hold it; None for a blank or bad cell."""
    if _blank(value):
        return None
    if isinstance(value, str):
        value = value.strip()
    kind = column.kind
    if kind in (TEXT, LONG_TEXT):
        return _as_text(value)
    if kind == WHOLE:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return value  # the loader says what a whole number of minutes must be
    if kind == FLAG:
        return _as_flag(value)
    if kind == LIST:
        if not isinstance(value, str):
            return [_as_text(value)]
        lines = value.splitlines() if "\n" in value else value.split(";")
        return [line.strip() for line in lines if line.strip()]
    if kind == POINT_LIST:
        group = choice_value(column.choices, str(value))
        if group is not None:
            return group
        text = str(_as_text(value))
        separated = re.split(r"[\n;,]", text)
        return [entry.strip() for entry in separated if entry.strip()]
    if kind == CHOICE:
        chosen = choice_value(column.choices, str(value))
        if chosen is None:
            reading.report(path, cell, "cell_not_choice", choices=column.choices)
        return chosen
    if kind == DAY:
        day = _as_day(value)
        if day is None:
            reading.report(path, cell, "cell_not_date", value=str(value))
        return day
    if kind == TIME:
        moment = _as_time(value)
        if moment is None:
            reading.report(path, cell, "cell_not_time", value=str(value))
        return moment
    raise ValueError(f"no reading for cells of kind {kind!r}")


def _as_text(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, bool):
        return value  # the loader says a text is wanted
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed where text belongs: 12, not 12.0
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _as_flag(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = normalized(value)
        if word in YES:
            return True
        if word in NO:
            return False
    return value  # the loader says yes or no is wanted


def _as_day(value: Any) -> date | None:  # noqa: ANN401
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2_958_466:
        try:
            return from_excel(value).date()  # a date cell read as its serial number
        except (ValueError, OverflowError):
            return None
    if not isinstance(value, str):
        return None
    try:
        match = DAY_TEXT.fullmatch(value)
        if match:
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day)
        match = ISO_DAY_TEXT.fullmatch(value)
        if match:
            year, month, day = (int(part) for part in match.groups())
            return date(year, month, day)
    except ValueError:
        return None  # 31/02/2021
    return None


def _as_time(value: Any) -> time | None:  # noqa: ANN401
    if isinstance(value, datetime):
        return value.time().replace(tzinfo=None)
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    if isinstance(value, timedelta) and timedelta(0) <= value < timedelta(days=1):
        return (datetime.min + value).time()
    if isinstance(value, float | int) and not isinstance(value, bool) and 0 <= value < 1:
        seconds = round(value * 24 * 3600)
        return (datetime.min + timedelta(seconds=seconds)).time() if seconds < 86400 else None
    if not isinstance(value, str):
        return None
    match = TIME_TEXT.fullmatch(value)
    if not match:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    return time(hours, minutes, seconds)


# -- the programme alone, as CSV ---------------------------------------------------------------

AGENDA_SHEET = SHEETS_BY_SECTION["agenda"]
CSV_DELIMITERS = ",;\t"  # Excel writes ";" where the decimal separator is a comma
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def agenda_csv(plan: Plan, language: str) -> str:
    """Return the programme as CSV text with a byte-order mark (Excel then reads UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.label(language) for column in AGENDA_SHEET.columns])
    for item in plan_to_dict(plan)["agenda"]:
        writer.writerow(
            [_csv_value(column, item.get(column.key), language) for column in AGENDA_SHEET.columns]
        )
    return "\ufeff" + out.getvalue()


def _csv_value(column: Column, value: Any, language: str) -> str:  # noqa: ANN401
    value = _cell_value(column, value, language)
    text = "" if value is None else str(value)
    # A spreadsheet opening the CSV would run a cell starting with one of these as a formula;
    # the apostrophe keeps it text, and reading the CSV back takes it off again.
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _uncsv(row: list[str]) -> tuple[str, ...]:
    return tuple(
        cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell
        for cell in row
    )


def plan_with_agenda_csv(plan: Plan, text: str, source: str = "<agenda.csv>") -> Plan:
    """Return ``plan`` with its programme replaced by the CSV's; raise PlanError like a workbook.

    The problems name the row and the column of the CSV (and, as its sheet, the programme's
    sheet name in the CSV's language).
    """
    text = text.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = max(CSV_DELIMITERS, key=first_line.count)
    rows = (_uncsv(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    reading = _Reading(source)
    headers = [normalized(word) for word in first_line.split(delimiter)]
    reading.language = "en" if normalized(AGENDA_SHEET.columns[1].en) in headers else "vi"
    data = plan_to_dict(plan)
    reading.data = data
    limited = _first(rows, _most_rows(AGENDA_SHEET))
    _read_table(reading, AGENDA_SHEET, AGENDA_SHEET.name(reading.language), limited)
    try:
        edited = plan_from_dict(data, source)
    except PlanError as error:
        found = [reading.locate(p) for p in error.problems if not reading.repeats(p)]
        raise PlanError(_in_sheet_order(reading.problems + found)) from None
    if reading.problems:
        raise PlanError(_in_sheet_order(reading.problems))
    return edited


def _first(rows: Iterator[tuple], most: int) -> Iterator[tuple]:
    for count, row in enumerate(rows):
        if count >= most:
            return
        yield row
