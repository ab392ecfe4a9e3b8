"""Engine.IO pings: each client's first one comes at a moment drawn over the interval, so
clients that connected together are not pinged together, and never later than before."""

from __future__ import annotations

import time

import engineio
import pytest
from engineio import packet
from engineio.socket import Socket

from runsheet.transports.sockets import pings
from tests.live_server import Crowd, serve


class Recorded:
    """What an Engine.IO server was asked to start and to sleep, and what it sent."""

    def __init__(self, engine: engineio.Server, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tasks: list = []
        self.sleeps: list[float] = []
        self.sent: list[tuple[str, int]] = []
        monkeypatch.setattr(engine, "start_background_task", self.tasks.append)
        monkeypatch.setattr(engine, "sleep", self.sleeps.append)
        monkeypatch.setattr(
            Socket, "send", lambda socket, pkt: self.sent.append((socket.sid, pkt.packet_type))
        )


def connected_socket(engine: engineio.Server, sid: str) -> Socket:
    """Connect a socket as python-engineio does: made, kept, then its handler told."""
    socket = Socket(engine, sid)
    engine.sockets[sid] = socket
    engine._trigger_event("connect", sid, {}, run_async=False)
    return socket


def test_a_first_ping_comes_after_its_drawn_delay_and_later_ones_after_the_interval(
    monkeypatch,
):
    engine = engineio.Server(async_mode="threading", ping_interval=10)
    told, drawn = [], []
    engine.on("connect", lambda sid, environ: told.append(sid))
    delays = iter([0.5, 7.25])

    def draw(low: float, high: float) -> float:
        drawn.append((low, high))
        return next(delays)

    assert pings.install(engine, draw=draw)
    recorded = Recorded(engine, monkeypatch)

    first, second = connected_socket(engine, "a"), connected_socket(engine, "b")
    assert told == ["a", "b"]  # the app's own connect handler still runs
    assert drawn == [(0.0, 10), (0.0, 10)]  # over the whole interval, never beyond it
    first.schedule_ping()  # as the library does once the connection is accepted
    second.schedule_ping()
    assert first.last_ping is None and second.last_ping is None  # no timeout meanwhile
    for task in recorded.tasks:
        task()

    assert recorded.sleeps == [0.5, 7.25]  # each its own moment
    assert recorded.sent == [("a", packet.PING), ("b", packet.PING)]
    assert first.last_ping and second.last_ping  # the pong is now awaited
    # The next cycle, after the first pong, is the library's own: the interval.
    first.schedule_ping()
    assert recorded.tasks[-1] == first._send_ping


def test_a_socket_closed_before_its_first_ping_is_not_pinged(monkeypatch):
    engine = engineio.Server(async_mode="threading")
    pings.install(engine, draw=lambda low, high: 1.0)
    recorded = Recorded(engine, monkeypatch)
    socket = connected_socket(engine, "a")
    socket.schedule_ping()
    socket.closed = True
    recorded.tasks[0]()
    assert recorded.sent == []


@pytest.fixture
def quick_pings(database_url):
    """Serve with a ping every second and a 2 s timeout."""
    yield from serve(database_url, SOCKET_PING_INTERVAL=1, SOCKET_PING_TIMEOUT=2)


@pytest.mark.slow
def test_clients_pinged_at_drawn_moments_stay_connected_over_several_cycles(quick_pings):
    crowd = Crowd(quick_pings)
    try:
        viewers = crowd.connect_all(crowd.user(name=f"viewer {n}") for n in range(5))
        engine = quick_pings.app.extensions["socketio"].server.eio
        time.sleep(4)  # the first pings (within 1 s), then about three cycles more
        assert all(viewer.connected and viewer.disconnects == 0 for viewer in viewers)
        # Every client answered its first ping: its later cycles are the library's own.
        assert len(engine.sockets) == 5
        assert all("schedule_ping" not in vars(socket) for socket in engine.sockets.values())
    finally:
        crowd.close()
