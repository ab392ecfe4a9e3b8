"""The report's CSV and xlsx open with Python's csv and openpyxl and hold the report's figures."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest

from runsheet.domain.ceremony import new_state
from runsheet.services.report import build_report, choose_run
from runsheet.services.report_exports import report_xlsx
from runsheet.storage.store import AuditEntry

from .conftest import Caller
from .test_report import WARD, ceremony_held, scene  # noqa: F401 - the scripted ceremony

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(caller: Caller, path: str):  # noqa: ANN201
    response = caller.client.get(path, headers=caller.headers)
    assert response.status_code == 200, response.data[:300]
    return response


def csv_sections(text: str) -> dict[str, list[list[str]]]:
    """Return each section of the report's CSV by its title: its header and rows."""
    sections: dict[str, list[list[str]]] = {}
    title = None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            title = None
        elif title is None:
            title = row[0]
            sections[title] = []
        else:
            sections[title].append(row)
    return sections


@pytest.fixture
def report(ceremony_held, mc):  # noqa: F811
    return mc.client.get("/api/v1/report", headers=mc.headers).get_json()


def test_the_csv_holds_every_part_with_the_same_figures(report, mc):
    response = download(mc, "/api/v1/report.csv?lang=en")
    assert response.mimetype == "text/csv"
    assert 'filename="report-' in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    sections = csv_sections(text.lstrip("\ufeff"))
    assert list(sections) == [
        "Ceremony",
        "Programme",
        "Connection points",
        "Check-ins",
        "Troubles",
        "Online",
        "Roll calls",
        "Messages received",
        "Audit log",
    ]
    header, *rows = sections["Programme"]
    column = {name: index for index, name in enumerate(header)}
    for row, item in zip(rows, report["items"], strict=True):
        assert row[column["Item"]] == item["title"]
        assert row[column["Actual length (s)"]] == (
            "" if item["actual_seconds"] is None else str(item["actual_seconds"])
        )
        assert row[column["Over (+) / under (−) (s)"]] == (
            "" if item["over_under_seconds"] is None else str(item["over_under_seconds"])
        )
    assert rows[2][column["Status"]] == "skipped"
    header, *rows = sections["Troubles"]
    assert rows == [
        [
            "Ủy ban nhân dân phường Thới An",
            "no_sound",
            "Mất tiếng",
            *[report_trouble(report)[k] for k in ("from", "to")],
            "120.0",
        ]
    ]
    header, *rows = sections["Check-ins"]
    assert [row[2] for row in rows] == ["Kỹ thuật viên A", "Kỹ thuật viên B"]
    figures = dict(sections["Ceremony"][1:])
    assert figures["Actual length (s)"] == str(report["ceremony"]["actual_seconds"])
    assert figures["Drift (s)"] == str(report["ceremony"]["drift_seconds"])


def report_trouble(report: dict) -> dict:
    return next(p for p in report["points"] if p["id"] == WARD)["troubles"][0]


def test_the_csv_speaks_vietnamese_by_default(ceremony_held, mc):  # noqa: F811
    text = download(mc, "/api/v1/report.csv").data.decode("utf-8")
    assert "Chương trình" in text and "Bắt đầu thực tế" in text


