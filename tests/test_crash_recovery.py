"""A crash in the middle of the ceremony: ``runsheet serve`` killed with SIGKILL mid-burst.

The service runs as a subprocess (on SQLite, and on PostgreSQL); the MC, all thirteen
points and a room of viewers are connected with clients that reconnect by themselves, as
the pages do. In the middle of a burst of actions (the MC jumping between items and
sending messages, every point checking in again and again, over sockets and HTTP) the
server is killed. Right after, the database must hold every acknowledged action, and of
the actions in flight each either whole or not at all, with the version counting exactly
the changes applied. Started again on the same port, it serves that state, every client is
back on the right item by itself, and presence settles: points whose pages came back are
online, the one whose page was closed meanwhile turns offline.
"""

from __future__ import annotations

import random
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import socketio
from sqlalchemy import text

from runsheet.services.history import history
from runsheet.services.snapshot import snapshot_for
from runsheet.services.tokens import Actor
from tests.conftest import open_store
from tests.live_server import Crowd, SocketUser, point_of
from tests.processes import Processes, Service, eventually, newest, reconnecting

pytestmark = pytest.mark.slow  # every test here runs `runsheet serve` as a subprocess

GRACE_SECONDS = 1
# Seconds after the server is back, for every client to show it: some seconds on a quiet
# machine, generous here so that a busy one cannot break it.
RECONNECT_WITHIN = 30
VIEWERS = 10
# Seconds between one sender's actions: the burst as a whole (some ten changes a second,
# each pushed to every client) keeps the server busy without drowning the test's clients,
# which parse every state they receive in this one Python process.
MC_PACE = 0.4
POINT_PACE = 3
ACK_TIMEOUT = 5  # seconds a stream waits for an answer before counting it as unanswered
HTTP_POINTS = 6  # this many points check in over HTTP, the others over their sockets
CLOSED_POINT = "thoi-an"  # its page is closed while the server is down


@dataclass
class Stream:
    """One sender's actions in the burst: those acknowledged, and the one left unanswered."""

    name: str
    acked: list[Any] = field(default_factory=list)  # what each acknowledged action carried
    unanswered: Any = None  # what the action in flight when the server died carried
    errors: list[str] = field(default_factory=list)

    def counts(self) -> set[int]:
        """Return how many of its actions may have been applied."""
        return {len(self.acked), len(self.acked) + (self.unanswered is not None)}

    def possible(self) -> list[Any]:
        """Return what may have been applied last: the last acked one or the unanswered one."""
        last = [self.acked[-1]] if self.acked else [None]
        return last + ([self.unanswered] if self.unanswered is not None else [])


def _socket_stream(stream: Stream, user: SocketUser, actions, pace: float, stop) -> None:  # noqa: ANN001
    for label, event, payload in actions:
        if stop.is_set():
            return
        try:
            ack = user.client.call(event, payload, timeout=ACK_TIMEOUT)
        except (socketio.exceptions.SocketIOError, OSError):
            stream.unanswered = label
            return
        if not ack or not ack.get("ok"):
            stream.errors.append(repr(ack))
            return
        stream.acked.append(label)
        time.sleep(pace)


def _http_stream(stream: Stream, service: Service, actions, pace: float, stop) -> None:  # noqa: ANN001
    for label, path, body, role in actions:
        if stop.is_set():
            return
        try:
            response = service.post(path, body, role)
        except requests.RequestException:
            stream.unanswered = label
            return
        if response.status_code != 200:
            stream.errors.append(f"{response.status_code} {response.text}")
            return
        stream.acked.append(label)
        time.sleep(pace)


def _by(point_id: str, n: int) -> str:
    return f"Kỹ thuật viên {point_id} #{n}"


def _checkins_applied(by: str | None) -> int:
    """Return how many burst check-ins a point's ``checked_in_by`` says were applied."""
    found = re.search(r"#(\d+)$", by or "")
    return int(found.group(1)) if found else 0


