"""Real processes for end-to-end tests: ``runsheet serve`` and a Redis server of the test's own.

A ``Service`` is ``runsheet serve`` (eventlet) on a port of its own, as a subprocess a test
can kill (SIGKILL, as a crash would) and start again on the same port. ``RedisServer`` is a
``redis-server`` on a free port that a test can kill and start again. ``Processes`` starts
them and stops every one of them at the end of the test, whatever happened, so that no
process outlives its test. ``reconnecting`` turns a ``SocketUser`` into a client that
reconnects by itself, as the pages do.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import redis
import requests

from tests.conftest import SECRET
from tests.live_server import (
    STARTUP_SECONDS,
    WAIT_SECONDS,
    Crowd,
    SocketUser,
    free_port,
    read_tokens,
    runsheet_command,
    wait_until_healthy,
)


def _stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """Stop a process with ``sig``, then SIGKILL if it lingers; wait for it either way."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class RedisServer:
    """A ``redis-server`` of the test's own, without persistence, on a free port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.log = folder / f"redis-{self.port}.log"

    def start(self) -> RedisServer:
        """Start Redis on this server's port and wait until it answers."""
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
                + ["--save", "", "--appendonly", "no", "--daemonize", "no"]
                + ["--dir", str(self.folder)],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + STARTUP_SECONDS
        try:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, f"redis-server stopped:\n{self.log_text()}"
                try:
                    if client.ping():
                        return self
                except redis.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        raise AssertionError(f"redis-server did not answer:\n{self.log_text()}")

    def kill(self) -> None:
        """Kill Redis at once (SIGKILL): its clients see their connections break."""
        _stop(self.process, signal.SIGKILL)

    def hang(self) -> None:
        """Freeze Redis (SIGSTOP): connections stay open and nothing is answered."""
        self.process.send_signal(signal.SIGSTOP)

    def wake(self) -> None:
        """Let a frozen Redis go on (SIGCONT)."""
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Stop Redis if it runs (frozen or not)."""
        if self.process is not None and self.process.poll() is None:
            self.wake()
        _stop(self.process)

    def log_text(self) -> str:
        """Return what Redis wrote to its log."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Service:
    """``runsheet serve`` (eventlet) on a port of its own, as a subprocess."""

    def __init__(
        self,
        folder: Path,
        name: str,
        database_url: str,
        message_queue: str | None = None,
        grace_seconds: float = 1,
    ) -> None:
        self.folder = folder
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "RUNSHEET_DATABASE_URL": database_url,
            "RUNSHEET_SECRET_KEY": SECRET,
            "RUNSHEET_BASE_URL": self.url,
            "RUNSHEET_PRESENCE_GRACE_SECONDS": str(grace_seconds),
            "RUNSHEET_MOVE_GUARD_SECONDS": "0",  # tests move at will; the guard is tested apart
            "RUNSHEET_HTTP_REQUESTS_PER_SECOND": "0",  # likewise the HTTP throttle
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("RUNSHEET_ASYNC_MODE", None)  # `runsheet serve` then uses eventlet
        self.env.pop("RUNSHEET_MESSAGE_QUEUE", None)
        if message_queue:
            self.env["RUNSHEET_MESSAGE_QUEUE"] = message_queue
        self.log = folder / f"serve-{name}.log"
        self.process: subprocess.Popen | None = None
        self.tokens: dict[str, str] = {}
        self.starts = 0

    def __repr__(self) -> str:
        return f"<Service {self.name} {self.url}>"

    def start(self) -> Service:
        """Start ``runsheet serve`` on this service's port; wait until it is healthy."""
        self.starts += 1
        with self.log.open("ab") as output:
            output.write(f"---- start {self.starts}\n".encode())
            output.flush()
            self.process = subprocess.Popen(
                [runsheet_command(), "serve", "--port", str(self.port)],
                env=self.env,
                cwd=self.folder,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of the test run is not its signal
            )
        wait_until_healthy(self.url, self.process, self.log)
        if not self.tokens:
            self.tokens = read_tokens(self.env, self.folder)
        return self

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash or a power cut would."""
        _stop(self.process, signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server as a process manager would (SIGTERM)."""
        _stop(self.process)

    @property
    def alive(self) -> bool:
        """Say whether the server process still runs."""
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """Return what the server wrote to its log."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def point_ids(self) -> list[str]:
        """Return the ids of the connection points (those with a token)."""
        return [role for role in self.tokens if role not in ("mc", "organizer")]

    def state(self, role: str = "mc") -> dict[str, Any]:
        """Return ``GET /api/v1/state`` as ``role`` sees it."""
        response = requests.get(
            f"{self.url}/api/v1/state", headers=self.headers(role), timeout=WAIT_SECONDS
        )
        assert response.status_code == 200, response.text
        return response.json()

    def history(self) -> dict[str, Any]:
        """Return ``GET /api/v1/history``: every span each item was live."""
        response = requests.get(f"{self.url}/api/v1/history", timeout=WAIT_SECONDS)
        assert response.status_code == 200, response.text
        return response.json()

    def version(self) -> int:
        """Return the version of the state the server reports."""
        return self.state()["version"]

    def headers(self, role: str = "mc") -> dict[str, str]:
        """Return the Authorization header of ``role``'s token."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def post(self, path: str, body: dict[str, Any] | None = None, role: str = "mc"):  # noqa: ANN201
        """Call the HTTP API as ``role`` and return the response."""
        return requests.post(
            f"{self.url}/api/v1{path}",
            json=body or {},
            headers=self.headers(role),
            timeout=WAIT_SECONDS,
        )


