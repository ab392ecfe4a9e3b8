"""A real runsheet server for end-to-end tests, and real Socket.IO clients that use it.

``serve`` runs the app (threading mode, Werkzeug's server, a free port) in a thread of the
test process, so a test can also act through the app's services directly, as the CLI
would; ``serve_command`` runs ``runsheet serve`` (eventlet) as a subprocess.
``SocketUser`` is a python-socketio client over WebSocket that records every ``state`` it
receives and reads like the people on the day: ``mc.advance()``, ``ward.check_in()``.
``Crowd`` connects many of them at once and closes them afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import engineio
import requests
import socketio
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from runsheet.transports.sockets import stop_sockets
from tests.conftest import SECRET, make_app, tokens_of

WAIT_SECONDS = 15  # the longest a test waits for something before it fails
STARTUP_SECONDS = 60  # the longest a served process may take to answer after it was started


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any) -> None:
        """Keep one line per request out of the test output."""


@dataclass
class LiveServer:
    """A runsheet app served on a real port."""

    app: Flask
    url: str
    tokens: dict[str, str]
    # What closes before the server stops: the browser windows open on it, which would
    # otherwise log their failed reconnections to a server that is gone.
    closing: list[Callable[[], None]] = field(default_factory=list)

    @property
    def services(self):  # noqa: ANN201
        """Return the app's services, to act on the ceremony as the CLI would."""
        return self.app.extensions["runsheet"]

    def version(self) -> int:
        """Return the committed version of the ceremony's state."""
        return self.services.ceremony.current().version

    def point_ids(self) -> list[str]:
        """Return the ids of the plan's connection points."""
        return [point.id for point in self.services.ceremony.current().plan.points]


def serve(database_url: str, **config: Any) -> Iterator[LiveServer]:
    """Serve a fresh app on a free port until the generator is closed."""
    config.setdefault("PRESENCE_GRACE_SECONDS", 1)
    config.setdefault("ASYNC_MODE", "threading")
    app = make_app(database_url, **config)
    # make_server rather than socketio.run: it picks a free port itself (no race) and can
    # be shut down, which the blocking socketio.run cannot from another thread.
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    served = LiveServer(app, url, tokens_of(app))
    thread.start()
    try:
        yield served
    finally:
        for close in served.closing:
            close()
        stop_sockets(app)
        server.shutdown()
        server.server_close()
        thread.join(timeout=WAIT_SECONDS)


