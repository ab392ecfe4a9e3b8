"""Socket.IO end to end: a real server (threading mode) and real python-socketio clients."""

from __future__ import annotations

import time

import pytest
import requests
import socketio

from runsheet.services.ceremony import CeremonyService, utc_now
from runsheet.services.plans import rotate_tokens
from runsheet.services.tokens import Actor
from runsheet.transports.sockets.handlers import event_payload
from runsheet.transports.sockets.settings import DEFAULTS, allowed_origins
from tests.conftest import SECRET, open_store
from tests.live_server import Crowd, everyone_follows_the_ceremony, point_of, serve

AGENDA = [
    "tuyen-bo-ly-do",
    "dien-van-khai-mac",
    "phat-bieu-don-vi-cung-ung",
    "phat-bieu-nguoi-hoc",
    "phat-bieu-lanh-dao-so",
    "thong-diep-huong-ung",
    "ket-thuc",
]


@pytest.fixture
def server(database_url):
    """Serve a fresh ceremony with a one-second presence grace period."""
    yield from serve(database_url)


@pytest.fixture
def crowd(server):
    """Return the people who connect to the server during a test."""
    crowd = Crowd(server)
    yield crowd
    crowd.close()


def online(point_id: str):  # noqa: ANN201
    return lambda state: point_of(state, point_id)["online"]


def offline(point_id: str):  # noqa: ANN201
    return lambda state: not point_of(state, point_id)["online"]


def departures_handled(watcher, control) -> None:  # noqa: ANN001
    """Close ``control``'s page and wait until ``watcher`` sees that point go offline.

    Its grace period started after every page that left before it; once it has run out and
    been acted on, so have theirs: a positive signal in place of sleeping past the period.
    """
    point_id = control.name
    watcher.wait_for(online(point_id))
    control.leave()
    watcher.wait_for(offline(point_id))


# -- many clients ----------------------------------------------------------------------


@pytest.mark.slow  # sixty-four clients: seconds of waiting
def test_thirteen_points_and_fifty_viewers_see_every_check_in_and_every_advance_in_order(
    server, crowd
):
    everyone = everyone_follows_the_ceremony(crowd, viewers=50)

    assert len(everyone) == 1 + 13 + 50
    assert [item["status"] for item in everyone[-1].state["agenda"]] == ["done"] * 6 + ["live"]


def test_each_role_receives_its_own_variant_of_the_state(server, crowd):
    mc, ward, other, viewer = (
        crowd.mc(),
        crowd.point("thoi-an"),
        crowd.point("hiep-thanh"),
        crowd.viewer(),
    )
    ack = mc.call("message", {"text": "Thới An: xin bật micro", "to": "thoi-an"})
    assert ack["ok"], ack
    version = ack["state"]["version"]

    assert [m["text"] for m in mc.wait_for_version(version)["messages"]] == [
        "Thới An: xin bật micro"
    ]
    assert [m["to"] for m in ward.wait_for_version(version)["messages"]] == ["thoi-an"]
    assert other.wait_for_version(version)["messages"] == []
    assert "messages" not in viewer.wait_for_version(version)
    assert [s["role"] for s in (mc.sessions + ward.sessions + viewer.sessions)] == [
        "mc",
        "point",
        "public",
    ]
    assert ward.sessions == [{"role": "point", "point_id": "thoi-an"}]


def test_the_organizer_receives_the_mcs_variant_and_may_move_the_run_sheet(server, crowd):
    organizer = crowd.user({"token": server.tokens["organizer"]}, name="organizer").connect()
    ack = organizer.call("message", {"text": "Thới An: xin bật micro", "to": "thoi-an"})
    assert ack["ok"], ack
    assert organizer.sessions == [{"role": "organizer", "point_id": None}]
    shown = organizer.wait_for_version(ack["state"]["version"])
    assert [m["text"] for m in shown["messages"]] == ["Thới An: xin bật micro"]
    assert organizer.call("advance")["ok"]


# -- who may do what -------------------------------------------------------------------


def test_a_stale_advance_is_refused_with_the_current_state(server, crowd):
    mc, viewer = crowd.mc(), crowd.viewer()
    seen = mc.state["version"]

    first = mc.advance(expected_version=seen)
    double_click = mc.advance(expected_version=seen)

    assert first["ok"]
    assert double_click["ok"] is False
    assert double_click["kind"] == "stale"
    assert double_click["state"]["version"] == first["state"]["version"] == server.version()
    assert double_click["state"]["current_item_id"] == AGENDA[0]
    assert viewer.wait_for_version(server.version())["current_item_id"] == AGENDA[0]