def test_the_workbook_has_one_sheet_per_part_with_the_same_figures(report, mc):
    response = download(mc, "/api/v1/report.xlsx?lang=en")
    assert response.mimetype == XLSX
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == [
        "Ceremony",
        "Programme",
        "Connection points",
        "Check-ins",
        "Troubles",
        "Online",
        "Roll calls",
        "Messages received",
        "Audit log",
    ]
    header, *rows = workbook["Programme"].iter_rows(values_only=True)
    column = {name: index for index, name in enumerate(header)}
    for row, item in zip(rows, report["items"], strict=True):
        assert row[column["Item"]] == item["title"]
        assert row[column["Actual length (s)"]] == item["actual_seconds"]
        assert row[column["Over (+) / under (−) (s)"]] == item["over_under_seconds"]
        planned = datetime.fromisoformat(item["planned_start"]).replace(tzinfo=None)
        assert row[column["Planned start"]] == planned  # the event's local time
    header, *rows = workbook["Online"].iter_rows(values_only=True)
    ward_spans = next(p for p in report["points"] if p["id"] == WARD)["online_spans"]
    assert [row[3] for row in rows] == [span["seconds"] for span in ward_spans]
    header, *rows = workbook["Roll calls"].iter_rows(values_only=True)
    answered = [row for row in rows if row[3] is not None]
    assert [(row[0], row[4]) for row in answered] == [("Ủy ban nhân dân phường Thới An", 10)]
    audit_rows = list(workbook["Audit log"].iter_rows(values_only=True))[1:]
    assert len(audit_rows) == len(report["audit"])


def test_text_from_pages_never_becomes_a_formula(scene, mc):  # noqa: F811
    scene.ward.check_in(WARD, by='=HYPERLINK("http://x")', present=1, note="+1 cmd")
    mc.advance()
    workbook = openpyxl.load_workbook(io.BytesIO(download(mc, "/api/v1/report.xlsx?lang=en").data))
    cells = [c for row in workbook["Check-ins"].iter_rows() for c in row]
    by = next(c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert by.data_type == "s" and not by.value.startswith("=")
    text = download(mc, "/api/v1/report.csv?lang=en").data.decode("utf-8")
    assert "'=HYPERLINK" in text and "'+1 cmd" in text


def test_the_exports_are_refused_to_a_point_and_to_nobody(ward, anonymous):
    for path in ("/api/v1/report.csv", "/api/v1/report.xlsx"):
        assert anonymous.client.get(path).status_code == 401
        assert ward.client.get(path, headers=ward.headers).status_code == 403


def test_control_characters_do_not_break_the_workbook(plan, clock):
    # A refusal's entry keeps what was sent, control characters included.
    refused = AuditEntry(
        event_id=1,
        run_number=1,
        at=clock(),
        role="point",
        point_id=WARD,
        console="bàn\x07 1",
        channel="http",
        action="checkin",
        summary={"by": "a\x1bb"},
        version_before=3,
        version_after=3,
        outcome="refused",
        error="by: must not hold \x07",
        error_kind="invalid",
        id=7,
    )
    chosen = choose_run(new_state(plan), [], lambda number: None)
    report = build_report(plan, chosen, [refused], clock())
    workbook = openpyxl.load_workbook(io.BytesIO(report_xlsx(report, lambda key: key)))
    row = list(workbook["report.part.audit"].iter_rows(values_only=True))[1]
    assert "bàn\ufffd 1" in row and "by: must not hold \ufffd" in row


@pytest.mark.slow
def test_the_eventlet_server_builds_the_report_off_its_loop_while_it_serves(served, crowd):
    """Under eventlet the workbook is built in a native thread; the answer is the same."""
    import requests

    mc = {"Authorization": f"Bearer {served.tokens['mc']}"}
    viewer = crowd.viewer()
    requests.post(f"{served.url}/api/v1/advance", headers=mc, timeout=10).raise_for_status()
    viewer.wait_for(lambda state: state["phase"] == "live")
    workbook = requests.get(f"{served.url}/api/v1/report.xlsx?lang=en", headers=mc, timeout=30)
    assert workbook.status_code == 200
    sheets = openpyxl.load_workbook(io.BytesIO(workbook.content))
    assert sheets["Programme"]["B2"].value == "Tuyên bố lý do, giới thiệu đại biểu"
    report = requests.get(f"{served.url}/api/v1/report", headers=mc, timeout=30).json()
    assert report["items"][0]["status"] == "live"
    requests.post(f"{served.url}/api/v1/advance", headers=mc, timeout=10).raise_for_status()
    viewer.wait_for(lambda state: state["current_item_id"] == "dien-van-khai-mac")
