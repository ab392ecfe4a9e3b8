"""The live ceremony against the production server: ``runsheet serve`` (eventlet), a subprocess."""

from __future__ import annotations

import time

import pytest
import requests

from tests.live_server import everyone_follows_the_ceremony, point_of

pytestmark = pytest.mark.slow  # every test here runs `runsheet serve` as a subprocess


def test_the_eventlet_server_runs_the_ceremony_live_for_every_point_and_viewer(served, crowd):
    everyone = everyone_follows_the_ceremony(crowd, viewers=50)
    mc, ward = everyone[0], next(user for user in everyone if user.name == "thoi-an")

    # A point's page leaves: the point turns offline after the grace period, check-in kept.
    left_at = time.monotonic()
    ward.disconnect()
    state = mc.wait_for(lambda s: not point_of(s, "thoi-an")["online"])
    assert mc.received_at[-1] - left_at >= 0.9
    assert point_of(state, "thoi-an")["checked_in_at"] is not None

    # It comes back: online again, and it gets the full state at once.
    back = crowd.point("thoi-an")
    assert back.states and back.states[0]["version"] >= state["version"]
    assert back.states[0]["current_item_id"] == state["current_item_id"]
    mc.wait_for(lambda s: point_of(s, "thoi-an")["online"])

    # A change over the HTTP API reaches every socket client.
    response = requests.post(
        f"{served.url}/api/v1/finish",
        json={},
        headers={"Authorization": f"Bearer {served.tokens['mc']}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    finished = response.json()["version"]
    for user in everyone:
        if user.connected:
            assert user.wait_for_version(finished)["phase"] == "finished", user


def test_the_eventlet_server_refuses_an_unknown_token_and_a_stale_advance(served, crowd):
    refusal = crowd.user({"token": "nobody-holds-this"}).connect_refused()
    assert refusal["data"]["kind"] == "unauthenticated"

    mc = crowd.mc()
    seen = mc.state["version"]
    assert mc.advance(expected_version=seen)["ok"]
    stale = mc.advance(expected_version=seen)
    assert stale["kind"] == "stale"
    assert stale["state"]["version"] == served.version()
