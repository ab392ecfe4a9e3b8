"""The spreadsheet layout of a plan: which sheet holds which section, and its columns.

One sheet per section of the plan file, named and headed in Vietnamese or English (either
is recognised when a workbook is read, and so is the plan file's own key). The event is one
record, so its sheet lists one field per row (a label and its value); every other sheet is
a table with one record per row. A column says which plan key it fills and how a cell's
value becomes that key's value (``CellKind``); the plan loader checks the result as it
checks a plan file. A field added to the plan file gets a column here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from .schema import ACTIVITY_FIELDS, AGENDA_FIELDS, DEADLINE_FIELDS, EVENT_FIELDS, POINT_FIELDS

# How a cell is read and written.
TEXT = "text"  # one line
LONG_TEXT = "long_text"  # may span several lines
WHOLE = "whole"  # a whole number
FLAG = "flag"  # yes/no
DAY = "day"  # a date: a date cell, 01/10/2021 or 2021-10-01
TIME = "time"  # a time of day: a time cell, 08:00
LIST = "list"  # several texts, one per line (or separated by ";")
CHOICE = "choice"  # one word of a fixed set, shown in the sheet's language
POINT_LIST = "point_list"  # point ids, one per line (or ";" or ","), or a group of CHOICES


@dataclass(frozen=True)
class Column:
    """One column (or, on the event's sheet, one row): the plan key it fills, its labels."""

    # The plan file's key; "conference.url" is the key url of the mapping conference, and
    # the event's "date" and "time" make its starts_at.
    key: str
    vi: str
    en: str
    kind: str = TEXT
    choices: str = ""  # for CHOICE: the name of its set in CHOICES
    required: bool = False

    def label(self, language: str) -> str:
        """Return the column's header in ``language``."""
        return self.vi if language == "vi" else self.en


@dataclass(frozen=True)
class Sheet:
    """One sheet: the plan section it holds, its names, and its columns."""

    section: str  # the plan file's key: event, points, agenda...
    vi: str
    en: str
    columns: tuple[Column, ...]
    required: bool = False

    def name(self, language: str) -> str:
        """Return the sheet's name in ``language``."""
        return self.vi if language == "vi" else self.en

    @property
    def is_record(self) -> bool:
        """Say whether the sheet lists one record's fields down its rows (the event)."""
        return self.section == "event"


# The words a CHOICE column shows, by set: plan value -> (Vietnamese, English).
CHOICES: dict[str, dict[str, tuple[str, str]]] = {
    "point_kind": {"room": ("phòng họp", "meeting room"), "ward": ("phường", "ward")},
    "delivery_group": {
        "all_wards": ("tất cả phường", "all wards"),
        "all": ("tất cả điểm cầu", "all points"),
    },
    "event_form": {
        "online": ("trực tuyến", "online"),
        "hybrid": ("kết hợp", "hybrid"),
        "in-person": ("trực tiếp", "in person"),
    },
}
YES = ("có", "yes", "x", "true", "đúng", "1")
NO = ("không", "no", "false", "sai", "0")

# The video conference: the event's, and a point's own (which replaces it for that point).
CONFERENCE_COLUMNS = (
    Column("conference.platform", "Nền tảng hội nghị", "Conference platform"),
    Column("conference.url", "Liên kết hội nghị", "Conference link"),
    Column("conference.meeting_id", "Mã cuộc họp", "Meeting id"),
    Column("conference.passcode", "Mật khẩu cuộc họp", "Passcode"),
)

EVENT_SHEET = Sheet(
    "event",
    "Sự kiện",
    "Event",
    (
        Column("slug", "Mã sự kiện", "Event id", required=True),
        Column("title", "Tên sự kiện", "Title", required=True),
        Column("theme", "Chủ đề", "Theme"),
        Column("reference", "Số văn bản", "Reference"),
        Column("organizer", "Cơ quan tổ chức", "Organizer"),
        Column("standing_body", "Đơn vị thường trực", "Standing body"),
        Column("organizer_email", "Thư điện tử ban tổ chức", "Organizer e-mail"),
        Column("form", "Hình thức", "Form", CHOICE, "event_form"),
        Column("description", "Mô tả", "Description", LONG_TEXT),
        Column("date", "Ngày", "Date", DAY, required=True),
        Column("time", "Giờ bắt đầu", "Start time", TIME, required=True),
        Column("timezone", "Múi giờ", "Time zone", required=True),
        Column("reminder_minutes", "Nhắc trước (phút)", "Reminder (minutes)", WHOLE),
        Column("warn_minutes", "Báo sắp hết giờ (phút)", "Warning (minutes)", WHOLE),
        Column("calendar_domain", "Tên miền lịch", "Calendar domain"),
        *CONFERENCE_COLUMNS,
        Column("livestream_url", "Liên kết xem trực tiếp", "Livestream link"),
    ),
    required=True,
)
# The event sheet's two columns: the field's label, and its value.
EVENT_HEADERS = (("Trường", "Field"), ("Giá trị", "Value"))

SHEETS: tuple[Sheet, ...] = (
    EVENT_SHEET,
    Sheet(
        "points",
        "Điểm cầu",
        "Points",
        (
            Column("id", "Mã", "Id", required=True),
            Column("name", "Tên điểm cầu", "Name", required=True),
            Column("kind", "Loại", "Kind", CHOICE, "point_kind", required=True),
            Column("group", "Nhóm", "Group"),  # e.g. Tỉnh Lâm Đồng / Xã Đạ Huoai
            Column("address", "Địa chỉ", "Address"),
            Column("attendees", "Thành phần tham dự", "Attendees", LIST),
            Column("contact_name", "Người liên hệ", "Contact"),
            Column("contact_email", "Thư điện tử liên hệ", "Contact e-mail"),
            *CONFERENCE_COLUMNS,  # the point's own conference, replacing the event's
        ),
        required=True,
    ),
    Sheet(
        "agenda",
        "Chương trình",
        "Programme",
        (
            Column("id", "Mã", "Id", required=True),
            Column("title", "Nội dung", "Title", required=True),
            Column("speaker", "Người trình bày", "Speaker"),
            Column("prepared_by", "Đơn vị chuẩn bị", "Prepared by"),
            Column("point", "Điểm cầu", "Point"),
            Column("planned_minutes", "Số phút", "Minutes", WHOLE, required=True),
            Column("minutes_estimated", "Số phút ước tính", "Minutes estimated", FLAG),
            Column("notes", "Ghi chú", "Notes", LONG_TEXT),
            Column("warn_minutes", "Báo sắp hết giờ (phút)", "Warning (minutes)", WHOLE),
        ),
        required=True,
    ),
    Sheet(
        "activities",
        "Hoạt động",
        "Activities",
        (
            Column("id", "Mã", "Id", required=True),
            Column("title", "Tên hoạt động", "Title", required=True),
            Column("starts_on", "Từ ngày", "Starts on", DAY, required=True),
            Column("ends_on", "Đến ngày", "Ends on", DAY),
            Column("description", "Mô tả", "Description", LONG_TEXT),
        ),
    ),
    Sheet(
        "deadlines",
        "Hạn nộp",
        "Deadlines",
        (
            Column("id", "Mã", "Id", required=True),
            Column("title", "Nội dung", "Title", required=True),
            Column("due_on", "Hạn", "Due on", DAY, required=True),
            Column("responsible", "Đơn vị thực hiện", "Responsible"),
            Column("description", "Mô tả", "Description", LONG_TEXT),
            Column(
                "points", "Điểm cầu phải nộp", "Delivering points", POINT_LIST, "delivery_group"
            ),
        ),
    ),
    Sheet(
        "slogans",
        "Khẩu hiệu",
        "Slogans",
        (Column("slogan", "Khẩu hiệu", "Slogan", required=True),),
    ),
)


def in_plan_format(section: str, column: Column) -> bool:
    """Say whether the plan format has the key a column fills (so the loader takes it)."""
    if section == "slogans":
        return True
    key = column.key.partition(".")[0]
    if section == "event" and key in ("date", "time"):
        key = "starts_at"
    return key in {field.key for field in SECTION_FIELDS[section]}


SECTION_FIELDS = {
    "event": EVENT_FIELDS,
    "points": POINT_FIELDS,
    "agenda": AGENDA_FIELDS,
    "activities": ACTIVITY_FIELDS,
    "deadlines": DEADLINE_FIELDS,
}
# A column whose key the plan format does not have (yet) is left out, so the layout may
# name a field another part of runsheet adds (a point's group) before it is there.
SHEETS = tuple(
    replace(sheet, columns=tuple(c for c in sheet.columns if in_plan_format(sheet.section, c)))
    for sheet in SHEETS
)
SHEETS_BY_SECTION = {sheet.section: sheet for sheet in SHEETS}
EVENT_SHEET = SHEETS_BY_SECTION["event"]


def normalized(text: str) -> str:
    """Return a name as compared: NFC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def sheet_named(name: str) -> Sheet | None:
    """Return the sheet a workbook's sheet name stands for, in either language, or None."""
    wanted = normalized(name)
    for sheet in SHEETS:
        if wanted in (normalized(sheet.vi), normalized(sheet.en), sheet.section):
            return sheet
    return None


def column_named(sheet: Sheet, header: str) -> Column | None:
    """Return the column a header stands for, in either language (or the plan key), or None."""
    wanted = normalized(header)
    for column in sheet.columns:
        if wanted in (normalized(column.vi), normalized(column.en), column.key):
            return column
    return None


def choice_label(choices: str, value: str, language: str) -> str:
    """Return the word a CHOICE cell shows for a plan value."""
    words = CHOICES[choices].get(value)
    if words is None:
        return value
    return words[0] if language == "vi" else words[1]


def choice_value(choices: str, text: str) -> str | None:
    """Return the plan value a CHOICE cell's word stands for (either language), or None."""
    wanted = normalized(text)
    for value, words in CHOICES[choices].items():
        if wanted in (value, *(normalized(word) for word in words)):
            return value
    return None
