"""The live show over the HTTP API: the speaker's clock, extend and hold, the stage channel,
the move guard, skipped items, standby cues and link health (issue 11), on a frozen clock."""

from __future__ import annotations

import dataclasses

import pytest

from runsheet.plans import default_plan
from runsheet.services.plans import install_plan

from .conftest import SECRET, Caller, make_app, tokens_of

FIRST, SECOND, THIRD = "tuyen-bo-ly-do", "dien-van-khai-mac", "phat-bieu-don-vi-cung-ung"


def item(state: dict, item_id: str) -> dict:
    return next(entry for entry in state["agenda"] if entry["id"] == item_id)


def test_the_live_item_carries_its_time_left_and_its_warning_threshold(mc, clock):
    state = mc.advance().get_json()
    planned = item(state, FIRST)["planned_minutes"] * 60
    assert state["timing"]["item_remaining_seconds"] == planned
    assert state["timing"]["item_warn_seconds"] == 120  # the default: two minutes
    clock.advance(seconds=planned + 70)
    state = mc.state()
    assert state["timing"]["item_remaining_seconds"] == -70  # over: negative


def test_extending_the_live_item_adds_time_and_reflows_the_items_after_it(mc, clock):
    state = mc.advance().get_json()
    before = item(state, SECOND)["projected_start"]
    planned = state["timing"]["item_planned_seconds"]

    state = mc.post("/extend", {"seconds": 60}).get_json()
    assert state["timing"]["item_planned_seconds"] == planned + 60
    assert state["timing"]["item_remaining_seconds"] == planned + 60
    assert item(state, FIRST)["extended_seconds"] == 60
    shifted = item(state, SECOND)["projected_start"]
    assert shifted > before
    assert (_moment(shifted) - _moment(before)).total_seconds() == 60


def test_a_negative_extension_takes_time_off_but_never_below_what_has_elapsed(mc, clock):
    state = mc.advance().get_json()
    planned = state["timing"]["item_planned_seconds"]
    clock.advance(seconds=30)
    state = mc.post("/extend", {"seconds": -60}).get_json()
    assert state["timing"]["item_planned_seconds"] == planned - 60

    state = mc.post("/extend", {"seconds": -100_000 + 50_000}).get_json()
    assert state["timing"]["item_planned_seconds"] == 30  # the elapsed time at the call
    assert state["timing"]["item_remaining_seconds"] == 0


def test_extend_needs_a_live_item_and_a_nonzero_whole_number_of_seconds(mc):
    assert mc.post("/extend", {"seconds": 60}).status_code == 409  # nothing live
    mc.advance()
    version = mc.state()["version"]
    for body in ({}, {"seconds": 0}, {"seconds": "60"}, {"seconds": 1.5}, {"seconds": 10**6}):
        response = mc.post("/extend", body)
        assert response.status_code == 400, body
        assert response.get_json()["field"] == "seconds"
    assert mc.state()["version"] == version


def test_time_on_hold_does_not_count_as_elapsed(mc, clock):
    mc.advance()
    clock.advance(seconds=20)
    state = mc.post("/hold").get_json()
    assert state["hold"] == {"since": state["server_time"]}
    clock.advance(seconds=300)
    state = mc.state()
    assert state["timing"]["item_elapsed_seconds"] == 20  # frozen while on hold
    assert mc.post("/hold").status_code == 409  # already on hold

    state = mc.post("/resume").get_json()
    assert state["hold"] is None
    clock.advance(seconds=10)
    assert mc.state()["timing"]["item_elapsed_seconds"] == 30
    assert mc.post("/resume").status_code == 409  # not on hold


def test_the_history_records_extensions_and_holds_for_the_report(client, mc, clock):
    mc.advance()
    mc.post("/extend", {"seconds": 60})
    mc.post("/hold")
    clock.advance(seconds=45)
    mc.post("/resume")
    history = client.get("/api/v1/history").get_json()
    kinds = [(a["kind"], a["item_id"], a["seconds"]) for a in history["adjustments"]]
    assert kinds == [("extend", FIRST, 60), ("hold", FIRST, 0), ("resume", FIRST, 45)]


def test_the_stage_channel_is_public_and_changes_only_what_is_named(mc, anonymous):
    state = mc.post("/stage", {"message": "Còn 1 phút", "blink": True}).get_json()
    assert state["stage"] == {
        "message": "Còn 1 phút",
        "blink": True,
        "blackout": False,
        "screen": "programme",
    }
    mc.post("/stage", {"screen": "break"})
    public = anonymous.state()
    assert public["stage"]["screen"] == "break"
    assert public["stage"]["message"] == "Còn 1 phút"  # unchanged
    assert mc.post("/stage", {"message": None}).get_json()["stage"]["message"] is None


def test_a_bad_stage_request_is_refused_and_changes_nothing(mc, ward):
    version = mc.state()["version"]
    assert mc.post("/stage", {"screen": "disco"}).get_json()["field"] == "screen"
    assert mc.post("/stage", {}).status_code == 400
    assert mc.post("/stage", {"blink": "yes"}).status_code == 400
    assert ward.post("/stage", {"blink": True}).status_code == 403
    assert mc.state()["version"] == version


@pytest.fixture
def guarded(database_url, clock):
    """Return an app whose run-sheet refuses a move within two seconds of the last one."""
    return make_app(database_url, clock, MOVE_GUARD_SECONDS=2)