def test_a_point_cannot_advance_or_act_for_another_point(server, crowd):
    ward, viewer = crowd.point("thoi-an"), crowd.viewer()
    ward.wait_for(online("thoi-an"))
    version = server.version()

    assert ward.advance()["kind"] == "forbidden"
    assert ward.call("goto", {"item_id": AGENDA[2]})["kind"] == "forbidden"
    assert ward.check_in(point_id="hiep-thanh")["kind"] == "forbidden"
    assert ward.call("trouble", {"kind": "no_sound", "point_id": "hiep-thanh"})["kind"] == (
        "forbidden"
    )
    assert ward.call("message", {"text": "hello"})["kind"] == "forbidden"
    assert viewer.advance()["kind"] == "unauthenticated"
    assert viewer.check_in(point_id="thoi-an")["kind"] == "unauthenticated"

    assert server.version() == version
    assert point_of(ward.state, "hiep-thanh")["checked_in_at"] is None
    assert ward.check_in()["ok"]  # its own check-in is fine


@pytest.mark.slow  # a refused connection: seconds of waiting
def test_an_unknown_token_is_refused_at_connect(server, crowd):
    refusal = crowd.user({"token": "not-a-token-anyone-holds"}).connect_refused()

    assert refusal["data"]["kind"] == "unauthenticated"
    assert refusal["message"] == refusal["data"]["error"]


@pytest.mark.slow  # refused connections: seconds of waiting
def test_pages_are_identified_by_their_cookie_and_refused_without_it(server, crowd):
    tokens = server.tokens
    cookies = f"runsheet_mc={tokens['mc']}; runsheet_point_thoi-an={tokens['thoi-an']}"

    console = crowd.user({"page": "mc"}, headers={"Cookie": cookies}).connect()
    ward_page = crowd.user(
        {"page": "point", "point_id": "thoi-an"}, headers={"Cookie": cookies}
    ).connect()
    stage = crowd.user({"page": "public"}, headers={"Cookie": cookies}).connect()

    assert console.sessions == [{"role": "mc", "point_id": None}]
    assert "messages" in console.state
    assert ward_page.sessions == [{"role": "point", "point_id": "thoi-an"}]
    assert stage.sessions == [{"role": "public", "point_id": None}]
    assert "messages" not in stage.state

    no_cookie = crowd.user({"page": "mc"}).connect_refused()
    other_points_page = crowd.user(
        {"page": "point", "point_id": "hiep-thanh"}, headers={"Cookie": cookies}
    ).connect_refused()
    wrong_cookie = crowd.user(
        {"page": "point", "point_id": "hiep-thanh"},
        headers={"Cookie": f"runsheet_point_hiep-thanh={tokens['thoi-an']}"},
    ).connect_refused()
    assert no_cookie["data"]["kind"] == "unauthenticated"
    assert other_points_page["data"]["kind"] == "unauthenticated"
    assert wrong_cookie["data"]["kind"] == "unauthenticated"
    assert crowd.user({"page": "stage"}).connect_refused()["data"]["kind"] == "invalid"


def test_the_token_is_checked_again_on_every_event(server, crowd):
    mc, ward, viewer = crowd.mc(), crowd.point("thoi-an"), crowd.viewer()
    assert mc.advance()["ok"]
    version = server.version()

    services = server.services
    slug = services.ceremony.current().plan.event.slug
    rotate_tokens(services.store, slug, SECRET, utc_now())
    refused = mc.advance()

    assert refused["ok"] is False
    assert refused["kind"] == "unauthenticated"
    assert server.version() == version
    mc.wait_until_disconnected()
    # The point sent nothing, yet the heartbeat ends its connection too; viewers stay.
    ward.wait_until_disconnected()
    assert viewer.connected


# -- presence --------------------------------------------------------------------------


@pytest.mark.slow  # grace periods: seconds of waiting
def test_a_point_turns_offline_after_the_grace_period_and_online_again_on_reconnect(server, crowd):
    mc, ward = crowd.mc(), crowd.point("thoi-an")
    mc.wait_for(online("thoi-an"))
    assert ward.check_in(by="Lê Văn C", present=18)["ok"]

    left_at = time.monotonic()
    ward.disconnect()
    state = mc.wait_for(offline("thoi-an"))
    waited = mc.received_at[-1] - left_at

    assert waited >= 0.9  # not before the grace period (one second) has passed
    assert point_of(state, "thoi-an")["checked_in_by"] == "Lê Văn C"  # nothing lost

    back = crowd.point("thoi-an")
    state = mc.wait_for(online("thoi-an"))
    assert point_of(state, "thoi-an")["checked_in_by"] == "Lê Văn C"
    assert back.wait_for(online("thoi-an"))


