"""A rehearsal leaves the real run clean, and no reset destroys a record (issue 13, part 1)."""

from __future__ import annotations

import pytest

from .conftest import POINT_IDS

FIRST = "tuyen-bo-ly-do"


@pytest.fixture
def rehearsed(mc, ward, clock):
    """Rehearse with a check-in, a trouble, a roll call and a message, then stop there."""
    assert mc.post("/rehearse").status_code == 200
    ward.check_in("thoi-an", by="Kỹ thuật viên", present=3)
    ward.post("/points/thoi-an/trouble", {"kind": "no_sound"})
    mc.post("/roll-call", {"seconds": 60})
    ward.post("/roll-call", {})
    mc.post("/messages", {"text": "Thử âm thanh"})
    clock.advance(minutes=2)
    mc.advance()
    clock.advance(minutes=1)
    return mc.state()


def test_a_rehearsal_runs_as_a_rehearsal_numbered_one(mc, clock):
    state = mc.post("/rehearse").get_json()
    assert state["run"] == {"kind": "rehearsal", "number": 1, "started_at": state["server_time"]}
    assert state["current_item_id"] == FIRST


def test_a_rehearsal_starts_only_from_not_started(mc):
    mc.advance()
    assert mc.post("/rehearse").get_json()["kind"] == "conflict"
    assert mc.post("/end-rehearsal").get_json()["kind"] == "conflict"  # a real run, no rehearsal


def test_the_real_run_starts_clean_after_a_rehearsal(rehearsed, mc, ward, anonymous):
    assert rehearsed["run"]["kind"] == "rehearsal"
    ended = mc.post("/end-rehearsal").get_json()
    assert ended["phase"] == "not_started"
    assert ended["run"] is None
    assert ended["messages"] == []
    assert ended["roll_call"] is None
    for point in ended["points"]:
        assert point["checked_in_at"] is None and point["trouble"] is None, point
    assert all(item["status"] == "pending" for item in ended["agenda"])
    assert ward.state()["messages"] == []

    live = mc.advance().get_json()
    assert live["run"]["kind"] == "live"
    assert live["run"]["number"] == 2  # runs are numbered in the order they started


def test_the_rehearsals_record_is_kept_whole(rehearsed, mc, client):
    mc.post("/end-rehearsal")
    runs = client.get("/api/v1/runs").get_json()["runs"]
    assert [(r["number"], r["kind"], r["archived"]) for r in runs] == [(1, "rehearsal", True)]
    assert runs[0]["ended_at"] > runs[0]["started_at"]

    history = client.get("/api/v1/history?run=1").get_json()
    assert [span["item_id"] for span in history["spans"]] == [FIRST, "dien-van-khai-mac"]
    assert [span["seconds"] for span in history["spans"]] == [120, 60]
    assert all(span["ended_at"] for span in history["spans"])

    services = client.application.extensions["runsheet"]
    event_id = services.ceremony.current().event_id
    record = services.store.archived_record(event_id, 1)
    assert record.points["thoi-an"].checkin.by == "Kỹ thuật viên"
    assert record.points["thoi-an"].trouble.kind == "no_sound"
    assert [m.text for m in record.messages] == ["Thử âm thanh"]
    assert "thoi-an" in record.roll_call.answers


def test_a_reset_archives_the_run_it_ends_instead_of_deleting_it(mc, client, clock):
    mc.advance()
    clock.advance(minutes=3)
    mc.advance()
    mc.check_in("phong-hop-a")
    state = mc.post("/reset").get_json()
    assert state["phase"] == "not_started" and state["run"] is None
    assert state["points"][0]["checked_in_at"] is not None  # a real run's reset keeps them

    runs = client.get("/api/v1/runs").get_json()["runs"]
    assert [(r["number"], r["kind"]) for r in runs] == [(1, "live")]
    spans = client.get("/api/v1/history?run=1").get_json()["spans"]
    assert [span["seconds"] for span in spans] == [180, 0]
    assert client.get("/api/v1/history").get_json()["spans"] == []  # the new run is empty


def test_resetting_a_rehearsal_ends_it_as_end_rehearsal_does(rehearsed, mc):
    state = mc.post("/reset").get_json()
    assert all(point["checked_in_at"] is None for point in state["points"])
    assert state["messages"] == []


def test_the_run_under_way_is_listed_after_the_archived_ones(rehearsed, mc, client):
    mc.post("/end-rehearsal")
    mc.advance()
    runs = client.get("/api/v1/runs").get_json()["runs"]
    assert [(r["number"], r["kind"], r["archived"], r["ended_at"]) for r in runs][1] == (
        2,
        "live",
        False,
        None,
    )


def test_an_unknown_run_is_not_found(client):
    assert client.get("/api/v1/history?run=7").status_code == 404
    assert client.get("/api/v1/history?run=x").status_code == 404


def test_only_the_mc_rehearses(ward, anonymous):
    assert ward.post("/rehearse").status_code == 403
    assert anonymous.post("/rehearse").status_code == 401
    assert ward.post("/end-rehearsal").status_code == 403


def test_message_and_roll_call_ids_are_never_reused_after_a_rehearsal(rehearsed, mc):
    before = rehearsed["messages"][-1]["id"], rehearsed["roll_call"]["id"]
    mc.post("/end-rehearsal")
    mc.advance()
    mc.post("/messages", {"text": "Bắt đầu"})
    state = mc.post("/roll-call", {"seconds": 60}).get_json()
    assert state["messages"][-1]["id"] > before[0]
    assert state["roll_call"]["id"] > before[1]
    assert len(POINT_IDS) == len(state["points"])