def stored_state(database_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read the MC's view of the state and the timeline straight from the database.

    The server is dead, so both are built here from what it committed.
    """
    store = open_store(database_url)
    try:
        event_id, _ = store.active_event_version()
        plan, state = store.load_state(event_id)
        now = state.updated_at
        return snapshot_for(Actor("mc"), plan, state, now), history(plan, state, now)
    finally:
        store.engine.dispose()


def ceremony_part(state: dict[str, Any]) -> dict[str, Any]:
    """Return what actions change (not presence, not the clock-dependent timing)."""
    return {
        "phase": state["phase"],
        "current_item_id": state["current_item_id"],
        "started_at": state["started_at"],
        "agenda": [(i["id"], i["status"], i["started_at"], i["ended_at"]) for i in state["agenda"]],
        "points": [
            (p["id"], p["checked_in_at"], p["checked_in_by"], p["present"], p["note"])
            for p in state["points"]
        ],
        "messages": [(m["id"], m["text"], m["to"]) for m in state["messages"]],
    }


def items_gone_live(timeline: dict[str, Any]) -> list[str]:
    """Return the item of every span of a history, in the order the items went live."""
    return [span["item_id"] for span in timeline["spans"]]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path) -> str:
    """Return a fresh database: a SQLite file, or a database of its own on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runsheet.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def processes(tmp_path):
    """Return a launcher of processes, every one stopped at the end of the test."""
    processes = Processes(tmp_path)
    yield processes
    processes.close()


def test_a_server_killed_mid_burst_comes_back_with_every_acknowledged_action(processes, database):
    service = processes.service("crash", database, grace_seconds=GRACE_SECONDS)
    crowd: Crowd = processes.crowd(service)
    mc = reconnecting(crowd.user({"token": service.tokens["mc"]}, name="mc")).connect()
    point_ids = service.point_ids()
    points = {
        pid: reconnecting(crowd.user({"token": service.tokens[pid]}, name=pid)) for pid in point_ids
    }
    crowd.connect_all(points.values())
    viewers = crowd.connect_all(
        reconnecting(crowd.user(name=f"viewer {n}")) for n in range(VIEWERS)
    )
    everyone = [mc, *points.values(), *viewers]
    eventually(lambda: all(p["online"] for p in newest(mc)["points"]), what="all points online")

    # The ceremony is under way: two items in, every point checked in once.
    assert mc.advance()["ok"] and mc.advance()["ok"]
    for pid, user in points.items():
        assert user.check_in(by=f"Trực {pid}", present=10)["ok"]
    before = service.state()
    before_timeline = service.history()
    agenda = [item["id"] for item in before["agenda"]]
    at = agenda.index(before["current_item_id"])

    # The burst: the MC jumps from item to item over HTTP and sends messages over its
    # socket; six points check in over HTTP, the others over their sockets.
    stop = threading.Event()
    gotos = Stream("gotos")
    targets = [agenda[(at + n) % len(agenda)] for n in range(1, 400)]
    messages = Stream("messages")
    streams: dict[str, Stream] = {"gotos": gotos, "messages": messages}
    threads = [
        threading.Thread(
            target=_http_stream,
            args=(gotos, service, [(t, f"/goto/{t}", {}, "mc") for t in targets], MC_PACE, stop),
        ),
        threading.Thread(
            target=_socket_stream,
            args=(
                messages,
                mc,
                [(n, "message", {"text": f"burst {n}"}) for n in range(1, 100)],
                MC_PACE,
                stop,
            ),
        ),
    ]
    for k, pid in enumerate(point_ids):
        streams[pid] = Stream(pid)
        checkins = [(n, {"by": _by(pid, n), "present": n, "note": f"#{n}"}) for n in range(1, 400)]
        if k < HTTP_POINTS:
            actions = [(n, f"/points/{pid}/checkin", body, pid) for n, body in checkins]
            threads.append(
                threading.Thread(
                    target=_http_stream, args=(streams[pid], service, actions, POINT_PACE, stop)
                )
            )
        else:
            actions = [(n, "checkin", body) for n, body in checkins]
            threads.append(
                threading.Thread(
                    target=_socket_stream,
                    args=(streams[pid], points[pid], actions, POINT_PACE, stop),
                )
            )
    for thread in threads:
        thread.start()
    try:
        # Kill it at some moment while every stream is busy.
        try:
            eventually(lambda: all(len(s.acked) >= 2 for s in streams.values()))
        except AssertionError:
            raise AssertionError(f"the burst did not get going: {streams}") from None
        time.sleep(random.uniform(0, 0.3))
        service.kill()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=ACK_TIMEOUT + 10)
    assert not any(thread.is_alive() for thread in threads)
    refused = {name: s.errors for name, s in streams.items() if s.errors}
    assert not refused, refused  # every action was accepted until the server died

    # Straight after the crash, the database holds every acknowledged action, and of each
    # action in flight all or nothing.
    stored, timeline = stored_state(database)
    applied = 0
    # Messages: those acknowledged, in order, then perhaps the one in flight.
    texts = [m["text"] for m in stored["messages"] if m["text"].startswith("burst ")]
    sent = len(texts)
    assert sent in messages.counts(), (sent, messages)
    assert texts == [f"burst {n}" for n in range(1, sent + 1)]
    ids = [m["id"] for m in stored["messages"]]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    applied += sent
    # Check-ins: each point shows its last acknowledged one or the one in flight, whole.
    for pid in point_ids:
        entry = point_of(stored, pid)
        n = _checkins_applied(entry["checked_in_by"])
        assert n in streams[pid].possible(), (pid, n, streams[pid])
        assert n >= len(streams[pid].acked), (pid, "lost an acknowledged check-in")
        assert (entry["present"], entry["note"]) == (n, f"#{n}"), entry
        applied += n
    # The run-sheet: the items went live in the order they were sent, each span closed
    # but the live item's, which is the last one applied.
    went_live = items_gone_live(timeline)[len(items_gone_live(before_timeline)) :]
    assert went_live == targets[: len(went_live)]
    assert len(went_live) in gotos.counts(), (went_live, gotos)
    assert stored["current_item_id"] == went_live[-1]
    open_spans = [s["item_id"] for s in timeline["spans"] if not s["ended_at"]]
    assert open_spans == [stored["current_item_id"]]
    live = [i["id"] for i in stored["agenda"] if i["status"] == "live"]
    assert live == [stored["current_item_id"]]
    applied += len(went_live)
    # The version counts exactly the changes applied: nothing else was half-written.
    assert stored["version"] == before["version"] + applied, (stored["version"], applied)

    # The page of one point is closed while the server is down.
    points[CLOSED_POINT].client.shutdown()
    back_online = [pid for pid in point_ids if pid != CLOSED_POINT]

    service.start()
    restarted_at = time.monotonic()

    # It serves the state it had when it died: same item, same start time, same records.
    assert ceremony_part(service.state()) == ceremony_part(stored)
    spans = [(s["item_id"], s["started_at"], s["ended_at"]) for s in service.history()["spans"]]
    assert spans == [(s["item_id"], s["started_at"], s["ended_at"]) for s in timeline["spans"]]

    # Every client comes back by itself and shows the right item.
    clients = [user for user in everyone if user is not points[CLOSED_POINT]]

    def caught_up(user: SocketUser) -> bool:
        state = newest(user)
        return (
            user.connected
            and state["version"] >= stored["version"]
            and state["current_item_id"] == stored["current_item_id"]
        )

    for user in clients:
        left = RECONNECT_WITHIN - (time.monotonic() - restarted_at)
        eventually(lambda user=user: caught_up(user), max(left, 0), f"{user} back")
    assert all(user.disconnects >= 1 for user in clients)  # they did lose the connection

    # Presence settles: every point whose page came back is online, the closed one is not.
    def settled(state: dict[str, Any]) -> bool:
        online = {p["id"] for p in state["points"] if p["online"]}
        return online == set(back_online)

    eventually(lambda: settled(newest(mc)), RECONNECT_WITHIN, "presence settled")
    assert settled(service.state())
    assert (
        point_of(service.state(), CLOSED_POINT)["checked_in_by"]
        == point_of(stored, CLOSED_POINT)["checked_in_by"]
    )
    assert ceremony_part(service.state()) == ceremony_part(stored)
    assert "Traceback" not in service.log_text(), service.log_text()[-4000:]