def test_a_point_whose_page_reloads_within_the_grace_period_never_shows_offline(server, crowd):
    mc, ward, control = crowd.mc(), crowd.point("thoi-an"), crowd.point("hiep-thanh")
    mc.wait_for(online("thoi-an"))
    seen_before = len(mc.states)

    ward.leave()
    crowd.point("thoi-an")
    departures_handled(mc, control)  # the grace period of the reload is over too

    assert all(point_of(s, "thoi-an")["online"] for s in mc.states[seen_before:])
    assert point_of(mc.state, "thoi-an")["online"]


@pytest.mark.slow  # grace periods: seconds of waiting
def test_a_point_stays_online_while_one_of_its_two_pages_is_connected(server, crowd):
    mc, first, second = crowd.mc(), crowd.point("thoi-an"), crowd.point("thoi-an")
    control = crowd.point("hiep-thanh")
    mc.wait_for(online("thoi-an"))
    seen_before = len(mc.states)

    first.leave()
    departures_handled(mc, control)  # the first page's grace period is over too
    assert all(point_of(s, "thoi-an")["online"] for s in mc.states[seen_before:])

    second.disconnect()
    mc.wait_for(offline("thoi-an"))


@pytest.mark.slow  # a closing handshake: seconds of waiting
def test_a_reconnecting_client_gets_the_full_state_at_once(server, crowd):
    mc, viewer = crowd.mc(), crowd.viewer()
    mc.advance()
    mc.advance()
    viewer.disconnect()
    mc.advance()  # while the viewer was away
    received = len(viewer.states)

    viewer.connect()

    # The first state was pushed before the connection was even confirmed.
    assert len(viewer.states) == received + 1
    state = viewer.state
    assert state["version"] == server.version()
    assert state["current_item_id"] == AGENDA[2]
    assert [item["status"] for item in state["agenda"][:4]] == ["done", "done", "live", "pending"]
    assert state["server_time"]
    assert len(state["points"]) == 13


# -- changes from elsewhere ------------------------------------------------------------


def test_a_change_made_over_http_reaches_socket_clients(server, crowd):
    ward, viewer = crowd.point("thoi-an"), crowd.viewer()
    headers = {"Authorization": f"Bearer {server.tokens['mc']}"}

    response = requests.post(f"{server.url}/api/v1/goto/{AGENDA[3]}", json={}, headers=headers)

    assert response.status_code == 200
    version = response.json()["version"]
    assert viewer.wait_for_version(version)["current_item_id"] == AGENDA[3]
    assert ward.wait_for_version(version)["current_item_id"] == AGENDA[3]


def test_a_change_made_through_the_service_reaches_socket_clients(server, crowd):
    viewer = crowd.viewer()

    server.services.ceremony.perform(Actor("mc"), "goto", {"item_id": AGENDA[4]})

    assert viewer.wait_for(lambda s: s["current_item_id"] == AGENDA[4])


def test_a_change_committed_by_another_process_reaches_socket_clients(server, crowd, database_url):
    viewer = crowd.viewer()
    # Another process (the CLI, a second server) shares the database, not this process.
    elsewhere = CeremonyService(open_store(database_url))

    current = elsewhere.perform(Actor("mc"), "goto", {"item_id": AGENDA[5]})

    state = viewer.wait_for_version(current.version)
    assert state["current_item_id"] == AGENDA[5]


# -- hostile or careless clients -------------------------------------------------------


