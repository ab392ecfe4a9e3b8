"""A hostile or unlucky day (issue 10, findings 4, 5, 6, 7, 9 and 10).

The health check and the pages tell the truth when the database fails; a plan that would
break what serves it is refused, naming the field; text shows as it was typed, with no
invisible character to reorder or fake it; a weak secret key is refused by ``serve``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine, event

from runsheet.config import MIN_SECRET_KEY_BYTES, secret_key_problem
from runsheet.domain.plan import MAX_ID_LENGTH, Plan, Point
from runsheet.domain.text import clean_text, has_visible_character
from runsheet.plans import PlanError, default_plan, parse_plan, plan_from_dict, plan_to_dict
from runsheet.services.plans import install_plan
from runsheet.storage.store import make_engine
from tests.conftest import SECRET, Caller, _open_stores, make_app, open_store, tokens_of
from tests.live_server import serve
from tests.test_plans import VALID, edit

LOGGER = "runsheet.app"


# -- helpers ---------------------------------------------------------------------------------


def refusal(text: str) -> list[tuple[str, str]]:
    """Return (field path, sentence) of every problem parse_plan finds in the plan text."""
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "plan.yaml")
    return [(p.path, p.message) for p in caught.value.problems]


def cli_on(database_url: str, monkeypatch) -> CliRunner:  # noqa: ANN001
    """Return a CLI runner whose commands use ``database_url`` (exceptions propagate)."""
    monkeypatch.setenv("RUNSHEET_DATABASE_URL", database_url)
    monkeypatch.setenv("RUNSHEET_SECRET_KEY", SECRET)
    monkeypatch.setenv("RUNSHEET_BASE_URL", "http://127.0.0.1:5000")
    import runsheet.cli

    make_cli_app = runsheet.cli._app

    def closed_after_the_test(**overrides):  # noqa: ANN202
        app = make_cli_app(**overrides)
        _open_stores.append(app.extensions["runsheet"].store)  # no connection outlives it
        return app

    monkeypatch.setattr(runsheet.cli, "_app", closed_after_the_test)
    return CliRunner()


def load_command(runner: CliRunner, path: Path):  # noqa: ANN201
    from runsheet.cli import cli

    # catch_exceptions=False: a raw traceback fails the test instead of hiding in the result
    return runner.invoke(cli, ["load", str(path)], catch_exceptions=False)


def national_plan(points: int) -> str:
    """Return the YAML of a national conference: ``points`` connection points, full fields."""
    lines = [
        "event:",
        "  slug: hoi-nghi-toan-quoc",
        "  title: Hội nghị trực tuyến toàn quốc",
        "  organizer: Bộ Giáo dục và Đào tạo",
        "  starts_at: 2030-05-04T08:00:00+07:00",
        "  timezone: Asia/Ho_Chi_Minh",
        "points:",
    ]
    for number in range(points):
        lines += [
            f"  - id: diem-cau-{number}",
            f"    name: Điểm cầu số {number} — Trường Trung học phổ thông",
            "    kind: ward" if number else "    kind: room",
            f"    address: Số {number}, đường Lê Lợi, phường Bến Nghé",
            "    attendees: [Ban giám hiệu, Giáo viên]",
            f"    contact_name: Kỹ thuật viên {number}",
            f"    contact_email: diem-cau-{number}@example.edu.vn",
        ]
    lines += ["agenda:"]
    for number in range(20):
        lines += [
            f"  - id: muc-{number}",
            f"    title: Phát biểu số {number}",
            f"    point: diem-cau-{number % points}",
            "    planned_minutes: 10",
        ]
    return "\n".join(lines) + "\n"


def make_writes_fail(store) -> None:  # noqa: ANN001
    """Reopen the store's SQLite database so that reads work and every write is refused.

    (The store's own engine takes the write lock at BEGIN, so there every read would fail
    too; a plain engine reads without a lock, like a database on a full disk.)
    """
    url = str(store.engine.url)
    store.engine.dispose()
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.execute("PRAGMA query_only = ON")

    store.engine = engine


def take_the_database_away(store) -> None:  # noqa: ANN001
    """Point the store at a database file in a folder that does not exist."""
    store.engine.dispose()
    store.engine = make_engine("sqlite:////nonexistent-folder/runsheet/runsheet.sqlite3")


def assert_no_traceback(caplog) -> None:  # noqa: ANN001
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert "Traceback" not in caplog.text


# -- finding 4: health and error pages that tell the truth -----------------------------------


def test_health_answers_503_with_a_reason_and_one_log_line_when_the_database_cannot_be_read(
    app, client, caplog
):
    take_the_database_away(app.extensions["runsheet"].store)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["error"] == "the database cannot be read"
    assert [r.getMessage() for r in caplog.records if r.name == LOGGER] == [
        "health check failed: the database cannot be read (unable to open database file)"
    ]
    assert_no_traceback(caplog)


def test_health_answers_503_when_the_database_reads_but_cannot_be_written(app, client, caplog):
    make_writes_fail(app.extensions["runsheet"].store)
    assert client.get("/api/v1/state").status_code == 200  # reads still work
    with caplog.at_level(logging.INFO, logger=LOGGER):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["error"] == "the database cannot be written"
    assert "readonly database" in caplog.text
    assert_no_traceback(caplog)


def test_health_keeps_answering_ok_probe_after_probe_on_a_healthy_database(client):
    for _ in range(3):
        assert client.get("/healthz").get_json()["status"] == "ok"


PAGES = ["/", "/mc", "/points/thoi-an", "/stage"]


@pytest.mark.parametrize("path", PAGES)
def test_a_page_answers_an_html_page_in_vietnamese_when_the_database_is_down(
    app, client, caplog, path
):
    take_the_database_away(app.extensions["runsheet"].store)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        response = client.get(path)
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Hệ thống tạm thời gián đoạn" in html
    assert response.headers["Content-Security-Policy"]  # the pages' headers, as usual
    assert_no_traceback(caplog)


def test_the_error_page_is_english_for_a_reader_who_chose_english(app, client):
    take_the_database_away(app.extensions["runsheet"].store)
    client.set_cookie("runsheet_lang", "en")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html and "The service is briefly unavailable" in html
    html = client.get("/mc?lang=en").get_data(as_text=True)
    assert "The service is briefly unavailable" in html


def test_the_api_keeps_answering_json_when_the_database_is_down(app, client):
    take_the_database_away(app.extensions["runsheet"].store)
    response = client.get("/api/v1/state")
    assert response.status_code == 503
    assert response.get_json()["kind"] == "unavailable"


# -- finding 5: line breaks in one-line texts ------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (edit("title: Test ceremony", 'title: "Test\\nceremony"'), "event.title"),
        (edit("name: Main hall", 'name: "Main\\rhall"'), "points[0].name"),
        (edit("title: Welcome", 'title: "Wel\\u2028come"'), "agenda[0].title"),
        (edit("- Learn every day", '- "Learn\\x07 every day"'), "slogans[0]"),
        (
            edit("planned_minutes: 20", 'planned_minutes: 20\n    speaker: "A\\nB"'),
            "agenda[1].speaker",
        ),
    ],
)
def test_a_line_break_or_control_character_in_a_one_line_text_is_refused_naming_the_field(
    change, path
):
    problems = refusal(change(VALID))
    assert [p for p, message in problems if message.startswith("must be one line")] == [path]


def test_descriptions_and_notes_may_span_several_lines():
    text = edit("planned_minutes: 5", 'planned_minutes: 5\n    notes: "First line.\\nSecond."')(
        VALID
    )
    assert parse_plan(text).agenda[0].notes == "First line.\nSecond."


def test_runsheet_load_refuses_a_title_with_a_line_break(tmp_path, database_url, monkeypatch):
    path = tmp_path / "plan.yaml"
    path.write_text(edit("title: Test ceremony", 'title: "Test\\nceremony"')(VALID), "utf-8")
    result = load_command(cli_on(database_url, monkeypatch), path)
    assert result.exit_code == 1
    assert "event.title: must be one line" in result.output


# -- finding 6: dates whose calendar files or arithmetic would overflow ----------------------

EDGE_DATES = {
    "the first day of year 1": (
        edit("2030-05-04T09:00:00+02:00", "0001-01-01T00:00:00+02:00"),
        "event.starts_at",
    ),
    "ten minutes before the end of year 9999": (
        edit("2030-05-04T09:00:00+02:00", "9999-12-31T23:50+07:00"),
        "event.starts_at",
    ),
    "an hour before the end of year 9999 in UTC": (
        edit("2030-05-04T09:00:00+02:00", "9999-12-31T23:00+00:00"),
        "event.starts_at",
    ),
    "an activity on the last day of year 9999": (
        edit("starts_on: 2030-05-04", "starts_on: 9999-12-31"),
        "activities[0].starts_on",
    ),
    "an activity on the first day of year 1": (
        edit("starts_on: 2030-05-04", "starts_on: 0001-01-01"),
        "activities[0].starts_on",
    ),
    "a deadline in 9999": (edit("due_on: 2030-05-10", "due_on: 9999-12-31"), "deadlines[0].due_on"),
}


@pytest.mark.parametrize(("change", "path"), EDGE_DATES.values(), ids=EDGE_DATES.keys())
def test_a_date_outside_the_years_2000_to_2100_is_refused_naming_the_field(change, path):
    problems = refusal(change(VALID))
    assert any(p == path and "years 2000 to 2100" in message for p, message in problems)


@pytest.mark.parametrize(("change", "path"), EDGE_DATES.values(), ids=EDGE_DATES.keys())
def test_runsheet_load_refuses_an_edge_date_without_a_traceback(
    tmp_path, database_url, monkeypatch, change, path
):
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(change(VALID), "utf-8")
    result = load_command(cli_on(database_url, monkeypatch), plan_file)
    assert result.exit_code == 1
    assert f"{path}: must be in the years 2000 to 2100" in result.output


def test_a_programme_that_would_end_after_2100_is_refused():
    text = edit("2030-05-04T09:00:00+02:00", "2100-12-31T23:00:00+01:00")(VALID)
    text = edit("planned_minutes: 20", "planned_minutes: 1440")(text)
    expected = "ends the ceremony on 2101-01-01, after the last year a plan may use (2100)"
    assert ("agenda", expected) in refusal(text)


def test_the_years_2000_and_2100_themselves_are_fine():
    early = edit("2030-05-04T09:00:00+02:00", "2000-01-01T09:00:00+01:00")(VALID)
    early = edit("starts_on: 2030-05-04", "starts_on: 2000-01-01")(early)
    assert parse_plan(early).event.starts_at.year == 2000
    late = edit("due_on: 2030-05-10", "due_on: 2100-12-31")(VALID)
    assert parse_plan(late).deadlines[0].due_on.year == 2100


# -- finding 7: sizes --------------------------------------------------------------------------


def test_a_title_of_300_characters_loads_and_one_of_301_is_refused():
    assert len(parse_plan(edit("Test ceremony", "T" * 300)(VALID)).event.title) == 300
    assert ("event.title", "must be at most 300 characters long, not 301") in refusal(
        edit("Test ceremony", "T" * 301)(VALID)
    )


def test_notes_of_a_few_thousand_characters_load_and_longer_ones_are_refused():
    notes = edit("planned_minutes: 5", "planned_minutes: 5\n    notes: " + "n" * 5000)
    assert len(parse_plan(notes(VALID)).agenda[0].notes) == 5000
    too_long = edit("planned_minutes: 5", "planned_minutes: 5\n    notes: " + "n" * 5001)
    assert ("agenda[0].notes", "must be at most 5,000 characters long, not 5,001") in refusal(
        too_long(VALID)
    )


def test_a_50_mb_title_is_refused_quickly_naming_the_field():
    stored = plan_to_dict(parse_plan(VALID))
    stored["event"]["title"] = "T" * (50 * 1024 * 1024)
    with pytest.raises(PlanError) as caught:
        plan_from_dict(stored)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("event.title", "must be at most 300 characters long, not 52,428,800")
    ]


def test_runsheet_load_refuses_a_50_mb_plan_file_without_reading_it_all(
    tmp_path, database_url, monkeypatch
):
    path = tmp_path / "plan.yaml"
    path.write_text(edit("Test ceremony", "T" * (50 * 1024 * 1024))(VALID), "utf-8")
    result = load_command(cli_on(database_url, monkeypatch), path)
    assert result.exit_code == 1
    assert "a plan file may be at most 16 MB" in result.output


def test_runsheet_load_refuses_a_one_megabyte_title_naming_the_field(
    tmp_path, database_url, monkeypatch
):
    path = tmp_path / "plan.yaml"
    path.write_text(edit("Test ceremony", "T" * 1_000_000)(VALID), "utf-8")
    result = load_command(cli_on(database_url, monkeypatch), path)
    assert result.exit_code == 1
    assert "event.title: must be at most 300 characters long, not 1,000,000" in result.output


def test_ids_up_to_the_one_limit_load_and_a_101_character_id_is_refused():
    assert MAX_ID_LENGTH == 64
    longest = "a" * MAX_ID_LENGTH
    assert parse_plan(edit("- id: north", f"- id: {longest}")(VALID)).points[1].id == longest
    assert ("points[1].id", "must be an id of at most 64 characters, not 101") in refusal(
        edit("- id: north", f"- id: {'b' * 101}")(VALID)
    )


def test_a_section_with_more_entries_than_a_plan_may_have_is_refused():
    stored = plan_to_dict(parse_plan(VALID))
    stored["agenda"] = stored["agenda"] * 501  # 1,002 items
    with pytest.raises(PlanError) as caught:
        plan_from_dict(stored)
    assert ("agenda", "has 1,002 entries; a plan may have at most 1,000") in [
        (p.path, p.message) for p in caught.value.problems
    ]


@pytest.mark.slow
def test_a_national_conference_of_10000_points_loads_and_is_stored(database_url):
    text = national_plan(10_000)
    started = time.perf_counter()
    plan = parse_plan(text, "national.yaml")
    parsed = time.perf_counter() - started
    assert len(plan.points) == 10_000
    store = open_store(database_url)
    store.create_schema()
    started = time.perf_counter()
    install_plan(store, plan, SECRET, datetime(2030, 5, 1, tzinfo=UTC))
    stored = time.perf_counter() - started
    assert len(store.active_event().plan.points) == 10_000
    # the figures for the report (-s shows them); no assertion on them
    size = len(text.encode()) / 1e6
    print(f"\n10,000 points, {size:.1f} MB: parsed in {parsed:.1f} s, stored in {stored:.1f} s")


@pytest.mark.postgres
def test_runsheet_load_refuses_a_101_character_id_on_postgresql(
    tmp_path, postgres_url, monkeypatch
):
    path = tmp_path / "plan.yaml"
    path.write_text(edit("- id: north", f"- id: {'b' * 101}")(VALID), "utf-8")
    result = load_command(cli_on(postgres_url, monkeypatch), path)
    assert result.exit_code == 1
    assert "points[1].id: must be an id of at most 64 characters, not 101" in result.output


@pytest.mark.postgres
def test_ids_of_the_longest_length_work_for_every_action_on_postgresql(
    tmp_path, postgres_url, monkeypatch
):
    point_id, item_id = "p" * MAX_ID_LENGTH, "i" * MAX_ID_LENGTH
    text = edit("- id: north", f"- id: {point_id}")(VALID)
    text = edit("- id: talk", f"- id: {item_id}")(text)
    path = tmp_path / "plan.yaml"
    path.write_text(text, "utf-8")
    assert load_command(cli_on(postgres_url, monkeypatch), path).exit_code == 0
    app = make_app(postgres_url)
    client = app.test_client()
    tokens = tokens_of(app)
    mc, point = Caller(client, tokens["mc"]), Caller(client, tokens[point_id])
    assert mc.goto(item_id).status_code == 200
    assert point.check_in(point_id).status_code == 200
    assert mc.post("/messages", {"text": "Xin chào", "to": point_id}).status_code == 200
    assert point.post(f"/points/{point_id}/trouble", {"kind": "no_sound"}).status_code == 200


@pytest.mark.postgres
def test_a_database_error_while_storing_a_plan_is_a_plan_error(postgres_url):
    # A plan built in code skips the loader's checks: the database's own refusal must still
    # come back as a plan error, not a raw DataError.
    plan = default_plan()
    too_long = Point(id="x" * 101, name="Quá dài", kind="ward")
    plan = Plan(replace(plan.event, slug="too-long-id"), (*plan.points, too_long), plan.agenda)
    store = open_store(postgres_url)
    store.create_schema()
    with pytest.raises(PlanError) as caught:
        install_plan(store, plan, SECRET, datetime(2021, 9, 1, tzinfo=UTC))
    assert "could not be stored in the database: value too long" in str(caught.value)


def test_the_default_plan_still_loads():
    plan = default_plan.__wrapped__()
    assert plan.event.slug and len(plan.points) == 13


# -- finding 9: text that shows as typed ------------------------------------------------------

INVISIBLES = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
INVISIBLES += "\u200b\u200c\u200d\u2060\ufeff"


@pytest.mark.parametrize("char", list(INVISIBLES), ids=lambda c: f"U+{ord(c):04X}")
def test_each_direction_control_and_zero_width_character_is_removed(char):
    assert clean_text(f"Nguyễn{char} Văn A") == "Nguyễn Văn A"


def test_a_zero_width_joiner_inside_an_emoji_sequence_is_kept():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    rainbow_flag = "\U0001f3f3\ufe0f\u200d\U0001f308"
    assert clean_text(f"Chúc mừng {family} {rainbow_flag}") == f"Chúc mừng {family} {rainbow_flag}"
    assert clean_text("A\u200dB") == "AB"


@pytest.mark.parametrize("text", ["\u200b\u200b", "   ", "\u3164", "\u2800\u00a0", "\u0301"])
def test_a_text_made_only_of_invisible_characters_has_nothing_visible(text):
    assert not has_visible_character(text)


def test_an_ordinary_vietnamese_name_is_visible():
    assert has_visible_character("Nguyễn Văn A")


@pytest.mark.parametrize("by", ["\u200b\u200b", "\u3164", "\u202e\u2066 "])
def test_a_check_in_by_a_name_nobody_can_see_is_refused(ward, by):
    response = ward.check_in("thoi-an", by=by)
    assert response.status_code == 400
    assert response.get_json()["error"] == "by: must name the person on duty"


def test_a_direction_override_in_a_check_in_is_removed_before_anyone_sees_it(ward, mc):
    assert (
        ward.check_in("thoi-an", by="Trần\u202e Thị B", note="\u2067ghi chú\u2069").status_code
        == 200
    )
    point = next(p for p in mc.state()["points"] if p["id"] == "thoi-an")
    assert point["checked_in_by"] == "Trần Thị B"
    assert point["note"] == "ghi chú"


def test_a_message_is_stored_without_zero_width_characters(mc):
    assert mc.post("/messages", {"text": "Chuẩn\u200b bị\ufeff"}).status_code == 200
    assert mc.state()["messages"][-1]["text"] == "Chuẩn bị"


def test_plan_texts_lose_their_direction_controls_and_an_invisible_name_is_refused():
    cleaned = parse_plan(edit("name: Main hall", 'name: "Main\\u202e hall"')(VALID))
    assert cleaned.points[0].name == "Main hall"
    assert ("points[0].name", "must not be empty") in refusal(
        edit("name: Main hall", 'name: "\\u200b\\u200b"')(VALID)
    )
    assert ("points[0].name", "must hold at least one visible character") in refusal(
        edit("name: Main hall", 'name: "\\u3164"')(VALID)
    )


ISOLATED = [".tile-name", ".tile-detail", ".message-text", ".now-title", ".now-speaker"]


def test_the_stylesheet_isolates_every_element_that_shows_user_text():
    css = (Path(__file__).parent.parent / "static" / "css" / "app.css").read_text("utf-8")
    rule = css[css.index("unicode-bidi: isolate") - 1200 : css.index("unicode-bidi: isolate")]
    assert all(selector in rule for selector in ISOLATED)


@pytest.fixture
def chromium() -> Iterator:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"], headless=True
        )
        yield browser
        browser.close()


@pytest.mark.slow
@pytest.mark.browser
def test_the_mc_board_shows_a_check_in_as_typed_and_isolated(database_url, chromium):
    serving = serve(database_url)
    server = next(serving)
    try:
        ward = Caller(server.app.test_client(), server.tokens["thoi-an"])
        assert ward.check_in("thoi-an", by="\u202eTrần Thị B", present=7).status_code == 200
        page = chromium.new_page()
        page.goto(f"{server.url}/mc?token={server.tokens['mc']}")
        detail = page.locator('[data-key="thoi-an"] [data-slot="detail"]')
        detail.wait_for(state="visible", timeout=15_000)
        # the override is gone, and the name sits between isolates within its line
        assert "\u2068Trần Thị B\u2069 · " in detail.inner_text()
        assert "\u202e" not in detail.inner_text()
        for selector in ISOLATED[:2]:
            element = page.locator(f'[data-key="thoi-an"] {selector}')
            assert element.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
        page.close()
    finally:
        serving.close()


# -- finding 10: a secret key that is a secret ------------------------------------------------


def test_a_secret_key_shorter_than_32_bytes_is_refused_with_how_to_make_one():
    problem = secret_key_problem({"RUNSHEET_SECRET_KEY": "x"})
    assert "at least 32 bytes" in problem
    assert "secrets.token_urlsafe(32)" in problem


def test_a_strong_or_generated_secret_key_is_accepted():
    assert secret_key_problem({"RUNSHEET_SECRET_KEY": "k" * MIN_SECRET_KEY_BYTES}) is None
    assert secret_key_problem({}) is None  # generated into the instance folder, strong


def test_runsheet_serve_refuses_a_one_letter_secret_key_before_serving(database_url, monkeypatch):
    from runsheet.cli import cli

    runner = cli_on(database_url, monkeypatch)
    monkeypatch.setenv("RUNSHEET_SECRET_KEY", "x")
    result = runner.invoke(cli, ["serve", "--port", "1"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "RUNSHEET_SECRET_KEY is 1 bytes long; it must be at least 32 bytes" in result.output
    assert "serving" not in result.output