def test_sigterm_while_pages_disconnect_stops_the_server_and_records_that_they_left(
    processes, tmp_path
):
    database = f"sqlite:///{tmp_path / 'runsheet.sqlite3'}"
    service = processes.service("term", database, grace_seconds=GRACE_SECONDS)
    for delay in (0, 0.005, 0.01):
        crowd = processes.crowd(service)
        pages = crowd.connect_all(
            crowd.user({"token": service.tokens[pid]}, name=pid) for pid in service.point_ids()
        )
        crowd.point("thoi-an")  # a page that stays open
        # Thirteen pages close at the moment the process manager stops the server, so the
        # signal lands while their disconnect handlers run.
        for page in pages:
            threading.Thread(target=page.client.disconnect, daemon=True).start()
        time.sleep(delay)
        service.process.send_signal(signal.SIGTERM)
        service.process.wait(timeout=RECONNECT_WITHIN)  # it stops by itself, not killed
        assert service.process.returncode == 0
        # It recorded that every page it held has left, the one still open included.
        store = open_store(database)
        with store.engine.connect() as conn:
            open_rows = conn.execute(text("SELECT sid FROM connections WHERE NOT closed")).all()
        store.engine.dispose()
        assert open_rows == [], open_rows
        service.start()
    assert "SystemExit" not in service.log_text(), service.log_text()[-4000:]
