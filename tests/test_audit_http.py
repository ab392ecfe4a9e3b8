"""The audit log, the links and one role's rotation over HTTP, and the organizer's pages.

The app runs on a fresh SQLite database with the built-in plan; callers use the API with
their tokens (``Caller``), the organizer's pages with the organizer's cookie.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from runsheet.plans import default_plan

from .conftest import POINT_IDS, Caller

SLUG = default_plan().event.slug


def audit(caller: Caller, query: str = "") -> dict:
    response = caller.client.get(f"/api/v1/audit{query}", headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def organizer_browser(app, tokens):
    """Return a test client holding the organizer's cookie (as after opening its link)."""
    browser = app.test_client()
    assert browser.get(f"/organizer?token={tokens['organizer']}").status_code == 303
    return browser


# -- GET /api/v1/audit ----------------------------------------------------------------------


def test_the_organizer_reads_every_action_newest_first(organizer, mc, ward):
    mc.advance()
    ward.check_in("thoi-an", by="Chị Lan")
    ward.post("/points/thoi-an/trouble", {"kind": "no_sound", "text": "rè"})
    entries = audit(organizer)["entries"]
    assert [e["action"] for e in entries] == ["trouble", "checkin", "advance", "load_plan"]
    trouble = entries[0]
    assert (trouble["role"], trouble["point_id"], trouble["channel"]) == (
        "point",
        "thoi-an",
        "http",
    )
    assert trouble["summary"] == {"kind": "no_sound", "text": "rè", "point_id": "thoi-an"}
    assert trouble["at"].endswith("+07:00")  # the event's zone
    assert [e["version_after"] for e in entries] == [4, 3, 2, 1]


def test_a_console_named_by_its_caller_is_kept(client, organizer, tokens):
    headers = {"Authorization": f"Bearer {tokens['mc']}", "X-Runsheet-Console": "Stream Deck A"}
    assert client.post("/api/v1/advance", headers=headers).status_code == 200
    assert audit(organizer)["entries"][0]["console"] == "Stream Deck A"


def test_refusals_carry_why_and_a_caller_without_a_token_leaves_none(
    organizer, mc, ward, anonymous
):
    assert ward.advance().status_code == 403
    assert mc.advance(expected_version=99).status_code == 409
    assert anonymous.advance().status_code == 401
    stale, forbidden = audit(organizer)["entries"][:2]
    assert (stale["outcome"], stale["error_kind"], stale["role"]) == ("refused", "stale", "mc")
    assert (forbidden["error_kind"], forbidden["point_id"]) == ("forbidden", "thoi-an")
    assert "not allowed" in forbidden["error"]
    assert all(e["role"] != "public" for e in audit(organizer)["entries"])


def test_the_log_pages_on_with_next_before(organizer, mc):
    mc.advance()
    for seconds in (10, 20, 30, 40, 50):
        mc.post("/extend", {"seconds": seconds})
    first = audit(organizer, "?limit=2")
    assert [e["summary"]["seconds"] for e in first["entries"]] == [50, 40]
    second = audit(organizer, f"?limit=2&before={first['next_before']}")
    assert [e["summary"]["seconds"] for e in second["entries"]] == [30, 20]
    everything = audit(organizer, "?limit=100")
    assert everything["next_before"] is None


