"""Engine.IO pings: each client's first one waits a drawn delay, so clients that connected
together are not pinged together; the handshake tells clients to allow that delay."""

from __future__ import annotations

import json
import time

import engineio
import pytest
from engineio.socket import Socket

from runsheet.transports.sockets import pings
from tests.conftest import make_app
from tests.live_server import Crowd, serve


class Recorded:
    """What an Engine.IO server was asked to start and to sleep."""

    def __init__(self, engine: engineio.Server, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tasks: list = []
        self.sleeps: list[float] = []
        monkeypatch.setattr(engine, "start_background_task", self.tasks.append)
        monkeypatch.setattr(engine, "sleep", self.sleeps.append)


def connected_socket(engine: engineio.Server, sid: str) -> Socket:
    """Connect a socket as python-engineio does: made, kept, then its handler told."""
    socket = Socket(engine, sid)
    engine.sockets[sid] = socket
    engine._trigger_event("connect", sid, {}, run_async=False)
    return socket


def test_a_first_ping_waits_its_drawn_delay_and_later_ones_the_interval(monkeypatch):
    engine = engineio.Server(async_mode="threading", ping_interval=(10, 5))
    told = []
    engine.on("connect", lambda sid, environ: told.append(sid))
    draws = iter([0.5, 4.0])
    assert pings.install(engine, 5, draw=lambda low, high: next(draws))
    recorded = Recorded(engine, monkeypatch)
    sent = []
    monkeypatch.setattr(Socket, "_send_ping", lambda socket: sent.append(socket.sid))

    first, second = connected_socket(engine, "a"), connected_socket(engine, "b")
    assert told == ["a", "b"]  # the app's own connect handler still runs
    first.schedule_ping()
    second.schedule_ping()

    assert first.last_ping is None and second.last_ping is None  # no timeout meanwhile
    for task in recorded.tasks:
        task()
    assert recorded.sleeps == [0.5, 4.0]  # each its own delay, then the library's cycle
    assert sent == ["a", "b"]

    # The next cycle, after the first pong, is the library's own: the interval alone.
    first.last_ping = time.time()
    first.schedule_ping()
    assert recorded.tasks[-1] == first._send_ping


def test_delays_are_drawn_over_the_whole_spread():
    engine = engineio.Server(async_mode="threading")
    drawn = []

    def draw(low: float, high: float) -> float:
        drawn.append((low, high))
        return high

    pings.install(engine, 5, draw=draw)
    for sid in ("a", "b", "c"):
        connected_socket(engine, sid)
    assert drawn == [(0.0, 5)] * 3


def test_no_spread_leaves_the_library_pinging_as_it_does():
    engine = engineio.Server(async_mode="threading")

    def connect(sid: str, environ: dict) -> None:
        pass

    engine.on("connect", connect)
    assert not pings.install(engine, 0)
    assert engine.handlers["connect"] is connect
    assert "schedule_ping" not in vars(connected_socket(engine, "a"))


def test_the_handshake_asks_clients_to_allow_the_spread(database_url):
    app = make_app(database_url, SOCKET_PING_INTERVAL=10, SOCKET_PING_SPREAD=5)
    opened = app.test_client().get("/socket.io/?EIO=4&transport=polling")
    handshake = json.loads(opened.get_data(as_text=True)[1:])
    assert handshake["pingInterval"] == 15_000 and handshake["pingTimeout"] == 10_000

    # A spread of the timeout or more would let a WebSocket idle until it is closed.
    app = make_app(database_url, SOCKET_PING_TIMEOUT=4, SOCKET_PING_SPREAD=9)
    opened = app.test_client().get("/socket.io/?EIO=4&transport=polling")
    assert json.loads(opened.get_data(as_text=True)[1:])["pingInterval"] == 12_000  # 10 + 2


@pytest.fixture
def quick_pings(database_url):
    """Serve with a ping every second, the first up to a second later, a 2 s timeout."""
    config = {"SOCKET_PING_INTERVAL": 1, "SOCKET_PING_TIMEOUT": 2, "SOCKET_PING_SPREAD": 1}
    yield from serve(database_url, **config)


@pytest.mark.slow
def test_clients_pinged_with_a_spread_stay_connected_over_several_cycles(quick_pings):
    crowd = Crowd(quick_pings)
    try:
        viewers = crowd.connect_all(crowd.user(name=f"viewer {n}") for n in range(5))
        engine = quick_pings.app.extensions["socketio"].server.eio
        time.sleep(5)  # the first pings (after 1 to 2 s), then about three cycles more
        assert all(viewer.connected and viewer.disconnects == 0 for viewer in viewers)
        # Every client answered its first ping: its later cycles are the library's own.
        assert len(engine.sockets) == 5
        assert all("schedule_ping" not in vars(socket) for socket in engine.sockets.values())
    finally:
        crowd.close()