@dataclass
class ServedProcess:
    """``runsheet serve`` running as a subprocess on a real port."""

    url: str
    tokens: dict[str, str]
    process: subprocess.Popen
    log: Path

    def version(self) -> int:
        """Return the version of the state the server reports."""
        return requests.get(f"{self.url}/api/v1/state", timeout=WAIT_SECONDS).json()["version"]

    def point_ids(self) -> list[str]:
        """Return the ids of the connection points (those with a token)."""
        return [role for role in self.tokens if role not in ("mc", "organizer")]


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_command(folder: Path, **environment: str) -> Iterator[ServedProcess]:
    """Run ``runsheet serve`` on a fresh SQLite database until the generator is closed."""
    runsheet = runsheet_command()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "RUNSHEET_DATABASE_URL": f"sqlite:///{folder / 'runsheet.sqlite3'}",
        "RUNSHEET_SECRET_KEY": SECRET,
        "RUNSHEET_BASE_URL": url,
        "RUNSHEET_PRESENCE_GRACE_SECONDS": "1",
        "RUNSHEET_MOVE_GUARD_SECONDS": "0",  # tests move at will; the guard is tested apart
        "RUNSHEET_HTTP_REQUESTS_PER_SECOND": "0",  # likewise the HTTP throttle
        **environment,
    }
    env.pop("RUNSHEET_ASYNC_MODE", None)  # `runsheet serve` then uses eventlet
    log = folder / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [runsheet, "serve", "--port", str(port)],
            env=env,
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(url, process, log)
        yield ServedProcess(url, read_tokens(env, folder), process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def runsheet_command() -> str:
    """Return the path of the ``runsheet`` command next to this Python."""
    found = shutil.which("runsheet", path=str(Path(sys.executable).parent))
    assert found, "the runsheet command is not installed next to this Python"
    return found


def wait_until_healthy(
    url: str, process: subprocess.Popen, log: Path, timeout: float = STARTUP_SECONDS
) -> None:
    """Wait until ``runsheet serve`` at ``url`` answers /healthz; fail if it stops or lingers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"runsheet serve at {url} stopped:\n{_text_of(log)}")
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise AssertionError(
        f"runsheet serve at {url} did not answer within {timeout} s:\n{_text_of(log)}"
    )


def read_tokens(env: dict[str, str], folder: Path) -> dict[str, str]:
    """Return every role's token, as ``runsheet links --json`` prints them for that install."""
    links = json.loads(
        subprocess.run(
            [runsheet_command(), "links", "--json"],
            env=env,
            cwd=folder,
            check=True,
            capture_output=True,
            timeout=STARTUP_SECONDS,
        ).stdout
    )
    tokens = {"mc": _token(links["mc"]), "organizer": _token(links["organizer"])}
    return tokens | {pid: _token(link) for pid, link in links["points"].items()}


def _token(link: str) -> str:
    return link.split("?token=", 1)[1]


def _text_of(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else ""


class _InOrderEngineIOClient(engineio.Client):
    """An Engine.IO client that hands messages over in the order they arrived.

    engineio.Client runs each message's handler in a thread of its own, so two states sent
    in order could be recorded out of order, and the tests check the order the server
    sent. Here one thread at a time drains the messages, first come first served.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inbox: deque[tuple[Any, ...]] = deque()
        self._inbox_lock = threading.Lock()
        self._delivering = False

    def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event != "message" or not kwargs.get("run_async"):
            return super()._trigger_event(event, *args, **kwargs)
        with self._inbox_lock:
            self._inbox.append(args)
            if self._delivering:
                return None
            self._delivering = True
        threading.Thread(target=self._deliver, name="socket-user-inbox", daemon=True).start()
        return None

    def _deliver(self) -> None:
        while True:
            with self._inbox_lock:
                if not self._inbox:
                    self._delivering = False
                    return
                args = self._inbox.popleft()
            super()._trigger_event("message", *args, run_async=False)


class _InOrderClient(socketio.Client):
    def _engineio_client_class(self):  # noqa: ANN202
        return _InOrderEngineIOClient


class SocketUser:
    """Someone on a Socket.IO connection: records what the server pushes, sends actions."""

    def __init__(
        self,
        url: str,
        auth: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        name: str = "viewer",
    ) -> None:
        self.url = url
        self.auth = auth
        self.headers = headers or {}
        self.name = name
        self.states: list[dict[str, Any]] = []
        self.received_at: list[float] = []  # time.monotonic() of each state's arrival
        self.sessions: list[dict[str, Any]] = []
        self.refusal: Any = None
        self.disconnects = 0
        self._changed = threading.Condition()
        # websocket-client sends an Origin of its own; a test's Origin must replace it.
        origin = self.headers.pop("Origin", None)
        options = {"websocket_extra_options": {"origin": origin}} if origin else {}
        self.client = _InOrderClient(reconnection=False, **options)
        self.client.on("state", self._on_state)
        self.client.on("session", self._on_session)
        self.client.on("connect_error", self._on_refused)
        self.client.on("disconnect", self._on_disconnect)

    def __repr__(self) -> str:
        return f"<SocketUser {self.name}>"

    # -- connection ----------------------------------------------------------------------

    def connect(self) -> SocketUser:
        """Connect over WebSocket; fail if the server refuses."""
        self.client.connect(
            self.url,
            auth=self.auth,
            headers=self.headers,
            transports=["websocket"],
            wait_timeout=WAIT_SECONDS,
        )
        return self

    def connect_refused(self) -> Any:
        """Try to connect and return what the server said when it refused (fail if it did not)."""
        try:
            self.connect()
        except socketio.exceptions.ConnectionError:
            return self.refusal
        raise AssertionError(f"{self} was let in")

    def disconnect(self) -> None:
        """Close the connection (as closing the page would)."""
        if self.client.connected:
            self.client.disconnect()

    def leave(self) -> None:
        """Close the connection without waiting for the closing handshake (a page reload)."""
        left = self.disconnects
        threading.Thread(target=self.disconnect, daemon=True).start()
        self._wait(lambda: self.disconnects > left, WAIT_SECONDS, "leave")

    @property
    def connected(self) -> bool:
        """Say whether the connection is open."""
        return self.client.connected

    def wait_until_disconnected(self, timeout: float = WAIT_SECONDS) -> None:
        """Wait until the server has closed the connection."""
        self._wait(lambda: self.disconnects > 0, timeout, "be disconnected")

    # -- what the server pushed ----------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        """Return the latest state received."""
        with self._changed:
            return self.states[-1]

    @property
    def versions(self) -> list[int]:
        """Return the versions of every state received, in the order received."""
        with self._changed:
            return [state["version"] for state in self.states]

    def point(self, point_id: str) -> dict[str, Any]:
        """Return a point's entry in the latest state."""
        return next(p for p in self.state["points"] if p["id"] == point_id)

    def wait_for(
        self, condition: Callable[[dict[str, Any]], bool], timeout: float = WAIT_SECONDS
    ) -> dict[str, Any]:
        """Wait until the latest state meets ``condition``; return that state."""
        self._wait(lambda: bool(self.states) and condition(self.states[-1]), timeout, "see it")
        return self.state

    def wait_for_version(self, version: int, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        """Wait until a state of at least ``version`` has arrived; return the latest."""
        return self.wait_for(lambda state: state["version"] >= version, timeout)

    # -- actions -------------------------------------------------------------------------

    def call(self, event: str, *args: Any) -> dict[str, Any]:
        """Emit an event with ``args`` and return the server's ack."""
        data = args[0] if len(args) == 1 else (args or None)
        return self.client.call(event, data, timeout=WAIT_SECONDS)

    def advance(self, expected_version: int | None = None) -> dict[str, Any]:
        """Press Next."""
        return self.call("advance", _maybe(expected_version=expected_version))

    def check_in(
        self, by: str = "Trần Thị B", present: int = 25, note: str = "", **more: Any
    ) -> dict[str, Any]:
        """Confirm the point's connection."""
        return self.call("checkin", {"by": by, "present": present, "note": note, **more})

    # -- handlers ------------------------------------------------------------------------

    def _on_state(self, state: dict[str, Any]) -> None:
        with self._changed:
            self.states.append(state)
            self.received_at.append(time.monotonic())
            self._changed.notify_all()

    def _on_session(self, session: dict[str, Any]) -> None:
        with self._changed:
            self.sessions.append(session)
            self._changed.notify_all()

    def _on_refused(self, data: Any = None) -> None:
        self.refusal = data

    def _on_disconnect(self, reason: Any = None) -> None:
        ws = getattr(self.client.eio, "ws", None)
        if reason == socketio.Client.reason.TRANSPORT_ERROR and ws is not None:
            # The connection broke (e.g. the server dropped an oversized message); the
            # Engine.IO client leaves that socket open, so close it here.
            ws.shutdown()
        with self._changed:
            self.disconnects += 1
            self._changed.notify_all()

    def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        with self._changed:
            if not self._changed.wait_for(done, timeout):
                latest = self.states[-1]["version"] if self.states else None
                raise AssertionError(f"{self} did not {what} within {timeout} s (at {latest})")


def _maybe(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


@dataclass
class Crowd:
    """Everyone connected to one live server in a test; closed at the end of the test."""

    server: LiveServer | ServedProcess
    users: list[SocketUser] = field(default_factory=list)

    def user(
        self, auth: dict[str, Any] | None = None, name: str = "viewer", **kw: Any
    ) -> SocketUser:
        """Return a client of the server, not yet connected."""
        user = SocketUser(self.server.url, auth, name=name, **kw)
        self.users.append(user)
        return user

    def mc(self) -> SocketUser:
        """Connect the MC with its token."""
        return self.user({"token": self.server.tokens["mc"]}, name="mc").connect()

    def point(self, point_id: str) -> SocketUser:
        """Connect a point's technician with the point's token."""
        return self.user({"token": self.server.tokens[point_id]}, name=point_id).connect()

    def viewer(self) -> SocketUser:
        """Connect a public viewer (no token)."""
        return self.user(name="viewer").connect()

    def connect_all(self, users: Iterable[SocketUser]) -> list[SocketUser]:
        """Connect many clients at once."""
        users = list(users)
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(SocketUser.connect, users))
        return users

    def close(self) -> None:
        """Disconnect everyone still connected."""
        # Without waiting for the closing handshakes: python-socketio's disconnect waits up
        # to 3 s for one that its own reading thread has usually consumed already.
        for user in self.users:
            if user.connected:
                user.leave()


def point_of(state: dict[str, Any], point_id: str) -> dict[str, Any]:
    """Return a point's entry in a state."""
    return next(point for point in state["points"] if point["id"] == point_id)


def everyone_follows_the_ceremony(crowd: Crowd, viewers: int = 50) -> list[SocketUser]:
    """Run the ceremony with every point and ``viewers`` viewers; check what each one saw.

    The MC, every point and the viewers connect; each point checks in and everyone sees
    the board change; the MC presses Next through the whole programme and everyone
    receives each new state, with the right version, in order. Returns everyone.
    """
    server = crowd.server
    mc = crowd.mc()
    points = crowd.connect_all(
        crowd.user({"token": server.tokens[pid]}, name=pid) for pid in server.point_ids()
    )
    audience = crowd.connect_all(crowd.user(name=f"viewer {n}") for n in range(viewers))
    everyone = [mc, *points, *audience]
    for user in everyone:
        user.wait_for(lambda state: all(p["online"] for p in state["points"]))

    for point in points:
        ack = point.check_in(by=f"Kỹ thuật viên {point.name}", present=30)
        assert ack["ok"], ack
        for user in everyone:
            seen = point_of(user.wait_for_version(ack["state"]["version"]), point.name)
            assert seen["checked_in_by"] == f"Kỹ thuật viên {point.name}", user
    for user in everyone:
        assert all(p["checked_in_at"] for p in user.state["points"]), user

    agenda = [item["id"] for item in mc.state["agenda"]]
    received_before = {user: len(user.states) for user in everyone}
    acks = [mc.advance(expected_version=mc.state["version"]) for _ in agenda]
    assert all(ack["ok"] for ack in acks), acks
    versions = [ack["state"]["version"] for ack in acks]
    assert versions == list(range(versions[0], versions[0] + len(agenda)))
    for user in everyone:
        user.wait_for_version(versions[-1])
        pushed = user.states[received_before[user] :]
        assert [state["version"] for state in pushed] == versions, user
        assert [state["current_item_id"] for state in pushed] == agenda, user
    return everyone