def test_the_log_filters_by_role_point_and_run(organizer, mc, ward, client, tokens):
    mc.post("/rehearse")
    mc.post("/end-rehearsal")
    Caller(client, tokens["thanh-loc"]).check_in("thanh-loc")
    ward.check_in("thoi-an")
    assert {e["role"] for e in audit(organizer, "?role=mc")["entries"]} == {"mc"}
    assert [e["point_id"] for e in audit(organizer, "?point=thoi-an")["entries"]] == ["thoi-an"]
    assert [e["action"] for e in audit(organizer, "?run=1")["entries"]] == [
        "end_rehearsal",
        "rehearse",
        "load_plan",
    ]
    assert len(audit(organizer, "?run=2&role=point")["entries"]) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?limit=abc", "limit"),
        ("?limit=0", "limit"),
        ("?limit=100000", "limit"),
        ("?before=-1", "before"),
        ("?run=１", "run"),  # a full-width digit is no whole number here
        ("?role=admin", "role"),
        ("?point=" + "x" * 200, "point"),
    ],
)
def test_a_bad_filter_is_refused_naming_it(organizer, query, field):
    response = organizer.client.get(f"/api/v1/audit{query}", headers=organizer.headers)
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_an_unknown_filter_is_refused(organizer):
    response = organizer.client.get("/api/v1/audit?who=mc", headers=organizer.headers)
    assert response.status_code == 400 and "who" in response.get_json()["error"]


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit.csv", "/api/v1/links"])
def test_only_the_organizer_reads_the_log_and_the_links(client, tokens, path):
    assert client.get(path).status_code == 401
    for role in ("mc", "thoi-an"):
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        response = client.get(path, headers=headers)
        assert response.status_code == 403 and response.get_json()["kind"] == "forbidden"


def test_the_csv_has_a_bom_headers_in_the_language_and_every_entry(organizer, mc, tokens, client):
    mc.advance()
    headers = {**mc.headers, "X-Runsheet-Console": '=HYPERLINK("http://evil")'}
    client.post("/api/v1/extend", json={"seconds": 30}, headers=headers)
    response = organizer.client.get("/api/v1/audit.csv?lang=vi", headers=organizer.headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:4] == ["Số", "Lượt", "Lúc", "Vai trò"]
    assert [row[7] for row in rows[1:]] == ["extend", "advance", "load_plan"]
    assert json.loads(rows[1][13]) == {"seconds": 30}
    assert rows[1][5] == '\'=HYPERLINK("http://evil")'  # a spreadsheet keeps it as text
    english = organizer.client.get("/api/v1/audit.csv?lang=en&role=mc", headers=organizer.headers)
    rows = list(csv.reader(io.StringIO(english.data.decode().removeprefix("\ufeff"))))
    assert rows[0][:3] == ["No.", "Run", "At"] and len(rows) == 3


# -- links and rotation --------------------------------------------------------------------


def test_the_organizer_gets_every_role_link_as_the_cli_prints_them(organizer, tokens):
    links = organizer.client.get("/api/v1/links", headers=organizer.headers).get_json()
    assert links["mc"].endswith(f"/mc?token={tokens['mc']}")
    assert links["organizer"].endswith(f"/organizer?token={tokens['organizer']}")
    assert sorted(links["points"]) == sorted(POINT_IDS)
    assert links["points"]["thoi-an"].endswith(f"?token={tokens['thoi-an']}")
    assert links["stage"].endswith("/stage") and links["public"].endswith("/")


def test_rotating_the_mcs_link_stops_it_at_once_and_keeps_every_other(organizer, mc, ward, client):
    response = organizer.post("/links/rotate", {"role": "mc"})
    assert response.status_code == 200
    new_mc = response.get_json()["mc"].split("?token=")[1]
    assert mc.advance().status_code == 401
    assert Caller(client, new_mc).advance().status_code == 200
    assert ward.check_in("thoi-an").status_code == 200
    assert organizer.state()["phase"] == "live"
    rotated = audit(organizer, "?role=organizer")["entries"][0]
    assert (rotated["action"], rotated["summary"]) == (
        "rotate_tokens",
        {"role": "mc", "point_id": None},
    )


def test_rotating_one_point_changes_only_that_points_link(organizer, client, tokens):
    before = organizer.client.get("/api/v1/links", headers=organizer.headers).get_json()
    after = organizer.post("/links/rotate", {"role": "point", "point_id": "thoi-an"}).get_json()
    assert after["points"]["thoi-an"] != before["points"]["thoi-an"]
    assert {k: v for k, v in after["points"].items() if k != "thoi-an"} == {
        k: v for k, v in before["points"].items() if k != "thoi-an"
    }
    assert after["mc"] == before["mc"] and after["organizer"] == before["organizer"]
    assert Caller(client, tokens["thoi-an"]).check_in("thoi-an").status_code == 401
    assert Caller(client, tokens["thanh-loc"]).check_in("thanh-loc").status_code == 200


