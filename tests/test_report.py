"""The report of a run equals what was done (issue 13.2): a ceremony scripted on a frozen clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .conftest import Caller

FIRST, SECOND, THIRD, FOURTH = (
    "tuyen-bo-ly-do",
    "dien-van-khai-mac",
    "phat-bieu-don-vi-cung-ung",
    "phat-bieu-nguoi-hoc",
)
WARD = "thoi-an"


def done(response) -> bool:  # noqa: ANN001
    """Return whether an API call succeeded (and show its error if not)."""
    assert response.status_code == 200, response.get_json()
    return True


def at(clock_time: str) -> str:
    """Return a time of the ceremony's day as the report writes it (the event's zone)."""
    return f"2021-10-01T{clock_time}+07:00"


class Scene:
    """The people of the scripted ceremony, and the page connections of the ward."""

    def __init__(self, app, client, tokens, clock) -> None:  # noqa: ANN001
        self.clock = clock
        self.mc = Caller(client, tokens["mc"])
        self.ward = Caller(client, tokens[WARD])
        self.services = app.extensions["runsheet"]
        self.event_id = self.services.ceremony.current().event_id

    def ward_page_opens(self, sid: str = "ward-page") -> None:
        self.services.store.add_connection(sid, self.event_id, WARD, "process-1", self.clock())
        self.services.ceremony.refresh_presence()

    def ward_page_closes(self, sid: str = "ward-page") -> None:
        """The page closed a moment ago, longer than the presence grace (1 s in tests)."""
        closed_at = self.clock() - timedelta(seconds=2)
        self.services.store.close_connection(sid, closed_at)
        self.services.ceremony.refresh_presence()


@pytest.fixture
def scene(app, client, tokens, clock) -> Scene:
    return Scene(app, client, tokens, clock)


@pytest.fixture
def ceremony_held(scene, clock):
    """Run the ceremony, 08:00 to 08:36:30, with everything a report must hold."""
    mc, ward = scene.mc, scene.ward
    scene.ward_page_opens()  # 08:00
    ward.check_in(WARD, by="Kỹ thuật viên A", present=12, note="Sẵn sàng")
    assert mc.advance().status_code == 200  # 08:00 the first item live
    clock.advance(minutes=1)  # 08:01
    assert done(ward.post(f"/points/{WARD}/trouble", {"kind": "no_sound", "text": "Mất tiếng"}))
    clock.advance(minutes=1)  # 08:02
    mc.post("/roll-call", {"seconds": 60})
    clock.advance(seconds=10)  # 08:02:10
    assert done(ward.post("/roll-call", {}))
    message = mc.post("/messages", {"text": "Kiểm tra âm thanh", "to": WARD}).get_json()
    clock.advance(seconds=20)  # 08:02:30
    assert done(ward.post(f"/messages/{message['messages'][-1]['id']}/ack", {}))
    clock.advance(seconds=30)  # 08:03
    assert done(ward.post(f"/points/{WARD}/trouble/clear", {}))
    assert done(mc.post("/extend", {"seconds": 60}))
    clock.advance(minutes=1)  # 08:04
    assert done(mc.post("/hold"))
    clock.advance(seconds=30)  # 08:04:30
    assert done(mc.post("/resume"))
    clock.advance(seconds=30)  # 08:05
    ward.check_in(WARD, by="Kỹ thuật viên B", present=15)
    scene.ward_page_closes()
    clock.advance(seconds=90)  # 08:06:30: the first item ran 6:30 for 5 planned
    mc.advance()
    clock.advance(minutes=2)  # 08:08:30
    scene.ward_page_opens("ward-page-2")
    clock.advance(minutes=13)  # 08:21:30: the second ran 15:00 for 15 planned
    mc.goto(FOURTH)  # the third item is passed over
    clock.advance(minutes=15)  # 08:36:30
    assert done(mc.finish())
    return scene


def report_of(caller: Caller, query: str = "") -> dict:
    response = caller.client.get(f"/api/v1/report{query}", headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_report_holds_each_item_planned_against_actual(ceremony_held, mc):
    report = report_of(mc)
    items = {item["id"]: item for item in report["items"]}
    first = items[FIRST]
    assert (first["planned_start"], first["planned_minutes"]) == (at("08:00:00"), 5)
    assert (first["actual_start"], first["actual_end"]) == (at("08:00:00"), at("08:06:30"))
    assert first["actual_seconds"] == 390
    assert first["over_under_seconds"] == 90
    assert first["extensions"] == [{"at": at("08:03:00"), "seconds": 60}]
    assert first["holds"] == [{"from": at("08:04:00"), "to": at("08:04:30"), "seconds": 30}]
    assert first["status"] == "done"
    assert first["speaker"] and first["point_name"] == "Phòng họp A"
    assert (items[SECOND]["actual_seconds"], items[SECOND]["over_under_seconds"]) == (900, 0)
    assert items[THIRD]["status"] == "skipped"
    assert items[THIRD]["actual_start"] is None and items[THIRD]["actual_seconds"] is None
    assert items[FOURTH]["actual_seconds"] == 900 and items[FOURTH]["over_under_seconds"] == 600
    assert [i["status"] for i in report["items"][4:]] == ["skipped"] * 3


def test_the_report_holds_the_ceremony_start_end_delay_and_drift(ceremony_held, mc):
    report = report_of(mc)
    ceremony = report["ceremony"]
    assert ceremony["planned_start"] == ceremony["actual_start"] == at("08:00:00")
    assert ceremony["start_delay_seconds"] == 0
    assert ceremony["planned_end"] == at("09:00:00")
    assert ceremony["actual_end"] == at("08:36:30")
    assert ceremony["actual_seconds"] == 36 * 60 + 30
    assert ceremony["drift_seconds"] == (36 * 60 + 30) - 3600  # items were skipped
    assert report["run"] == {
        "number": 1,
        "kind": "live",
        "started_at": at("08:00:00"),
        "ended_at": None,
        "archived": False,
        "final": True,
    }


def test_the_report_holds_the_points_log(ceremony_held, mc):
    point = next(p for p in report_of(mc)["points"] if p["id"] == WARD)
    assert (point["confirmed_at"], point["confirmed_by"], point["present"]) == (
        at("08:05:00"),
        "Kỹ thuật viên B",
        15,
    )
    assert [(c["at"], c["by"], c["present"], c["note"]) for c in point["checkins"]] == [
        (at("08:00:00"), "Kỹ thuật viên A", 12, "Sẵn sàng"),
        (at("08:05:00"), "Kỹ thuật viên B", 15, ""),
    ]
    assert point["troubles"] == [
        {
            "kind": "no_sound",
            "text": "Mất tiếng",
            "from": at("08:01:00"),
            "to": at("08:03:00"),
            "seconds": 120,
        }
    ]
    assert point["online_spans"] == [
        {"from": at("08:00:00"), "to": at("08:05:00"), "seconds": 300},
        {"from": at("08:08:30"), "to": None, "seconds": 28 * 60},
    ]
    assert point["roll_calls"] == [
        {
            "id": 1,
            "started_at": at("08:02:00"),
            "answered_at": at("08:02:10"),
            "delay_seconds": 10,
        }
    ]
    assert [
        (m["text"], m["sent_at"], m["read_at"], m["read_after_seconds"]) for m in point["messages"]
    ] == [("Kiểm tra âm thanh", at("08:02:10"), at("08:02:30"), 20)]


def test_another_point_holds_only_its_own_log(ceremony_held, mc):
    other = next(p for p in report_of(mc)["points"] if p["id"] == "thanh-loc")
    assert other["checkins"] == other["troubles"] == other["messages"] == []
    assert other["online_spans"] == []
    assert other["roll_calls"][0]["answered_at"] is None


def test_the_report_holds_the_audit_log_of_the_run(ceremony_held, mc):
    report = report_of(mc)
    assert report["audit_source"] == "audit"
    actions = [entry["action"] for entry in report["audit"]]
    assert actions.count("advance") == 2 and actions[-1] == "finish"
    assert "presence" in actions and "hold" in actions and "ack_message" in actions
    assert [e["at"] for e in report["audit"]] == sorted(e["at"] for e in report["audit"])


def test_the_report_is_live_during_the_run(scene, mc, clock):
    mc.advance()
    clock.advance(minutes=7)
    report = report_of(mc)
    assert report["run"]["final"] is False
    first = report["items"][0]
    assert first["status"] == "live" and first["actual_end"] is None
    assert first["actual_seconds"] == 420 and first["over_under_seconds"] == 120
    assert report["ceremony"]["projected_end"] == at("09:02:00")


def test_before_any_run_the_report_is_the_plan(mc):
    report = report_of(mc)
    assert report["run"] is None
    assert all(item["status"] == "pending" for item in report["items"])
    assert report["ceremony"]["actual_start"] is None


def test_an_archived_rehearsals_report_is_whole_after_the_real_run_started(scene, mc, clock):
    ward = scene.ward
    mc.post("/rehearse")
    ward.check_in(WARD, by="Người tổng duyệt", present=2)
    ward.post(f"/points/{WARD}/trouble", {"kind": "no_picture"})
    clock.advance(minutes=4)
    mc.post("/end-rehearsal")
    clock.advance(minutes=30)
    mc.advance()  # the real run, number 2
    ward.check_in(WARD, by="Ca chính thức", present=20)

    assert report_of(mc)["run"]["number"] == 2  # the latest real run by default
    rehearsal = report_of(mc, "?run=1")
    assert rehearsal["run"]["kind"] == "rehearsal" and rehearsal["run"]["archived"] is True
    point = next(p for p in rehearsal["points"] if p["id"] == WARD)
    assert [c["by"] for c in point["checkins"]] == ["Người tổng duyệt"]
    assert point["troubles"][0]["kind"] == "no_picture"
    # Still open when the rehearsal ended (its end cleared it for the real run).
    assert (point["troubles"][0]["to"], point["troubles"][0]["seconds"]) == (None, 240)
    assert rehearsal["items"][0]["actual_seconds"] == 240


def test_the_report_is_for_the_organizer_and_the_mc(mc, organizer, ward, anonymous):
    assert anonymous.client.get("/api/v1/report").status_code == 401
    refused = ward.client.get("/api/v1/report", headers=ward.headers)
    assert refused.status_code == 403 and refused.get_json()["kind"] == "forbidden"
    assert organizer.client.get("/api/v1/report", headers=organizer.headers).status_code == 200
    assert mc.client.get("/api/v1/report.csv", headers=mc.headers).status_code == 200


def test_an_unknown_or_malformed_run_is_refused(mc):
    missing = mc.client.get("/api/v1/report?run=9", headers=mc.headers)
    assert missing.status_code == 404 and missing.get_json()["field"] == "run"
    malformed = mc.client.get("/api/v1/report?run=abc", headers=mc.headers)
    assert malformed.status_code == 400 and malformed.get_json()["field"] == "run"


def test_a_point_reads_its_own_report_and_never_anothers(ceremony_held, client, tokens):
    ward = Caller(client, tokens[WARD])
    own = client.get(f"/api/v1/points/{WARD}/report", headers=ward.headers)
    assert own.status_code == 200
    body = own.get_json()
    assert [p["id"] for p in body["points"]] == [WARD]
    assert all(e["point_id"] == WARD or e["summary"].get("point_id") == WARD for e in body["audit"])
    other = client.get("/api/v1/points/thanh-loc/report", headers=ward.headers)
    assert other.status_code == 403
    organizer = Caller(client, tokens["organizer"])
    assert done(client.get("/api/v1/points/thanh-loc/report", headers=organizer.headers))
    assert client.get("/api/v1/points/nowhere/report", headers=organizer.headers).status_code == 404


def test_a_final_report_reads_the_same_later(ceremony_held, mc, clock):
    before = report_of(mc)
    clock.advance(hours=2)
    after = report_of(mc)
    assert after["generated_at"] != before["generated_at"]
    del before["generated_at"], after["generated_at"]
    assert after == before


def test_pages_are_drawn_with_the_rehearsal_banner_while_one_runs(mc, client):
    def banner() -> str:
        html = client.get("/").get_data(as_text=True)
        start = html.index('id="rehearsal-banner"')
        return html[start : html.index(">", start)]

    assert " hidden" in banner()
    mc.post("/rehearse")
    assert " hidden" not in banner() and 'data-run="1"' in banner()
    assert "TỔNG DUYỆT" in client.get("/stage").get_data(as_text=True)
    mc.post("/end-rehearsal")
    assert " hidden" in banner()
