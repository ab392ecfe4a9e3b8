"""Plans as spreadsheets: xlsx workbooks (openpyxl) and the programme as CSV.

The workbook is written in Vietnamese or English and read back in either; every problem
names its sheet, row and column; dates and times work as cells and as text; hostile
uploads are refused before they cost anything.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, time

import openpyxl
import pytest
import requests

from runsheet.plans import PlanError, default_plan, plan_from_dict, plan_to_dict
from runsheet.plans import workbook as workbook_module
from runsheet.plans.workbook import (
    WORKBOOK_TYPE,
    NotAWorkbook,
    agenda_csv,
    plan_from_workbook,
    plan_with_agenda_csv,
    workbook_bytes,
)
from tests.live_server import Crowd, serve

from .conftest import Caller


def book_of(content: bytes) -> openpyxl.Workbook:
    """Open a workbook to change it, as an organizer's spreadsheet program would."""
    return openpyxl.load_workbook(io.BytesIO(content))


def bytes_of(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def event_row(sheet, label: str) -> int:  # noqa: ANN001
    """Return the row of the event sheet that holds the field with this label."""
    for row in sheet.iter_rows(min_row=1):
        if row[0].value == label:
            return row[0].row
    raise AssertionError(f"no row {label!r}")


def column_of(sheet, header: str) -> int:  # noqa: ANN001
    for cell in sheet[1]:
        if cell.value == header:
            return cell.column
    raise AssertionError(f"no column {header!r}")


def problems_of(content: bytes) -> list:
    with pytest.raises(PlanError) as raised:
        plan_from_workbook(content, "plan.xlsx")
    return raised.value.problems


def download(caller: Caller, query: str = "") -> bytes:
    response = caller.client.get(f"/api/v1/plan.xlsx{query}", headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == WORKBOOK_TYPE
    return response.data


def upload(caller: Caller, content: bytes, revision: int, lang: str = "en"):  # noqa: ANN201
    return caller.client.put(
        f"/api/v1/plan?expected_revision={revision}&lang={lang}",
        data=content,
        content_type=WORKBOOK_TYPE,
        headers=caller.headers,
    )


# -- the workbook, both ways ---------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_plan_written_as_a_workbook_reads_back_as_the_same_plan(language):
    plan = default_plan()
    assert plan_from_workbook(workbook_bytes(plan, language)) == plan


def test_the_sheets_and_headers_are_named_in_the_language_asked_for():
    vi = book_of(workbook_bytes(default_plan(), "vi"))
    en = book_of(workbook_bytes(default_plan(), "en"))
    assert vi.sheetnames == [
        "Sự kiện",
        "Điểm cầu",
        "Chương trình",
        "Hoạt động",
        "Hạn nộp",
        "Khẩu hiệu",
    ]
    assert en.sheetnames == ["Event", "Points", "Programme", "Activities", "Deadlines", "Slogans"]
    assert [c.value for c in vi["Chương trình"][1]][:6] == [
        "Mã",
        "Nội dung",
        "Người trình bày",
        "Đơn vị chuẩn bị",
        "Điểm cầu",
        "Số phút",
    ]
    assert "Minutes" in [c.value for c in en["Programme"][1]]
    assert vi["Điểm cầu"]["C2"].value == "phòng họp"
    assert en["Points"]["C4"].value == "ward"


def test_dates_and_times_are_written_as_date_and_time_cells():
    book = book_of(workbook_bytes(default_plan(), "vi"))
    event = book["Sự kiện"]
    day = event.cell(row=event_row(event, "Ngày"), column=2)
    start = event.cell(row=event_row(event, "Giờ bắt đầu"), column=2)
    assert day.is_date and day.value.date() == date(2021, 10, 1)
    assert start.value == time(8, 0)
    assert book["Hoạt động"]["C2"].is_date


def test_sheets_and_headers_are_recognised_in_either_language():
    book = book_of(workbook_bytes(default_plan(), "vi"))
    book["Chương trình"].title = "Programme"
    book["Programme"].cell(row=1, column=6).value = "Minutes"
    book["Điểm cầu"].cell(row=1, column=2).value = "name"  # the plan file's own key
    assert plan_from_workbook(bytes_of(book)) == default_plan()


@pytest.mark.parametrize(
    ("day", "start"),
    [
        ("01/10/2021", "08:30"),
        ("1/10/2021", "8:30"),
        ("2021-10-01", "8h30"),
        (datetime(2021, 10, 1), time(8, 30)),
        (date(2021, 10, 1), datetime(1900, 1, 1, 8, 30)),
        (44470, 8.5 / 24),  # the serial numbers Excel keeps behind date and time cells
    ],
)
def test_the_start_may_be_date_and_time_cells_or_text(day, start):
    book = book_of(workbook_bytes(default_plan(), "vi"))
    event = book["Sự kiện"]
    event.cell(row=event_row(event, "Ngày"), column=2).value = day
    event.cell(row=event_row(event, "Giờ bắt đầu"), column=2).value = start
    plan = plan_from_workbook(bytes_of(book))
    assert plan.event.starts_at.isoformat() == "2021-10-01T08:30:00+07:00"


def test_a_date_or_time_that_cannot_be_read_names_its_cell():
    book = book_of(workbook_bytes(default_plan(), "en"))
    event = book["Event"]
    row = event_row(event, "Start time")
    event.cell(row=row, column=2).value = "25:00"
    book["Activities"]["C3"] = "31/02/2021"
    problems = problems_of(bytes_of(book))
    assert [(p.sheet, p.row, p.column, p.code) for p in problems] == [
        ("Event", row, "Value", "cell_not_time"),
        ("Activities", 3, "Starts on", "cell_not_date"),
    ]
    assert str(problems[0]).startswith(
        f"plan.xlsx: Event, row {row}, column Value: event.starts_at"
    )


def test_a_bad_row_is_reported_with_sheet_row_and_column_and_every_problem():
    book = book_of(workbook_bytes(default_plan(), "vi"))
    agenda = book["Chương trình"]
    agenda.cell(row=5, column=column_of(agenda, "Số phút")).value = "mười"
    agenda.cell(row=6, column=column_of(agenda, "Nội dung")).value = None
    agenda.cell(row=7, column=column_of(agenda, "Điểm cầu")).value = "khong-co"
    book["Điểm cầu"]["C3"] = "hội trường"

    problems = problems_of(bytes_of(book))

    assert [(p.sheet, p.row, p.column, p.path) for p in problems] == [
        ("Điểm cầu", 3, "Loại", "points[1].kind"),
        ("Chương trình", 5, "Số phút", "agenda[3].planned_minutes"),
        ("Chương trình", 6, "Nội dung", "agenda[4].title"),
        ("Chương trình", 7, "Điểm cầu", "agenda[5].point"),
    ]


def test_blank_rows_between_records_are_skipped():
    book = book_of(workbook_bytes(default_plan(), "vi"))
    book["Chương trình"].insert_rows(4, amount=3)
    assert plan_from_workbook(bytes_of(book)).agenda == default_plan().agenda


def test_an_unknown_or_missing_column_is_reported_once_at_the_header():
    book = book_of(workbook_bytes(default_plan(), "en"))
    agenda = book["Programme"]
    agenda.cell(row=1, column=column_of(agenda, "Title")).value = "Titel"
    problems = problems_of(bytes_of(book))
    assert [(p.sheet, p.row, p.column, p.code) for p in problems] == [
        ("Programme", 1, "Titel", "unknown_column"),
        ("Programme", 1, "Title", "column_missing"),
    ]


def test_a_missing_sheet_is_named_and_sheets_of_ones_own_are_left_alone():
    book = book_of(workbook_bytes(default_plan(), "vi"))
    del book["Chương trình"]
    book.create_sheet("Ghi chú của tôi")["A1"] = "nháp"
    problems = problems_of(bytes_of(book))
    assert [(p.sheet, p.code) for p in problems] == [("Chương trình", "sheet_missing")]


def test_the_blank_template_has_every_sheet_and_header_and_no_records():
    book = book_of(workbook_bytes(None, "vi"))
    assert len(book.sheetnames) == 6
    assert book["Chương trình"].max_row == 1
    codes = {p.code for p in problems_of(workbook_bytes(None, "vi"))}
    assert {"required_missing", "section_empty"} <= codes


def test_a_filled_in_template_is_a_plan():
    book = book_of(workbook_bytes(None, "en"))
    event = book["Event"]
    for label, value in {
        "Event id": "le-khai-giang-2026",
        "Title": "Lễ khai giảng",
        "Date": "05/09/2026",
        "Start time": "07:30",
    }.items():
        event.cell(row=event_row(event, label), column=2).value = value
    book["Points"].append(["hoi-truong", "Hội trường", "meeting room"])
    book["Programme"].append(["chao-co", "Chào cờ", None, None, "hoi-truong", 10])
    plan = plan_from_workbook(bytes_of(book))
    assert plan.event.starts_at.isoformat() == "2026-09-05T07:30:00+07:00"
    assert plan.points[0].kind == "room"
    assert plan.agenda[0].point_id == "hoi-truong"


# -- hostile workbooks -------------------------------------------------------------------------


def test_content_that_is_no_workbook_is_refused_with_a_clear_reason():
    with pytest.raises(NotAWorkbook, match="not an xlsx workbook"):
        plan_from_workbook(b"name,title\n")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("hello.txt", "hi")
    with pytest.raises(NotAWorkbook, match="zip archive but not an xlsx"):
        plan_from_workbook(archive.getvalue())
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as out:
        out.writestr("xl/workbook.xml", "<not-xml")
    with pytest.raises(NotAWorkbook, match="cannot be read"):
        plan_from_workbook(broken.getvalue())


def test_a_workbook_that_unpacks_to_a_huge_size_is_refused_before_it_is_opened():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("xl/workbook.xml", "<workbook/>")
        out.writestr("xl/worksheets/sheet1.xml", b"\0" * (130 * 1024 * 1024))
    assert len(bomb.getvalue()) < 1024 * 1024
    with pytest.raises(NotAWorkbook, match="unpacks to far more"):
        plan_from_workbook(bomb.getvalue())


def test_a_sheet_is_never_read_beyond_the_rows_its_section_may_hold(monkeypatch):
    monkeypatch.setitem(workbook_module.MAX_ENTRIES, "slogans", 5)
    monkeypatch.setattr(workbook_module, "SPARE_ROWS", 3)
    book = book_of(workbook_bytes(default_plan(), "vi"))
    for n in range(50):
        book["Khẩu hiệu"].append([f"Khẩu hiệu {n}"])
    codes = [p.code for p in problems_of(bytes_of(book))]
    assert codes == ["too_many_rows"]


# -- over HTTP --------------------------------------------------------------------------------


def test_an_organizer_changes_a_title_and_a_time_in_the_workbook_and_the_state_shows_both(
    organizer, anonymous
):
    book = book_of(download(organizer))
    agenda = book["Chương trình"]
    agenda.cell(row=3, column=column_of(agenda, "Nội dung")).value = "Diễn văn khai mạc (mới)"
    event = book["Sự kiện"]
    event.cell(row=event_row(event, "Giờ bắt đầu"), column=2).value = time(8, 15)

    response = upload(organizer, bytes_of(book), 1)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["revision"] == 2
    state = anonymous.state()
    assert state["agenda"][1]["title"] == "Diễn văn khai mạc (mới)"
    assert state["event"]["starts_at"] == "2021-10-01T08:15:00+07:00"
    assert state["agenda"][0]["planned_start"] == "2021-10-01T08:15:00+07:00"


def test_a_workbook_with_a_bad_row_is_refused_naming_the_cell_and_changes_nothing(
    organizer, anonymous
):
    before = anonymous.state()
    book = book_of(download(organizer, "?lang=en"))
    agenda = book["Programme"]
    agenda.cell(row=5, column=column_of(agenda, "Minutes")).value = 0
    agenda.cell(row=2, column=column_of(agenda, "Title")).value = "Changed, but refused"

    english = upload(organizer, bytes_of(book), 1, "en")
    vietnamese = upload(organizer, bytes_of(book), 1, "vi")

    assert english.status_code == 422
    (problem,) = english.get_json()["problems"]
    assert problem == {
        "path": "agenda[3].planned_minutes",
        "code": "minutes_not_positive",
        "sheet": "Programme",
        "row": 5,
        "column": "Minutes",
        "message": "Programme, row 5, column Minutes: must be a whole number of minutes above 0",
    }
    assert vietnamese.get_json()["problems"][0]["message"] == (
        "Programme, dòng 5, cột Minutes: phải là số phút nguyên lớn hơn 0"
    )
    after = anonymous.state()
    assert after["agenda"] == before["agenda"]
    assert after["version"] == before["version"]


def test_the_workbook_and_its_template_are_for_the_organizer_only(mc, ward, anonymous, organizer):
    for caller, status in ((mc, 403), (ward, 403), (anonymous, 401)):
        assert caller.client.get("/api/v1/plan.xlsx", headers=caller.headers).status_code == status
        assert upload(caller, download(organizer), 1).status_code == status
    template = book_of(download(organizer, "?template=1&lang=en"))
    assert template.sheetnames[0] == "Event"
    assert template["Programme"].max_row == 1


def test_an_upload_that_is_no_workbook_or_too_large_is_refused(organizer):
    assert upload(organizer, b"hello", 1).status_code == 415
    assert upload(organizer, b"PK\x03\x04" + b"\0" * (9 * 1024 * 1024), 1).status_code == 413
    missing = organizer.client.put(
        "/api/v1/plan",
        data=download(organizer),
        content_type=WORKBOOK_TYPE,
        headers=organizer.headers,
    )
    assert missing.status_code == 400
    assert missing.get_json()["field"] == "expected_revision"


def test_a_workbook_saved_unchanged_makes_no_revision_and_an_older_one_is_stale(organizer):
    content = download(organizer)
    unchanged = upload(organizer, content, 1)
    assert unchanged.status_code == 200
    assert unchanged.get_json()["revision"] == 1
    book = book_of(content)
    book["Khẩu hiệu"].append(["Một khẩu hiệu nữa"])
    assert upload(organizer, bytes_of(book), 1).get_json()["revision"] == 2
    stale = upload(organizer, bytes_of(book), 1)
    assert stale.status_code == 409
    assert stale.get_json()["revision"] == 2


# -- the programme as CSV ----------------------------------------------------------------------


def test_the_programme_csv_is_utf8_with_a_byte_order_mark(organizer):
    response = organizer.client.get("/api/v1/plan/agenda.csv", headers=organizer.headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Mã,Nội dung,Người trình bày")
    assert "Tuyên bố lý do" in text
    assert len(text.splitlines()) == 1 + len(default_plan().agenda)


def test_the_programme_csv_reads_back_into_the_same_plan_in_either_language():
    plan = default_plan()
    for language in ("vi", "en"):
        assert plan_with_agenda_csv(plan, agenda_csv(plan, language)) == plan


def test_a_csv_upload_replaces_the_programme_and_keeps_the_rest(organizer, anonymous):
    plan = default_plan()
    rows = agenda_csv(plan, "en").splitlines()
    rows[2] = rows[2].replace(",15,", ",20,")
    rows.append("phan-moi;Phần mới;;;;5".replace(";", ","))
    body = ("\r\n".join(rows) + "\r\n").encode("utf-8")
    response = organizer.client.put(
        "/api/v1/plan/agenda.csv?expected_revision=1",
        data=body,
        content_type="text/csv",
        headers=organizer.headers,
    )
    assert response.status_code == 200, response.get_json()
    state = anonymous.state()
    assert state["agenda"][1]["planned_minutes"] == 20
    assert state["agenda"][-1]["title"] == "Phần mới"
    assert [p["id"] for p in state["points"]] == [p.id for p in plan.points]


def test_a_csv_written_with_semicolons_or_tabs_is_read_too():
    plan = default_plan()
    rows = list(csv.reader(io.StringIO(agenda_csv(plan, "vi").removeprefix("\ufeff"))))
    for delimiter in ";\t":
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter).writerows(rows)
        assert plan_with_agenda_csv(plan, out.getvalue()).agenda == plan.agenda


def test_a_bad_csv_row_names_its_row_and_column(organizer):
    rows = agenda_csv(default_plan(), "vi").splitlines()
    rows[3] = rows[3].replace(",10,", ",-1,")
    response = organizer.client.put(
        "/api/v1/plan/agenda.csv?expected_revision=1&lang=vi",
        data="\r\n".join(rows).encode("utf-8"),
        content_type="text/csv",
        headers=organizer.headers,
    )
    assert response.status_code == 422
    (problem,) = response.get_json()["problems"]
    assert (problem["sheet"], problem["row"], problem["column"]) == ("Chương trình", 4, "Số phút")
    assert problem["message"].startswith("Chương trình, dòng 4, cột Số phút: ")
    latin1 = organizer.client.put(
        "/api/v1/plan/agenda.csv?expected_revision=1",
        data="Mã,Tên".encode("latin-1") + b"\xff",
        content_type="text/csv",
        headers=organizer.headers,
    )
    assert latin1.status_code == 415


# -- the command line --------------------------------------------------------------------------


def test_runsheet_exports_and_loads_a_workbook(runner, tmp_path):
    assert runner.invoke("init").exit_code == 0
    path = tmp_path / "plan.xlsx"
    result = runner.invoke("export", "--out", str(path), "--lang", "en")
    assert result.exit_code == 0, result.output
    book = book_of(path.read_bytes())
    assert book.sheetnames[2] == "Programme"
    book["Programme"]["B2"] = "Opening words"
    path.write_bytes(bytes_of(book))

    loaded = runner.invoke("load", str(path))

    assert loaded.exit_code == 0, loaded.output
    assert "Updated event" in loaded.output
    exported = runner.invoke("export")
    assert "Opening words" in exported.output


def test_runsheet_load_names_the_cell_of_a_bad_workbook(runner, tmp_path):
    path = tmp_path / "bad.xlsx"
    book = book_of(workbook_bytes(default_plan(), "vi"))
    book["Chương trình"]["F3"] = 0
    path.write_bytes(bytes_of(book))
    result = runner.invoke("load", str(path))
    assert result.exit_code != 0
    assert "Chương trình, row 3, column Số phút: agenda[1].planned_minutes" in result.output
    (tmp_path / "not.xlsx").write_text("plain text")
    assert "not an xlsx workbook" in runner.invoke("load", str(tmp_path / "not.xlsx")).output


# -- every screen at once ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_socket_client_receives_the_new_state_after_a_workbook_upload(database_url):
    server = serve(database_url)
    live = next(server)
    crowd = Crowd(live)
    try:
        mc = crowd.mc()
        viewer = crowd.viewer()
        version = mc.state["version"]
        headers = {"Authorization": f"Bearer {live.tokens['organizer']}"}
        content = requests.get(f"{live.url}/api/v1/plan.xlsx", headers=headers, timeout=10).content
        book = book_of(content)
        book["Chương trình"]["B2"] = "Khai mạc (đã sửa)"
        response = requests.put(
            f"{live.url}/api/v1/plan?expected_revision=1",
            data=bytes_of(book),
            headers={**headers, "Content-Type": WORKBOOK_TYPE},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        for user in (mc, viewer):
            state = user.wait_for_version(version + 1)
            assert state["agenda"][0]["title"] == "Khai mạc (đã sửa)"
    finally:
        crowd.close()
        server.close()
    assert plan_to_dict(default_plan())["agenda"][0]["title"] != "Khai mạc (đã sửa)"


# -- the conference ----------------------------------------------------------------------------


def _with_conference():  # noqa: ANN202
    data = plan_to_dict(default_plan())
    data["event"]["conference"] = {
        "platform": "Zoom",
        "url": "https://zoom.us/j/0123456789",
        "meeting_id": "012 345 6789",
        "passcode": "kx8472",
    }
    data["event"]["livestream_url"] = "https://www.youtube.com/live/khai-mac"
    data["points"][3]["conference"] = {"url": "https://meet.google.com/abc-defg-hij"}
    return plan_from_dict(data)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_conference_and_a_points_own_travel_in_the_workbook(language):
    plan = _with_conference()
    assert plan_from_workbook(workbook_bytes(plan, language)) == plan


def test_a_meeting_id_typed_as_a_number_stays_its_digits_and_a_bad_link_names_its_cell():
    book = book_of(workbook_bytes(_with_conference(), "vi"))
    event = book["Sự kiện"]
    event.cell(row=event_row(event, "Mã cuộc họp"), column=2).value = 987654
    link_row = event_row(event, "Liên kết hội nghị")
    points = book["Điểm cầu"]
    points.cell(row=5, column=column_of(points, "Liên kết hội nghị")).value = "meet dot google"
    event.cell(row=link_row, column=2).value = "ftp://example.org/x"
    problems = problems_of(bytes_of(book))
    assert [(p.sheet, p.row, p.column, p.path, p.code) for p in problems] == [
        ("Sự kiện", link_row, "Giá trị", "event.conference.url", "url_scheme"),
        ("Điểm cầu", 5, "Liên kết hội nghị", "points[3].conference.url", "url_spaces"),
    ]
    event.cell(row=link_row, column=2).value = "https://zoom.us/j/1"
    points.cell(row=5, column=column_of(points, "Liên kết hội nghị")).value = None
    assert plan_from_workbook(bytes_of(book)).event.conference.meeting_id == "987654"


def test_the_passcode_is_shown_to_the_organizer_only(organizer, mc, anonymous):
    body = plan_to_dict(_with_conference())
    assert (
        organizer.client.put(
            "/api/v1/plan", json={**body, "expected_revision": 1}, headers=organizer.headers
        ).status_code
        == 200
    )
    seen = lambda caller: caller.client.get("/api/v1/plan", headers=caller.headers).get_json()  # noqa: E731
    assert seen(organizer)["event"]["conference"]["passcode"] == "kx8472"
    for caller in (mc, anonymous):
        assert "passcode" not in seen(caller)["event"]["conference"]
        assert "kx8472" not in str(seen(caller))


def test_who_delivers_by_a_deadline_travels_as_ids_or_a_group_in_either_language():
    data = plan_to_dict(default_plan())
    data["deadlines"][0]["points"] = ["thoi-an", "an-phu-dong"]
    data["deadlines"][-1]["points"] = "all"
    plan = plan_from_dict(data)
    for language in ("vi", "en"):
        assert plan_from_workbook(workbook_bytes(plan, language)) == plan
    book = book_of(workbook_bytes(plan, "vi"))
    deadlines = book["Hạn nộp"]
    column = column_of(deadlines, "Điểm cầu phải nộp")
    assert deadlines.cell(row=3, column=column).value == "tất cả phường"
    deadlines.cell(row=2, column=column).value = "thoi-an; thanh-loc, khong-co"
    deadlines.cell(row=3, column=column).value = "all wards"
    problems = problems_of(bytes_of(book))
    assert [(p.sheet, p.row, p.column, p.path) for p in problems] == [
        ("Hạn nộp", 2, "Điểm cầu phải nộp", "deadlines[0].points[2]")
    ]


def test_the_workbook_has_a_column_for_every_field_of_the_plan_and_no_other():
    from runsheet.plans.schema import CONFERENCE_FIELDS
    from runsheet.plans.sheets import SECTION_FIELDS, SHEETS_BY_SECTION, in_plan_format

    for section, fields in SECTION_FIELDS.items():
        sheet = SHEETS_BY_SECTION[section]
        keys = {column.key for column in sheet.columns}
        covered = {key.partition(".")[0] for key in keys} | (
            {"starts_at"} if {"date", "time"} <= keys else set()
        )
        assert {field.key for field in fields} <= covered, section
        assert all(in_plan_format(section, column) for column in sheet.columns)
        for key in ("conference",):
            if key in covered:
                assert {f"{key}.{f.key}" for f in CONFERENCE_FIELDS} <= keys


def test_a_text_that_looks_like_a_formula_stays_text_in_the_workbook_and_the_csv():
    data = plan_to_dict(default_plan())
    data["agenda"][0]["title"] = '=HYPERLINK("https://example.org","bấm")'
    data["agenda"][1]["title"] = "-Phát biểu"
    plan = plan_from_dict(data)
    book = book_of(workbook_bytes(plan, "vi"))
    cell = book["Chương trình"]["B2"]
    assert cell.data_type == "s"
    assert cell.value == data["agenda"][0]["title"]
    assert plan_from_workbook(workbook_bytes(plan, "vi")) == plan
    text = agenda_csv(plan, "vi")
    assert "\"'=HYPERLINK(" in text  # quoted: the title holds commas and quotes
    assert ",'-Phát biểu," in text
    assert plan_with_agenda_csv(plan, text) == plan
