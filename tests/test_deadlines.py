"""The deadlines board: points submit documents by the plan's deadlines, the organizer follows.

Through the HTTP API with the Flask test client, on SQLite, with a frozen clock: uploads and
replacements, every refusal (and the record unchanged after it), the board's statuses on
both sides of a due date's end in the event's zone, CSV, downloads, the point's own list,
the board page and the point's calendar file. The 20 MB limit against a real server, and
two processes on PostgreSQL, are in ``test_deadlines_server.py``.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from runsheet.plans import PlanError, plan_from_dict, plan_to_dict
from runsheet.services.documents import PDF, detect_type, safe_file_name
from tests.documents import docx_bytes, jpeg_bytes, pdf_bytes, png_bytes, xlsx_bytes

PLAN_DEADLINE = "phuong-gui-ke-hoach"  # due 2021-09-29, all wards
RESULTS_DEADLINE = "phuong-bao-cao-ket-qua"  # due 2021-10-10, all wards
OFFICE_DEADLINE = "phong-gddt-bao-cao"  # nobody delivers through runsheet
WARD = "thoi-an"
OTHER_WARD = "an-phu-dong"
ROOM = "phong-hop-a"


def url(point: str = WARD, deadline: str = RESULTS_DEADLINE) -> str:
    return f"/api/v1/points/{point}/deadlines/{deadline}"


def upload(
    client,
    token,
    content,
    name="ke-hoach.pdf",
    note="",
    point=WARD,
    deadline=RESULTS_DEADLINE,
    content_type=None,
):  # noqa: ANN001, ANN201, PLR0913
    data = (
        {"note": note, "file": (io.BytesIO(content), name, content_type)}
        if content is not None
        else {"note": note}
    )
    return client.post(
        url(point, deadline),
        data=data,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def board(client, tokens) -> dict:
    response = client.get("/api/v1/deadlines", headers=bearer(tokens["organizer"]))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def cell(body: dict, deadline: str, point: str) -> dict:
    entry = next(d for d in body["deadlines"] if d["id"] == deadline)
    return next(c for c in entry["points"] if c["point_id"] == point)


def submissions(app) -> list:
    svc = app.extensions["runsheet"]
    return svc.store.submissions(svc.ceremony.current().event_id)


# -- the plan ------------------------------------------------------------------------------


def test_the_built_in_plan_names_every_ward_for_the_wards_deadlines(plan):
    wards = [p.id for p in plan.points if p.kind == "ward"]
    assert plan.deadline(PLAN_DEADLINE).points == "all_wards"
    assert [p.id for p in plan.delivering_points(plan.deadline(PLAN_DEADLINE))] == wards
    assert plan.delivering_points(plan.deadline(OFFICE_DEADLINE)) == ()
    assert [d.id for d in plan.deadlines_of(WARD)] == [PLAN_DEADLINE, RESULTS_DEADLINE]
    assert plan.deadlines_of(ROOM) == ()


def test_a_deadline_names_points_by_id_or_all_and_is_written_back_out(plan):
    data = plan_to_dict(plan)
    data["deadlines"][2]["points"] = [ROOM, WARD]
    data["deadlines"][1]["points"] = "all"
    changed = plan_from_dict(data)
    assert [p.id for p in changed.delivering_points(changed.deadlines[2])] == [ROOM, WARD]
    assert len(changed.delivering_points(changed.deadlines[1])) == len(plan.points)
    assert plan_to_dict(changed)["deadlines"][2]["points"] == [ROOM, WARD]
    assert plan_from_dict(plan_to_dict(changed)) == changed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            ["thoi-ann"],
            "deadlines[0].points[0]: names the point 'thoi-ann', but no point has that id; "
            "did you mean 'thoi-an'?",
        ),
        (
            "all_ward",
            "deadlines[0].points: must be a list of point ids, or one of: all_wards, all; "
            "did you mean 'all_wards'?",
        ),
        ([], "deadlines[0].points: must name at least one point"),
        ([WARD, WARD], "deadlines[0].points[1]: repeats the point 'thoi-an' of entry 0"),
        (["Thoi An"], "deadlines[0].points[0]: must be an id of lowercase ASCII letters"),
        (
            3,
            "deadlines[0].points: must be a list of point ids, or one of: all_wards, all; "
            "not a number",
        ),
    ],
)
def test_a_deadlines_points_that_do_not_fit_are_refused_naming_the_field(plan, value, message):
    data = plan_to_dict(plan)
    data["deadlines"][0]["points"] = value
    with pytest.raises(PlanError) as refused:
        plan_from_dict(data)
    assert any(message in str(problem) for problem in refused.value.problems), refused.value


# -- content types -------------------------------------------------------------------------


def test_each_accepted_type_is_told_by_its_content():
    assert [
        detect_type(make()).name
        for make in (pdf_bytes, docx_bytes, xlsx_bytes, jpeg_bytes, png_bytes)
    ] == ["PDF", "DOCX", "XLSX", "JPG", "PNG"]
    assert detect_type(b"hello, world") is None
    assert detect_type(b"PK\x03\x04" + b"\x00" * 100) is None  # a zip header, no zip
    import zipfile

    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")  # Word's folder, no [Content_Types]
    assert detect_type(plain_zip.getvalue()) is None
    # a macro-enabled Word file declares another main part: not accepted
    macro = docx_bytes("application/vnd.ms-word.document.macroEnabled.main+xml")
    assert detect_type(macro) is None


def test_a_file_name_is_kept_without_folders_or_control_characters():
    assert safe_file_name("C:\\Users\\ab\\Kế hoạch.pdf", PDF) == "Kế hoạch.pdf"
    assert safe_file_name("../../etc/passwd", PDF) == "passwd.pdf"
    assert safe_file_name('bad"\r\nname.pdf', PDF) == "badname.pdf"
    assert safe_file_name("", PDF) == "document.pdf"


# -- submitting ----------------------------------------------------------------------------


def test_a_point_uploads_a_pdf_then_a_replacement_and_both_stay_on_record(client, tokens, app):
    first = upload(client, tokens[WARD], pdf_bytes("v1"), name="Kế hoạch.pdf", note="Bản đầu")
    assert first.status_code == 201, first.get_json()
    entry = first.get_json()
    assert entry | {"id": 0, "sha256": ""} == {
        "id": 0,
        "deadline_id": RESULTS_DEADLINE,
        "point_id": WARD,
        "submitted_at": "2021-10-01T01:00:00+00:00",
        "kind": "document",
        "note": "Bản đầu",
        "current": True,
        "file_name": "Kế hoạch.pdf",
        "content_type": "application/pdf",
        "size": len(pdf_bytes("v1")),
        "sha256": "",
        "download_url": f"/api/v1/deadlines/documents/{entry['id']}",
    }
    second = upload(client, tokens[WARD], pdf_bytes("v2"), name="ke-hoach-sua.pdf", note="Bản sửa")
    assert second.status_code == 201
    mine = client.get(f"/api/v1/points/{WARD}/deadlines", headers=bearer(tokens[WARD])).get_json()
    results = next(d for d in mine["deadlines"] if d["id"] == RESULTS_DEADLINE)
    assert [(s["file_name"], s["current"]) for s in results["submissions"]] == [
        ("ke-hoach-sua.pdf", True),
        ("Kế hoạch.pdf", False),
    ]
    on_board = cell(board(client, tokens), RESULTS_DEADLINE, WARD)
    assert on_board["current"]["file_name"] == "ke-hoach-sua.pdf"
    assert on_board["submissions"] == 2
    # both documents can still be downloaded, each with its own bytes
    for submission, text in ((entry, "v1"), (second.get_json(), "v2")):
        got = client.get(submission["download_url"], headers=bearer(tokens["organizer"]))
        assert got.status_code == 200 and got.data == pdf_bytes(text)


def test_docx_xlsx_jpg_and_png_are_accepted_and_served_with_their_type(client, tokens):
    for make, name, media in (
        (
            docx_bytes,
            "bao-cao.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            xlsx_bytes,
            "so-lieu.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (jpeg_bytes, "anh.jpg", "image/jpeg"),
        (png_bytes, "anh.png", "image/png"),
    ):
        response = upload(client, tokens[WARD], make(), name=name)
        assert response.status_code == 201, (name, response.get_json())
        got = client.get(response.get_json()["download_url"], headers=bearer(tokens[WARD]))
        assert got.status_code == 200
        assert got.mimetype == media
        assert got.data == make()


def test_a_download_is_an_attachment_with_its_utf8_name_and_nosniff(client, tokens):
    entry = upload(client, tokens[WARD], pdf_bytes(), name="Kế hoạch; số 1.pdf").get_json()
    got = client.get(entry["download_url"], headers=bearer(tokens["organizer"]))
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="K_ ho_ch_ s_ 1.pdf"')
    assert "filename*=UTF-8''K%E1%BA%BF%20ho%E1%BA%A1ch%3B%20s%E1%BB%91%201.pdf" in disposition


def test_only_the_organizer_and_the_point_that_sent_it_may_download_a_document(client, tokens):
    entry = upload(client, tokens[WARD], pdf_bytes()).get_json()
    path = entry["download_url"]
    assert client.get(path, headers=bearer(tokens[OTHER_WARD])).status_code == 404
    assert client.get(path, headers=bearer(tokens["mc"])).status_code == 403
    assert client.get(path).status_code == 401
    assert (
        client.get(
            "/api/v1/deadlines/documents/999", headers=bearer(tokens["organizer"])
        ).status_code
        == 404
    )


def test_a_point_marks_a_deadline_done_with_a_note(client, tokens):
    response = client.post(
        url(), json={"done": True, "note": "Đã gửi bản giấy"}, headers=bearer(tokens[WARD])
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["kind"] == "done"
    assert response.get_json()["download_url"] is None
    assert cell(board(client, tokens), RESULTS_DEADLINE, WARD)["status"] == "submitted"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"done": True}, "note"),
        ({"done": False, "note": "x"}, "done"),
        ({"note": "x"}, "done"),
        ({"done": True, "note": "x", "extra": 1}, "extra"),
    ],
)
def test_a_done_mark_that_does_not_fit_is_refused_naming_the_field(
    client, tokens, app, body, field
):
    response = client.post(url(), json=body, headers=bearer(tokens[WARD]))
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert submissions(app) == []


def test_another_points_token_and_the_mc_are_refused_and_nothing_is_recorded(client, tokens, app):
    other = upload(client, tokens[OTHER_WARD], pdf_bytes())
    assert other.status_code == 403
    assert other.get_json()["kind"] == "forbidden"
    assert upload(client, tokens["mc"], pdf_bytes()).status_code == 403
    assert upload(client, tokens["organizer"], pdf_bytes()).status_code == 403
    assert client.post(url(), data={"file": (io.BytesIO(pdf_bytes()), "a.pdf")}).status_code == 401
    assert submissions(app) == []


def test_a_deadline_that_does_not_name_the_point_is_not_found(client, tokens, app):
    room = upload(client, tokens[ROOM], pdf_bytes(), point=ROOM)
    assert room.status_code == 404
    assert room.get_json()["field"] == "deadline_id"
    assert upload(client, tokens[WARD], pdf_bytes(), deadline=OFFICE_DEADLINE).status_code == 404
    assert upload(client, tokens[WARD], pdf_bytes(), deadline="no-such").status_code == 404
    assert submissions(app) == []


@pytest.mark.parametrize(
    ("content", "name", "content_type", "says"),
    [
        (
            png_bytes(),
            "ke-hoach.pdf",
            "application/pdf",
            "it says it is PDF, but its content is PNG",
        ),
        (b"MZ\x90\x00 an executable", "ke-hoach.pdf", "application/pdf", "is not a PDF, DOCX"),
        ("Kế hoạch, dạng chữ".encode(), "ke-hoach.txt", "text/plain", "is not a PDF, DOCX"),
        (xlsx_bytes(), "bao-cao.docx", None, "it says it is DOCX, but its content is XLSX"),
        (pdf_bytes(), "anh.png", "image/png", "it says it is PNG, but its content is PDF"),
    ],
)
def test_a_file_whose_content_is_not_what_its_type_says_is_refused_with_415(
    client, tokens, app, content, name, content_type, says
):
    response = upload(client, tokens[WARD], content, name=name, content_type=content_type)
    assert response.status_code == 415, response.get_json()
    assert response.get_json()["kind"] == "unsupported_media_type"
    assert says in response.get_json()["error"]
    assert submissions(app) == []


def test_a_missing_or_empty_file_is_refused_with_422(client, tokens, app):
    missing = upload(client, tokens[WARD], None, note="quên tệp")
    assert missing.status_code == 422
    assert missing.get_json() == {
        "error": "file: is required (the document to submit)",
        "kind": "missing_document",
        "field": "file",
    }
    empty = upload(client, tokens[WARD], b"", name="trong.pdf")
    assert empty.status_code == 422
    assert empty.get_json()["kind"] == "missing_document"
    assert submissions(app) == []


def test_a_body_that_says_it_is_over_the_limit_is_refused_before_it_is_read(client, tokens, app):
    class Unread(io.BytesIO):
        reads = 0

        def read(self, *args) -> bytes:  # noqa: ANN002
            Unread.reads += 1
            return super().read(*args)

        readline = read

    response = client.post(
        url(),
        input_stream=Unread(b"--x\r\n"),
        environ_overrides={"CONTENT_LENGTH": str(21 * 1024 * 1024)},
        headers={**bearer(tokens[WARD]), "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413
    assert response.get_json()["kind"] == "too_large"
    assert Unread.reads == 0
    assert submissions(app) == []


def multipart(content: bytes, name: str = "ke-hoach.pdf", note: str = "") -> tuple[bytes, str]:
    """Return a multipart body with ``file`` and ``note``, and its Content-Type."""
    boundary = "runsheet-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\n{note}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    body = head + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_file_over_20_mb_in_a_body_within_the_limit_is_refused_with_413(client, tokens, app):
    body, content_type = multipart(pdf_bytes() + b"0" * (20 * 1024 * 1024))
    response = client.post(
        url(), data=body, headers={**bearer(tokens[WARD]), "Content-Type": content_type}
    )
    assert response.status_code == 413
    assert response.get_json()["field"] == "file"
    assert submissions(app) == []


def test_other_routes_keep_their_small_limit(client, tokens):
    response = client.post(
        "/api/v1/advance",
        data=b"{" + b" " * (70 * 1024) + b"}",
        headers={**bearer(tokens["mc"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_a_note_that_does_not_fit_is_refused(client, tokens, app):
    response = upload(client, tokens[WARD], pdf_bytes(), note="x" * 2001)
    assert response.status_code == 400
    assert response.get_json()["field"] == "note"
    assert submissions(app) == []


# -- the board -----------------------------------------------------------------------------


def test_the_board_shows_submitted_late_missing_and_pending_on_both_sides_of_the_due_date(
    client, tokens, clock
):
    # 23:59 on 29/9 in Ho Chi Minh City: the plan's deadline is today.
    clock.now = datetime(2021, 9, 29, 16, 59, tzinfo=UTC)
    on_time = upload(client, tokens[WARD], pdf_bytes(), deadline=PLAN_DEADLINE)
    assert on_time.status_code == 201
    before = board(client, tokens)
    assert before["today"] == "2021-09-29"
    plan_entry = next(d for d in before["deadlines"] if d["id"] == PLAN_DEADLINE)
    assert plan_entry["days_left"] == 0
    assert plan_entry["due_end"] == "2021-09-30T00:00:00+07:00"
    assert cell(before, PLAN_DEADLINE, WARD)["status"] == "submitted"
    assert cell(before, PLAN_DEADLINE, OTHER_WARD)["status"] == "pending"
    assert plan_entry["counts"] == {"submitted": 1, "late": 0, "missing": 0, "pending": 10}

    # Midnight there: the due date is over.
    clock.now = datetime(2021, 9, 29, 17, 0, tzinfo=UTC)
    late = upload(
        client, tokens["hiep-thanh"], pdf_bytes(), point="hiep-thanh", deadline=PLAN_DEADLINE
    )
    assert late.status_code == 201
    after = board(client, tokens)
    plan_entry = next(d for d in after["deadlines"] if d["id"] == PLAN_DEADLINE)
    assert plan_entry["days_left"] == -1
    assert cell(after, PLAN_DEADLINE, WARD)["status"] == "submitted"
    assert cell(after, PLAN_DEADLINE, "hiep-thanh")["status"] == "late"
    assert cell(after, PLAN_DEADLINE, OTHER_WARD)["status"] == "missing"
    assert plan_entry["counts"] == {"submitted": 1, "late": 1, "missing": 9, "pending": 0}
    # the results are due on 10/10: pending everywhere, 11 days left
    results = next(d for d in after["deadlines"] if d["id"] == RESULTS_DEADLINE)
    assert results["days_left"] == 10
    assert results["counts"]["pending"] == 11
    # a replacement after the due date keeps an on-time delivery on time
    clock.now = datetime(2021, 10, 2, 3, 0, tzinfo=UTC)
    assert upload(client, tokens[WARD], pdf_bytes("v2"), deadline=PLAN_DEADLINE).status_code == 201
    replaced = cell(board(client, tokens), PLAN_DEADLINE, WARD)
    assert replaced["status"] == "submitted"
    assert replaced["first_submitted_at"] == "2021-09-29T16:59:00+00:00"
    # per point, too
    ward_row = next(p for p in board(client, tokens)["points"] if p["id"] == "hiep-thanh")
    assert [(c["deadline_id"], c["status"]) for c in ward_row["deadlines"]] == [
        (PLAN_DEADLINE, "late"),
        (RESULTS_DEADLINE, "pending"),
    ]
    assert all(p["kind"] == "ward" for p in board(client, tokens)["points"])


def test_the_point_sees_its_own_deadlines_with_the_days_left(client, tokens, clock):
    clock.now = datetime(2021, 10, 1, 1, 0, tzinfo=UTC)
    mine = client.get(f"/api/v1/points/{WARD}/deadlines", headers=bearer(tokens[WARD]))
    assert mine.status_code == 200
    body = mine.get_json()
    assert [(d["id"], d["days_left"], d["status"]) for d in body["deadlines"]] == [
        (PLAN_DEADLINE, -2, "missing"),
        (RESULTS_DEADLINE, 9, "pending"),
    ]
    assert (
        client.get(
            f"/api/v1/points/{WARD}/deadlines", headers=bearer(tokens[OTHER_WARD])
        ).status_code
        == 403
    )
    assert (
        client.get(
            f"/api/v1/points/{WARD}/deadlines", headers=bearer(tokens["organizer"])
        ).status_code
        == 200
    )
    room = client.get(f"/api/v1/points/{ROOM}/deadlines", headers=bearer(tokens[ROOM])).get_json()
    assert room["deadlines"] == []


def test_the_board_is_the_organizers_only(client, tokens):
    assert client.get("/api/v1/deadlines").status_code == 401
    assert client.get("/api/v1/deadlines", headers=bearer(tokens["mc"])).status_code == 403
    assert client.get("/api/v1/deadlines", headers=bearer(tokens[WARD])).status_code == 403
    assert client.get("/api/v1/deadlines.csv", headers=bearer(tokens[WARD])).status_code == 403


def test_the_board_as_csv_has_a_bom_and_a_row_per_deadline_and_point(client, tokens):
    upload(
        client,
        tokens[WARD],
        pdf_bytes(),
        name="kế hoạch.pdf",
        note="=SUM(A1)",
        deadline=PLAN_DEADLINE,
    )
    response = client.get("/api/v1/deadlines.csv?lang=en", headers=bearer(tokens["organizer"]))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == 2 * 11
    mine = next(r for r in rows if r["Point id"] == WARD and r["Deadline id"] == PLAN_DEADLINE)
    assert mine["Status"] == "Late"  # the clock is at 1/10, after the due date
    assert mine["File name"] == "kế hoạch.pdf"
    assert mine["Note"] == "'=SUM(A1)"  # a spreadsheet shows it, never runs it
    vi = client.get("/api/v1/deadlines.csv", headers=bearer(tokens["organizer"])).data.decode(
        "utf-8-sig"
    )
    assert vi.splitlines()[0].startswith("Mã thời hạn,Nội dung,Hạn chót")


# -- pages and calendar --------------------------------------------------------------------


def test_the_board_page_shows_each_points_status_to_the_organizer(client, tokens):
    upload(client, tokens[WARD], pdf_bytes(), name="ke-hoach.pdf", deadline=PLAN_DEADLINE)
    assert client.get("/organizer/deadlines").status_code == 401
    client.set_cookie("runsheet_organizer", tokens["organizer"])
    page = client.get("/organizer/deadlines")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Theo dõi thời hạn nộp văn bản" in html
    assert 'data-point="thoi-an" data-status="late"' in html
    assert 'data-point="an-phu-dong" data-status="missing"' in html
    assert "ke-hoach.pdf" in html
    assert "<script" not in html  # a print-friendly page, no inline script
    document = client.get("/organizer/deadlines/documents/1")
    assert document.status_code == 200 and document.data == pdf_bytes()
    assert client.get("/organizer/deadlines.csv").data.startswith("\ufeff".encode())


def test_a_point_page_downloads_its_own_documents_with_its_cookie(client, tokens):
    entry = upload(client, tokens[WARD], pdf_bytes()).get_json()
    path = f"/points/{WARD}/documents/{entry['id']}"
    assert client.get(path).status_code == 401
    client.set_cookie(f"runsheet_point_{WARD}", tokens[WARD])
    assert client.get(path).data == pdf_bytes()
    client.set_cookie(f"runsheet_point_{OTHER_WARD}", tokens[OTHER_WARD])
    assert client.get(f"/points/{OTHER_WARD}/documents/{entry['id']}").status_code == 404


def test_a_page_submits_with_its_cookie_and_header(client, tokens, app):
    client.set_cookie(f"runsheet_point_{WARD}", tokens[WARD])
    response = client.post(
        url(), json={"done": True, "note": "giấy"}, headers={"X-Runsheet-Page": f"point:{WARD}"}
    )
    assert response.status_code == 201
    # the cookie alone authorizes nothing (a cross-site form cannot add the header)
    assert client.post(url(), json={"done": True, "note": "giấy"}).status_code == 401
    assert len(submissions(app)) == 1


def test_a_wards_calendar_holds_its_own_deadlines_all_day(client):
    ward = Calendar.from_ical(client.get(f"/calendar/points/{WARD}.ics").data)
    events = {str(e["UID"]): e for e in ward.walk("VEVENT")}
    deadline_uids = [uid for uid in events if "deadline" in uid]
    assert len(deadline_uids) == 2
    plan_deadline = next(e for uid, e in events.items() if PLAN_DEADLINE in uid)
    assert plan_deadline.decoded("DTSTART") == datetime(2021, 9, 29).date()
    week = Calendar.from_ical(client.get("/calendar/week.ics").data)
    assert {str(e["UID"]) for e in week.walk("VEVENT")} >= set(deadline_uids)  # the same UIDs
    room = Calendar.from_ical(client.get(f"/calendar/points/{ROOM}.ics").data)
    assert not [e for e in room.walk("VEVENT") if "deadline" in str(e["UID"])]


# -- the inbound budget of `runsheet serve` -------------------------------------------------


def test_an_uploads_body_rides_beyond_the_connections_byte_budget_for_that_request_only():
    from runsheet.transports.server import ConnectionGuard, InboundLimits

    limits = InboundLimits(
        bytes_per_second=1000,
        bytes_burst=2000,
        packets_per_second=100,
        packets_burst=1000,
        head_seconds=10,
        keepalive_seconds=60,
    )
    guard = ConnectionGuard(limits, "peer", log=lambda message: None)
    guard.request_started(websocket=False)
    guard.allow_body(1_000_000)
    assert guard.count_bytes(1_000_000)  # the upload's body
    assert guard.count_bytes(1500)  # then the budget as usual
    guard.request_finished()
    guard.request_started(websocket=False)
    assert not guard.count_bytes(1_000_000)  # the next request has no allowance
    assert guard.exceeded


def test_a_refused_uploads_connection_reads_no_more():
    from runsheet.transports.server import ConnectionGuard, GuardedSocket, InboundLimits

    limits = InboundLimits(1e6, 1e6, 100, 1000, 10, 60)
    connection = GuardedSocket()
    connection.guard = ConnectionGuard(limits, "peer", log=lambda message: None)
    try:
        connection.guard.stop_reading()
        assert connection.recv(1024) == b""  # as if the client had closed it
    finally:
        connection.close()


def test_only_the_upload_route_has_the_large_limit():
    from runsheet.transports.uploads import UPLOAD_BODY_BYTES, body_limit

    upload = {"REQUEST_METHOD": "POST", "PATH_INFO": url()}
    assert body_limit(upload, 65536) == UPLOAD_BODY_BYTES
    assert body_limit({**upload, "REQUEST_METHOD": "GET"}, 65536) == 65536
    assert body_limit({"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/advance"}, 65536) == 65536
    assert body_limit({"REQUEST_METHOD": "POST", "PATH_INFO": url() + "/x"}, 65536) == 65536


def test_the_threading_server_reads_a_chunked_submission_as_sent(database_url):
    import requests

    from tests.live_server import serve

    def chunks(*parts: bytes):  # noqa: ANN202
        yield from parts  # requests sends a generator chunked, with no length

    for live in serve(database_url):
        headers = {"Authorization": f"Bearer {live.tokens[WARD]}"}
        target = f"{live.url}{url()}"
        bad = requests.post(
            target,
            data=chunks(b"not json"),
            headers={**headers, "Content-Type": "application/json"},
            timeout=10,
        )
        assert (
            bad.status_code == 400 and bad.json()["error"] == "the request body is not valid JSON"
        )
        done = requests.post(
            target,
            data=chunks(b'{"done": true, ', '"note": "giấy"}'.encode()),
            headers={**headers, "Content-Type": "application/json"},
            timeout=10,
        )
        assert done.status_code == 201, done.text
        body, content_type = multipart(pdf_bytes(), name="chunked.pdf")
        sent = requests.post(
            target,
            data=chunks(body[:100], body[100:]),
            headers={**headers, "Content-Type": content_type},
            timeout=10,
        )
        assert sent.status_code == 201, sent.text
        assert sent.json()["size"] == len(pdf_bytes())
        too_big = requests.post(
            target,
            data=chunks(b'{"done": true, "note": "' + b"x" * (100 * 1024) + b'"}'),
            headers={**headers, "Content-Type": "application/json"},
            timeout=10,
        )
        assert too_big.status_code == 413  # a JSON body keeps the small limit


def test_a_submission_id_beyond_the_database_integer_names_no_document(client, tokens):
    organizer = {"Authorization": f"Bearer {tokens['organizer']}"}
    for submission_id in (2**31, 10**30):
        answer = client.get(f"/api/v1/deadlines/documents/{submission_id}", headers=organizer)
        assert answer.status_code == 404


def test_each_submission_is_in_the_audit_log_with_the_point_and_the_deadline(client, tokens, app):
    assert upload(client, tokens[WARD], pdf_bytes(), note="Bản ký").status_code == 201
    done = client.post(
        url(deadline=PLAN_DEADLINE),
        json={"done": True, "note": "Đã gửi bản giấy"},
        headers=bearer(tokens[WARD]),
    )
    assert done.status_code == 201
    svc = app.extensions["runsheet"]
    entries = svc.store.audit_entries(svc.ceremony.current().event_id, point_id=WARD)
    logged = {entry.action: entry for entry in entries}
    document = logged["submit_document"]
    assert (document.role, document.channel, document.outcome) == ("point", "http", "done")
    assert document.summary["deadline_id"] == RESULTS_DEADLINE
    assert document.summary["size"] == len(pdf_bytes())
    assert logged["mark_done"].summary == {
        "deadline_id": PLAN_DEADLINE,
        "done": True,
        "note": "Đã gửi bản giấy",
    }
    assert document.version_before == document.version_after  # the ceremony did not change