def test_bad_payloads_get_error_acks_and_change_nothing(server, crowd):
    mc, ward = crowd.mc(), crowd.point("thoi-an")
    ward.wait_for(online("thoi-an"))
    version = server.version()
    oversized_note = "x" * (DEFAULTS["SOCKET_MAX_PAYLOAD_BYTES"] + 1)
    cases = [
        (mc, "advance", ([1, 2],), "invalid"),
        (mc, "advance", ("next",), "invalid"),
        (mc, "advance", (42,), "invalid"),
        (mc, "advance", ({"expected_version": "3"},), "invalid"),
        (mc, "advance", ({"skip": 2},), "invalid"),
        (mc, "advance", ({}, {}), "invalid"),
        (mc, "goto", ({"item_id": "no-such-item"},), "not_found"),
        (mc, "goto", ({},), "invalid"),
        (mc, "message", ({"text": "   "},), "invalid"),
        (mc, "launch_fireworks", ({},), "not_found"),
        (ward, "checkin", ({"by": "Lê", "note": oversized_note},), "too_large"),
        (ward, "checkin", ({"by": b"\x00\x01binary"},), "invalid"),
        (ward, "checkin", ({"present": 3},), "invalid"),
        (ward, "checkin", ({"by": "Lê", "present": -1},), "invalid"),
        (ward, "trouble", ({"kind": "fire"},), "invalid"),
        (ward, "ack_message", ({"message_id": 999},), "not_found"),
    ]
    for user, event, args, kind in cases:
        ack = user.call(event, *args)
        assert ack["ok"] is False, (event, args, ack)
        assert ack["kind"] == kind, (event, args, ack)
        assert ack["error"], ack

    assert server.version() == version
    assert mc.call("advance", None)["ok"]  # no payload at all is an empty one


def test_a_message_larger_than_the_buffer_ends_the_connection(server, crowd):
    ward, viewer = crowd.point("thoi-an"), crowd.viewer()
    version = server.version()

    ward.client.emit("checkin", {"by": "x" * 100_000})

    ward.wait_until_disconnected()
    assert viewer.connected
    assert point_of(viewer.state, "thoi-an")["checked_in_at"] is None
    assert server.version() >= version  # only presence may change, never the check-in


def test_a_flooding_client_is_slowed_down_then_disconnected(server, crowd):
    mc, viewer, flooder = crowd.mc(), crowd.viewer(), crowd.point("thoi-an")
    acks: list[dict] = []
    sent = 0
    while flooder.connected and sent < 1000:
        try:
            flooder.client.emit("ack_message", {"message_id": 999}, callback=acks.append)
        except socketio.exceptions.SocketIOError:
            break  # the server has closed the connection
        sent += 1
        time.sleep(0.002)

    flooder.wait_until_disconnected()
    kinds = [ack["kind"] for ack in acks]
    answered = [kind for kind in kinds if kind != "rate_limited"]
    assert "rate_limited" in kinds
    assert len(answered) <= DEFAULTS["SOCKET_EVENT_BURST"] + 10  # a burst, then the rate
    assert set(answered) == {"not_found"}
    assert sent < 1000  # disconnected long before it was done
    # Everyone else is served as before.
    ack = mc.advance()
    assert ack["ok"]
    assert viewer.wait_for_version(ack["state"]["version"])["current_item_id"] == AGENDA[0]


def test_a_foreign_origin_is_refused(server, crowd):
    foreign = crowd.user(headers={"Origin": "http://evil.example"})
    with pytest.raises(socketio.exceptions.ConnectionError):
        foreign.connect()
    assert crowd.user(headers={"Origin": server.url}).connect().connected


def test_configured_origins_are_allowed(database_url):
    with_origins = serve(database_url, CORS_ALLOWED_ORIGINS="http://screens.example")
    live = next(with_origins)
    try:
        crowd = Crowd(live)
        allowed = crowd.user(headers={"Origin": "http://screens.example"}).connect()
        assert allowed.state["version"] == live.version()
        with pytest.raises(socketio.exceptions.ConnectionError):
            crowd.user(headers={"Origin": "http://evil.example"}).connect()
        crowd.close()
    finally:
        with_origins.close()


# -- the pieces, without a server ------------------------------------------------------


def test_origins_setting_is_same_origin_by_default_and_a_list_when_given():
    assert allowed_origins(None) is None
    assert allowed_origins("") is None
    assert allowed_origins("*") == "*"
    assert allowed_origins("https://a.example, https://b.example") == [
        "https://a.example",
        "https://b.example",
    ]
    assert allowed_origins(["https://a.example"]) == ["https://a.example"]


def test_an_event_carries_one_object_of_bounded_size():
    assert event_payload((), 100) == {}
    assert event_payload((None,), 100) == {}
    assert event_payload(({"by": "Lê"},), 100) == {"by": "Lê"}
    for args in ((["by"],), ("by",), (1,), ({}, {}), ({"by": b"x"},)):
        with pytest.raises(Exception) as refused:
            event_payload(args, 100)
        assert refused.value.kind == "invalid", args
    with pytest.raises(Exception) as refused:
        event_payload(({"note": "é" * 60},), 100)  # 120 bytes in UTF-8
    assert refused.value.kind == "too_large"
