"""Start the real service for a benchmark: ``runsheet serve`` on a fresh database, and stop it.

One process on a fresh SQLite file, or several processes on their own ports sharing a
fresh PostgreSQL database and a Redis message queue, as in production. ``source`` picks
the checkout whose ``runsheet`` package is served (e.g. a worktree of an older commit, to
compare), always with this virtualenv's libraries.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

START_SECONDS = 60


@dataclass
class Deployment:
    """The served processes, their URLs, and every role's token."""

    urls: list[str]
    processes: list[subprocess.Popen]
    mc_token: str
    point_tokens: dict[str, str]
    logs: list[Path]
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def pids(self) -> list[int]:
        """Return the server processes' ids."""
        return [process.pid for process in self.processes]


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _runsheet() -> str:
    command = shutil.which("runsheet", path=str(Path(sys.executable).parent))
    if command is None:
        raise SystemExit("the runsheet command is not installed next to this Python")
    return command


@contextlib.contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """Create an empty PostgreSQL database next to ``admin_url``'s, drop it afterwards."""
    import psycopg

    name = f"runsheet_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def deploy(
    folder: Path,
    source: Path,
    processes: int,
    database_url: str | None,
    message_queue: str | None,
    extra_environment: dict[str, str] | None = None,
    plan_path: Path | None = None,
) -> Iterator[Deployment]:
    """Serve the ceremony with ``processes`` runsheet processes until the block ends."""
    database_url = database_url or f"sqlite:///{folder / 'runsheet.sqlite3'}"
    ports = [free_port() for _ in range(processes)]
    base = {
        **os.environ,
        "PYTHONPATH": str(source),
        "RUNSHEET_DATABASE_URL": database_url,
        "RUNSHEET_SECRET_KEY": secrets.token_urlsafe(32),  # one key: tokens valid everywhere
        "RUNSHEET_BASE_URL": f"http://127.0.0.1:{ports[0]}",
        "RUNSHEET_MOVE_GUARD_SECONDS": "0",  # the MC moves every 100 ms on purpose
        **(extra_environment or {}),
    }
    base.pop("RUNSHEET_ASYNC_MODE", None)  # `runsheet serve` then uses eventlet
    if message_queue:
        base["RUNSHEET_MESSAGE_QUEUE"] = message_queue
    runsheet = _runsheet()
    # One process creates the schema and loads the plan, so that servers do not race to.
    init = [runsheet, "init", *(["--plan", str(plan_path)] if plan_path else [])]
    subprocess.run(init, env=base, cwd=folder, check=True, capture_output=True)
    links = json.loads(
        subprocess.run(
            [runsheet, "links", "--json"], env=base, cwd=folder, check=True, capture_output=True
        ).stdout
    )
    started: list[subprocess.Popen] = []
    logs: list[Path] = []
    try:
        for index, port in enumerate(ports):
            log = folder / f"serve-{index}.log"
            logs.append(log)
            with log.open("wb") as output:
                started.append(
                    subprocess.Popen(
                        [runsheet, "serve", "--port", str(port)],
                        env=base,
                        cwd=folder,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                )
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process, log in zip(urls, started, logs, strict=True):
            _wait_until_healthy(url, process, log)
        yield Deployment(
            urls=urls,
            processes=started,
            mc_token=_token(links["mc"]),
            point_tokens={pid: _token(url) for pid, url in links["points"].items()},
            logs=logs,
            environment={k: v for k, v in base.items() if k.startswith("RUNSHEET_")},
        )
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"runsheet serve stopped:\n{log.read_text()}")
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"runsheet serve did not answer within {START_SECONDS} s:\n{log.read_text()}")


def _token(link: str) -> str:
    return link.split("?token=", 1)[1]