def test_a_second_move_within_the_guard_is_refused_until_confirmed(guarded, clock):
    client = guarded.test_client()
    tokens = tokens_of(guarded)
    first = Caller(client, tokens["mc"])
    first.headers["X-Runsheet-Console"] = "Laptop phòng A"
    second = Caller(client, tokens["mc"])

    assert first.advance().status_code == 200
    clock.advance(seconds=0.3)
    refused = second.advance()
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["kind"] == "just_moved"
    assert body["moved_by"]["role"] == "mc"
    assert body["moved_by"]["console"] == "Laptop phòng A"
    assert body["state"]["current_item_id"] == FIRST  # nothing moved

    confirmed = second.post("/advance", {"confirm": True})
    assert confirmed.status_code == 200
    assert confirmed.get_json()["current_item_id"] == SECOND

    # A refused move is no move: the window runs from the last move made.
    for move in (lambda c: c.back(), lambda c: c.goto(THIRD), lambda c: c.finish()):
        clock.advance(seconds=0.5)
        assert move(first).get_json()["kind"] == "just_moved"
    clock.advance(seconds=0.6)  # 2.1 s after the last move
    assert first.advance().status_code == 200


def test_a_guard_of_zero_seconds_lets_every_move_through(mc):
    for _ in range(3):
        assert mc.advance().status_code == 200


def test_finishing_or_resetting_closes_an_open_roll_call(mc, ward, clock):
    mc.advance()
    mc.post("/roll-call", {"seconds": 60})
    state = mc.finish().get_json()
    assert state["roll_call"]["closes_at"] == state["server_time"]
    clock.advance(seconds=5)
    assert ward.post("/roll-call", {}).status_code == 409  # closed

    mc.post("/reset")
    mc.advance()
    mc.post("/roll-call", {"seconds": 60})
    clock.advance(seconds=2)
    state = mc.post("/reset").get_json()
    assert state["roll_call"]["closes_at"] == state["server_time"]


def test_projected_starts_follow_the_real_times(mc, clock):
    state = mc.state()
    assert item(state, FIRST)["projected_start"] == item(state, FIRST)["planned_start"]
    clock.advance(minutes=10)  # ten minutes late
    state = mc.advance().get_json()
    assert item(state, FIRST)["projected_start"] == item(state, FIRST)["started_at"]
    late = _moment(item(state, SECOND)["projected_start"]) - _moment(
        item(state, SECOND)["planned_start"]
    )
    assert late.total_seconds() == 600


@pytest.fixture
def ward_speaks(app, clock):
    """Make the second item delivered from Thới An's point, as a plan reload would."""
    plan = default_plan()
    agenda = list(plan.agenda)
    agenda[1] = dataclasses.replace(agenda[1], point_id="thoi-an")
    svc = app.extensions["runsheet"]
    install_plan(svc.store, dataclasses.replace(plan, agenda=tuple(agenda)), SECRET, clock.now)


def test_the_point_that_speaks_next_answers_its_standby_cue(ward_speaks, mc, ward, client):
    assert ward.post("/points/thoi-an/ready", {"by": "Lê Thị B"}).status_code == 403  # not next
    mc.advance()  # the item before Thới An's goes live: Thới An is on standby
    response = ward.post("/points/thoi-an/ready", {"by": "Lê Thị B"})
    assert response.status_code == 200
    standby = item(response.get_json(), SECOND)["standby"]
    assert standby["by"] == "Lê Thị B"
    assert item(mc.state(), SECOND)["standby"] == standby


def test_only_the_point_that_speaks_next_can_say_it_is_ready(ward_speaks, mc, client, tokens):
    mc.advance()
    other = Caller(client, tokens["an-phu-dong"])
    assert other.post("/points/an-phu-dong/ready", {}).status_code == 403
    assert other.post("/points/thoi-an/ready", {}).status_code == 403
    assert mc.post("/points/thoi-an/ready", {}).status_code == 403


def test_link_health_is_the_median_of_the_last_five_and_only_the_mc_sees_it(
    mc, ward, anonymous, clock
):
    for rtt in (40, 60, 50, 400, 55, 45):
        clock.advance(seconds=10)
        response = ward.post("/points/thoi-an/link", {"rtt_ms": rtt, "clock_offset_ms": -3})
        assert response.status_code == 200
    link = next(p for p in mc.state()["points"] if p["id"] == "thoi-an")["link"]
    assert link["rtt_ms"] == 55  # median of 60, 50, 400, 55, 45
    assert link["jitter_ms"] == 355  # spread: 400 - 45
    assert link["clock_offset_ms"] == -3
    assert link["samples"] == 5
    assert all("link" not in point for point in anonymous.state()["points"])
    # The points' own pages see it too (their variant is the MC's, so a change is sent once).
    assert next(p for p in ward.state()["points"] if p["id"] == "thoi-an")["link"] == link
    assert ward.post("/points/an-phu-dong/link", {"rtt_ms": 5}).status_code == 403


def _moment(text: str):  # noqa: ANN202
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_a_state_reads_the_same_whenever_it_is_sent_and_reflow_says_how_late_it_runs(mc, clock):
    state = mc.advance().get_json()
    planned = state["timing"]["item_planned_seconds"]
    assert state["timing"]["reflow_seconds"] == 0
    clock.advance(seconds=planned + 90)  # the live item runs a minute and a half over
    later = mc.state()
    assert later["version"] == state["version"]
    assert later["agenda"] == state["agenda"]  # projected starts as of the last change
    assert later["timing"]["reflow_seconds"] == 90  # the items to come start that much later
    state = mc.post("/hold").get_json()  # a change: projected again from now
    assert state["timing"]["reflow_seconds"] == 0
    clock.advance(seconds=30)
    assert mc.state()["timing"]["reflow_seconds"] == 30  # on hold, the rest moves on too