def test_rotating_every_point_then_one_never_brings_an_old_link_back(organizer, client, tokens):
    seen = {tokens["thoi-an"]}
    for body in ({"role": "point"}, {"role": "point", "point_id": "thoi-an"}, {"role": "point"}):
        links = organizer.post("/links/rotate", body).get_json()
        token = links["points"]["thoi-an"].split("?token=")[1]
        assert token not in seen
        seen.add(token)
    assert Caller(client, tokens["thanh-loc"]).check_in("thanh-loc").status_code == 401


def test_rotating_the_organizers_own_link_answers_with_the_new_one(organizer, client):
    links = organizer.post("/links/rotate", {"role": "organizer"}).get_json()
    assert organizer.client.get("/api/v1/links", headers=organizer.headers).status_code == 401
    new = Caller(client, links["organizer"].split("?token=")[1])
    assert new.client.get("/api/v1/links", headers=new.headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "role"),
        ({"role": "public"}, 400, "role"),
        ({"role": "mc", "point_id": "thoi-an"}, 400, "point_id"),
        ({"role": "point", "point_id": "nowhere"}, 404, "point_id"),
        ({"role": "mc", "extra": 1}, 400, "extra"),
    ],
)
def test_a_bad_rotation_is_refused_and_changes_no_link(organizer, body, status, field):
    before = organizer.client.get("/api/v1/links", headers=organizer.headers).get_json()
    response = organizer.post("/links/rotate", body)
    assert response.status_code == status
    assert response.get_json()["field"] == field
    assert organizer.client.get("/api/v1/links", headers=organizer.headers).get_json() == before


def test_only_the_organizer_rotates(client, tokens, mc):
    response = mc.post("/links/rotate", {"role": "point"})
    assert response.status_code == 403
    assert Caller(client, tokens["thoi-an"]).check_in("thoi-an").status_code == 200


def test_the_cli_rotates_one_role(runner, database_url):
    from .conftest import make_app, tokens_of

    before = tokens_of(make_app(database_url))
    result = runner.invoke("rotate-tokens", "--role", "point", "--point", "thoi-an")
    assert result.exit_code == 0 and "thoi-an" in result.output
    after = tokens_of(make_app(database_url))
    assert after["thoi-an"] != before["thoi-an"]
    assert {k: v for k, v in after.items() if k != "thoi-an"} == {
        k: v for k, v in before.items() if k != "thoi-an"
    }
    refused = runner.invoke("rotate-tokens", "--role", "mc", "--point", "thoi-an")
    assert refused.exit_code != 0 and "point_id" in refused.output


# -- the organizer's pages -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/organizer/audit",
        "/organizer/print/links",
        "/organizer/print/invitations",
        "/organizer/qr.svg?link=mc",
    ],
)
def test_the_organizers_pages_need_the_organizers_cookie(client, tokens, path):
    assert client.get(path).status_code == 401
    client.get(f"/mc?token={tokens['mc']}")  # the MC's cookie is not the organizer's
    assert client.get(path).status_code == 401


def test_the_audit_page_shows_the_log_in_vietnamese_with_filters(organizer_browser, mc, ward):
    mc.advance()
    ward.post("/advance")  # refused
    page = organizer_browser.get("/organizer/audit").data.decode()
    assert "Nhật ký thao tác" in page and "Chuyển mục tiếp" in page and "Bị từ chối" in page
    assert "Điểm cầu: Ủy ban nhân dân phường Thới An" in page
    assert (
        "default-src 'none'"
        in organizer_browser.get("/organizer/audit").headers["Content-Security-Policy"]
    )
    assert "Refused" in organizer_browser.get("/organizer/audit?lang=en").data.decode()
    english = organizer_browser.get("/organizer/audit?role=point").data.decode()
    assert "Audit log" in english and "Refused" in english and english.count("data-entry=") == 1


def test_the_qr_image_draws_the_named_link(organizer_browser):
    response = organizer_browser.get("/organizer/qr.svg?link=point:thoi-an")
    assert response.mimetype == "image/svg+xml" and b"<svg" in response.data
    assert response.headers["Cache-Control"] == "no-store"
    assert organizer_browser.get("/organizer/qr.svg?link=point:nowhere").status_code == 404
    assert organizer_browser.get("/organizer/qr.svg?link=everyone").status_code == 404


