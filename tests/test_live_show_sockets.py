"""The live show over Socket.IO: the same actions, payloads and refusals as the HTTP API."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.live_server import Crowd, point_of, serve


@pytest.fixture
def server(database_url):
    """Serve a fresh ceremony whose run-sheet guards against a move right after another."""
    yield from serve(database_url, MOVE_GUARD_SECONDS=2)


@pytest.fixture
def crowd(server):
    """Return the people who connect to the server during a test."""
    crowd = Crowd(server)
    yield crowd
    crowd.close()


def test_a_second_console_pressing_next_a_moment_later_is_asked_to_confirm(server, crowd):
    first = crowd.user({"token": server.tokens["mc"], "console": "Laptop A"}, name="mc").connect()
    second = crowd.user({"token": server.tokens["mc"], "console": "Laptop B"}, name="mc").connect()
    viewer = crowd.viewer()

    assert first.call("advance", {})["ok"]
    refused = second.call("advance", {})
    assert refused["ok"] is False
    assert refused["kind"] == "just_moved"
    assert refused["moved_by"]["console"] == "Laptop A"
    assert refused["state"]["current_item_id"] == "tuyen-bo-ly-do"

    confirmed = second.call("advance", {"confirm": True})
    assert confirmed["ok"] is True
    state = viewer.wait_for(lambda s: s["current_item_id"] == "dien-van-khai-mac")
    assert [i["status"] for i in state["agenda"][:2]] == ["done", "live"]


def test_extend_hold_and_the_stage_channel_reach_every_screen(server, crowd):
    mc = crowd.mc()
    viewer = crowd.viewer()
    mc.call("advance", {})
    planned = mc.call("extend", {"seconds": 60})["state"]["timing"]["item_planned_seconds"]
    assert mc.call("hold")["ok"]
    ack = mc.call("stage", {"message": "Xin kết thúc", "blink": True, "screen": "clock"})
    assert ack["ok"]
    state = viewer.wait_for(lambda s: s["stage"]["message"] == "Xin kết thúc")
    assert state["stage"]["screen"] == "clock"
    assert state["hold"] is not None
    assert state["timing"]["item_planned_seconds"] == planned
    assert mc.call("extend", {"seconds": "x"})["kind"] == "invalid"
    assert crowd.point("thoi-an").call("hold")["kind"] == "forbidden"


def test_a_point_page_measures_its_round_trip_and_the_mc_sees_its_link(server, crowd):
    mc = crowd.mc()
    ward = crowd.point("thoi-an")
    viewer = crowd.viewer()
    answer = ward.call("clock")
    assert answer["ok"] is True
    assert datetime.fromisoformat(answer["server_time"]).tzinfo is not None
    assert ward.call("link", {"rtt_ms": 42, "clock_offset_ms": 7})["ok"]
    state = mc.wait_for(lambda s: point_of(s, "thoi-an")["link"] is not None)
    assert point_of(state, "thoi-an")["link"]["rtt_ms"] == 42
    version = state["version"]
    seen = viewer.wait_for_version(version)
    assert "link" not in point_of(seen, "thoi-an")