class Processes:
    """Every process and client a test started; ``close`` ends them all, in a safe order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.services: list[Service] = []
        self.redis_servers: list[RedisServer] = []
        self.crowds: list[Crowd] = []

    def redis(self) -> RedisServer:
        """Start a Redis server of the test's own."""
        server = RedisServer(self.folder)
        self.redis_servers.append(server)
        return server.start()

    def service(self, name: str, database_url: str, **options: Any) -> Service:
        """Start ``runsheet serve`` in a folder of its own."""
        folder = self.folder / name
        folder.mkdir(exist_ok=True)
        service = Service(folder, name, database_url, **options)
        self.services.append(service)
        return service.start()

    def crowd(self, service: Service) -> Crowd:
        """Return the clients of ``service`` (closed with everything else)."""
        crowd = Crowd(service)
        self.crowds.append(crowd)
        return crowd

    def close(self) -> None:
        """Stop every client, then every server, then every Redis."""
        close_clients(user for crowd in self.crowds for user in crowd.users)
        for service in self.services:
            service.stop()
        for server in self.redis_servers:
            server.stop()

    def logs(self) -> str:
        """Return the servers' logs, for a failure's message."""
        return "\n".join(f"== {s}\n{s.log_text()[-4000:]}" for s in self.services)


def close_clients(users: Iterable[SocketUser]) -> None:
    """Disconnect every client, and stop those trying to reconnect."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(_close_client, users))


def _close_client(user: SocketUser) -> None:
    try:
        if user.connected:
            user.leave()
        else:
            user.client.shutdown()  # ends its attempts to reconnect
    except Exception:  # noqa: BLE001 - one stuck client must not keep the servers running
        pass


def reconnecting(user: SocketUser, delay: float = 0.5, delay_max: float = 2) -> SocketUser:
    """Make ``user`` reconnect by itself when the connection breaks, as the pages do."""
    user.client.reconnection = True
    user.client.reconnection_delay = delay
    user.client.reconnection_delay_max = delay_max
    return user


def newest(user: SocketUser) -> dict[str, Any]:
    """Return the newest state a client received, as a page shows it.

    With several processes a state can arrive twice, or after a newer one (the queue and
    the heartbeat's catch-up take different paths); a page ignores an older one.
    """
    with user._changed:
        assert user.states, f"{user} received no state"
        return max(user.states, key=lambda state: state["version"])


def eventually(check: Callable[[], Any], timeout: float = WAIT_SECONDS, what: str = "") -> Any:
    """Return the first true result of ``check()``, polled until ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except AssertionError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or check}")
        time.sleep(0.02)
