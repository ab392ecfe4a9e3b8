"""On the wire: WebSockets compress each message alone (or not at all if the setting says
so), and a change is encoded once per distinct variant of the state."""

from __future__ import annotations

import base64
import json
import os
import socket
from urllib.parse import urlsplit

import pytest
from socketio.packet import BINARY_EVENT, EVENT

from bench.national_plan import national_plan_dict
from runsheet import jsontext
from runsheet.plans import plan_from_dict
from runsheet.services.ceremony import utc_now
from runsheet.services.plans import install_plan
from runsheet.services.snapshot import FULL_POINTS_LIMIT, state_body
from runsheet.services.tokens import PUBLIC, Actor
from runsheet.transports.sockets.handlers import EXTENSION
from runsheet.transports.sockets.wire import (
    SocketJSON,
    TextPacket,
    compression_mode,
    without_server_context,
)
from tests.conftest import POINT_IDS, Caller, make_app, tokens_of
from tests.live_server import serve, serve_command

BROWSER_OFFER = "permessage-deflate; client_max_window_bits"


def upgrade(url: str) -> tuple[str, dict[str, str]]:
    """Open a Socket.IO WebSocket offering compression as a browser does; return the reply."""
    parts = urlsplit(url)
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Extensions: {BROWSER_OFFER}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(request.encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = conn.recv(4096)
            assert chunk, f"the server closed the connection after {reply!r}"
            reply += chunk
    status, *lines = reply.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def deflate_answer(url: str) -> list[str] | None:
    """Return the permessage-deflate parameters a WebSocket opened with, or None."""
    status, headers = upgrade(url)
    assert " 101 " in status
    answer = headers.get("sec-websocket-extensions")
    if answer is None:
        return None
    extension, *params = answer.split("; ")
    assert extension == "permessage-deflate"
    return params


def test_compression_turned_on_is_accepted_without_the_servers_context(database_url):
    for server in serve(database_url, WEBSOCKET_COMPRESSION="on"):
        assert "server_no_context_takeover" in deflate_answer(server.url)


def test_compression_is_declined_when_the_setting_turns_it_off(database_url):
    for server in serve(database_url, WEBSOCKET_COMPRESSION="off"):
        assert deflate_answer(server.url) is None


def test_by_default_compression_is_declined_up_to_the_points_limit(database_url):
    for server in serve(database_url):  # the built-in plan: 13 points
        assert deflate_answer(server.url) is None


def test_by_default_compression_is_accepted_above_the_points_limit(database_url):
    for server in serve(database_url):
        svc = server.app.extensions["runsheet"]
        plan = plan_from_dict(national_plan_dict(FULL_POINTS_LIMIT + 1))
        install_plan(svc.store, plan, svc.secret_key, utc_now())  # as `runsheet load` does
        svc.ceremony.current()  # this process sees the new plan (a change would show it)
        assert "server_no_context_takeover" in deflate_answer(server.url)


@pytest.mark.parametrize(
    ("setting", "mode"),
    [
        (None, "auto"),
        ("", "auto"),
        (" Auto ", "auto"),
        ("on", "on"),
        ("TRUE", "on"),
        (True, "on"),
        ("off", "off"),
        ("0", "off"),
        (False, "off"),
    ],
)
def test_the_compression_setting_reads_auto_on_and_off(setting, mode):
    assert compression_mode(setting) == mode


def test_a_compression_setting_that_is_none_of_them_is_refused_by_name():
    with pytest.raises(ValueError, match="RUNSHEET_WEBSOCKET_COMPRESSION"):
        compression_mode("sometimes")


@pytest.mark.parametrize(
    ("offer", "rewritten"),
    [
        (BROWSER_OFFER, f"{BROWSER_OFFER}; server_no_context_takeover"),
        (
            "permessage-deflate; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover",
        ),
        (
            "x-webkit-deflate-frame, permessage-deflate;server_max_window_bits=10",
            "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=10; "
            "server_no_context_takeover",
        ),
    ],
)
def test_every_deflate_offer_asks_for_messages_compressed_alone(offer, rewritten):
    assert without_server_context(offer) == rewritten


@pytest.mark.slow
def test_the_eventlet_server_compresses_each_message_alone_too(tmp_path):
    for served in serve_command(tmp_path, RUNSHEET_WEBSOCKET_COMPRESSION="on"):
        assert "server_no_context_takeover" in deflate_answer(served.url)
    for served in serve_command(tmp_path):  # auto, on the built-in plan
        assert deflate_answer(served.url) is None
    for served in serve_command(tmp_path, RUNSHEET_WEBSOCKET_COMPRESSION="off"):
        assert deflate_answer(served.url) is None


@pytest.fixture
def live(database_url, clock):
    """Return the sockets extension of an app on a frozen clock."""
    app = make_app(database_url, clock)
    return app.extensions[EXTENSION]


def rooms_of(variants) -> list[set[str]]:  # noqa: ANN001
    return [set(rooms) for _, rooms in variants]


def test_without_messages_a_change_goes_out_in_two_variants(live):
    current = live.services.ceremony.current()
    variants = live.broadcaster.variants(current)
    points = {f"point:{pid}" for pid in POINT_IDS}
    assert rooms_of(variants) == [{"public"}, {"mc"} | points]


def test_a_message_to_one_point_splits_the_variants_and_each_is_that_roles_state(live):
    app = live.app
    mc = Caller(app.test_client(), tokens_of(app)["mc"])
    sent = mc.post("/messages", {"text": "Phường Thới An kiểm tra âm thanh", "to": "thoi-an"})
    assert sent.status_code == 200
    current = live.services.ceremony.current()
    variants = live.broadcaster.variants(current)
    others = {f"point:{pid}" for pid in POINT_IDS if pid != "thoi-an"}
    assert rooms_of(variants) == [{"public"}, {"mc", "point:thoi-an"}, others]
    for body, rooms in variants:
        for room in rooms:
            assert body == state_body(actor_of(room), current, live.services.ceremony.clock())


def actor_of(room: str) -> Actor:
    if room == "public":
        return PUBLIC
    if room == "mc":
        return Actor("mc")
    return Actor("point", room.removeprefix("point:"))


def test_socket_json_keeps_vietnamese_text_as_it_is():
    text = SocketJSON.dumps({"title": "Tuần lễ học tập suốt đời"}, separators=(",", ":"))
    assert text == '{"title":"Tuần lễ học tập suốt đời"}'
    assert SocketJSON.loads(text) == {"title": "Tuần lễ học tập suốt đời"}


def test_socket_json_escapes_text_utf8_cannot_carry():
    text = SocketJSON.dumps({"by": "Lan \ud800", "title": "Thới An"})
    text.encode("utf-8")  # no lone surrogate left to break a frame
    assert SocketJSON.loads(text) == {"by": "Lan \ud800", "title": "Thới An"}


@pytest.mark.parametrize(
    "value",
    [
        {"by": "Lan \ud800", "title": "Thới An"},  # a lone surrogate, as the compact path gets it
        {"big": 2**70, "list": [1.5, None, True]},  # beyond orjson's 64-bit integers
        {1: "a key that is not text"},
    ],
)
def test_what_orjson_refuses_is_still_written_as_the_standard_library_writes_it(value):
    text = jsontext.dumps(value)
    text.encode("utf-8")
    assert json.loads(text) == json.loads(json.dumps(value))
    assert SocketJSON.dumps(value, separators=(",", ":")) == text


def test_packets_carry_json_only_and_a_state_is_never_taken_for_binary_data():
    state = {"title": "Khai mạc", "points": [{"id": "thoi-an", "online": True}]}
    packet = TextPacket(EVENT, namespace="/", data=["state", state])
    assert packet.packet_type == EVENT
    assert packet.encode() == '2["state",' + jsontext.dumps(state) + "]"
    sent = TextPacket(encoded_packet='51-["upload",{"_placeholder":true,"num":0}]')
    assert sent.packet_type == BINARY_EVENT  # what clients send is read as before