def test_the_printables_hold_every_point(organizer_browser):
    sheet = organizer_browser.get("/organizer/print/links").data.decode()
    assert sheet.count('class="link-card"') == 15  # the MC, the stage, 13 points
    letters = organizer_browser.get("/organizer/print/invitations?date=2021-09-28").data.decode()
    assert letters.count('class="sheet letter"') == 13
    assert "ngày 28 tháng 09 năm 2021" in letters and "Quận 12" in letters
    bad = organizer_browser.get("/organizer/print/invitations?date=tomorrow")
    assert bad.status_code == 400


def test_storing_a_changed_plans_tokens_keeps_a_role_rotated_alone(app, organizer, client, tokens):
    from runsheet.services.plans import _store_token_hashes, token_generation

    organizer.post("/links/rotate", {"role": "mc"})
    svc = app.extensions["runsheet"]
    current = svc.ceremony.current()
    with svc.store.transaction() as conn:  # as a plan save stores the tokens of its roles
        generation = token_generation(svc.store, current.plan.event.slug, conn)
        _store_token_hashes(
            svc.store,
            conn,
            current.event_id,
            current.plan,
            svc.secret_key,
            generation,
            svc.ceremony.clock(),
        )
    assert Caller(client, tokens["mc"]).advance().status_code == 401
    assert Caller(client, tokens["thoi-an"]).check_in("thoi-an").status_code == 200


# -- the plan editor ------------------------------------------------------------------------


def test_a_plan_saved_in_the_editor_is_logged_and_a_stale_save_refused_with_why(organizer):
    from .test_plan_editing import put_plan, read_plan

    plan, revision = read_plan(organizer)
    plan["agenda"][1]["title"] = "Tuyên bố lý do (sửa)"
    assert put_plan(organizer, plan, revision).status_code == 200
    assert put_plan(organizer, plan, revision).status_code == 409
    stale, saved = audit(organizer)["entries"][:2]
    assert (saved["action"], saved["role"], saved["channel"], saved["outcome"]) == (
        "save_plan",
        "organizer",
        "editor",
        "done",
    )
    assert saved["summary"]["revision"] == revision + 1 and saved["summary"]["items"] == 7
    assert saved["version_after"] == saved["version_before"] + 1
    assert (stale["action"], stale["outcome"], stale["error_kind"]) == (
        "save_plan",
        "refused",
        "stale_plan",
    )


def test_a_plan_save_keeps_a_link_rotated_alone(organizer, client, tokens):
    from .test_plan_editing import put_plan, read_plan

    new_mc = organizer.post("/links/rotate", {"role": "mc"}).get_json()["mc"].split("=")[1]
    plan, revision = read_plan(organizer)
    plan["agenda"][1]["title"] = "Tuyên bố lý do (sửa)"
    assert put_plan(organizer, plan, revision).status_code == 200
    assert Caller(client, tokens["mc"]).advance().status_code == 401
    assert Caller(client, new_mc).advance().status_code == 200


def test_creating_switching_archiving_and_restoring_events_are_logged(app, organizer):
    assert organizer.post("/events", {"slug": "hai", "from": "blank"}).status_code == 201
    assert organizer.post("/events/hai/activate").status_code == 200
    switched, created = audit(organizer)["entries"][:2]
    assert (created["action"], created["role"], created["channel"]) == (
        "load_plan",
        "organizer",
        "http",
    )
    assert (switched["action"], switched["summary"]) == ("activate_event", {"slug": "hai"})
    assert organizer.post(f"/events/{SLUG}/archive").status_code == 200
    assert organizer.post(f"/events/{SLUG}/archive").status_code == 200  # again: no change
    assert organizer.post(f"/events/{SLUG}/restore").status_code == 200
    store = app.extensions["runsheet"].store
    first = store.event_by_slug(SLUG)
    actions = [e.action for e in store.audit_entries(first.id)]
    assert actions[:2] == ["restore_event", "archive_event"]
