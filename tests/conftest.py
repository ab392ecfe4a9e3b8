"""Shared fixtures: an app on a fresh database, its clients, and the users' actions.

PostgreSQL and Redis tests use this machine's servers for real (``.ci/run`` starts them);
their URLs come from RUNSHEET_TEST_POSTGRES_URL and RUNSHEET_TEST_REDIS_URL.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from click.testing import CliRunner

from runsheet import create_app
from runsheet.plans import default_plan
from runsheet.services.plans import role_links

POSTGRES_URL = os.environ.get(
    "RUNSHEET_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("RUNSHEET_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SECRET = "test-secret-key-of-at-least-32-bytes"

# The stable ids of the built-in plan's 13 connection points (SPEC section 1), in order.
POINT_IDS = [
    "phong-hop-a",
    "phong-hop-b",
    "an-phu-dong",
    "dong-hung-thuan",
    "hiep-thanh",
    "tan-chanh-hiep",
    "tan-hung-thuan",
    "tan-thoi-hiep",
    "tan-thoi-nhat",
    "thanh-loc",
    "thanh-xuan",
    "thoi-an",
    "trung-my-tay",
]


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward and return the new time."""
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FrozenClock:
    """Return a frozen clock set to the default ceremony's start (01:00 UTC)."""
    return FrozenClock(datetime(2021, 10, 1, 1, 0, tzinfo=UTC))


@pytest.fixture
def database_url(tmp_path) -> str:
    """Return the URL of a fresh SQLite database."""
    return f"sqlite:///{tmp_path / 'runsheet.sqlite3'}"


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """Return the URL of this machine's PostgreSQL (fails, never skips, when it is down)."""
    with psycopg.connect(POSTGRES_URL, connect_timeout=5) as conn:
        conn.execute("SELECT 1")
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_server_url):
    """Create a database of its own on the real PostgreSQL; drop it afterwards."""
    name = f"runsheet_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(postgres_server_url)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_open_stores: list = []


@pytest.fixture(autouse=True)
def _close_databases():
    """Close every database connection a test opened, so none leaks into the next."""
    yield
    while _open_stores:
        _open_stores.pop().engine.dispose()


def open_store(database_url: str):  # noqa: ANN201
    """Open a store on ``database_url``, closed again after the test."""
    from runsheet.storage.store import Store

    store = Store.from_url(database_url)
    _open_stores.append(store)
    return store


def make_app(database_url: str, clock=None, **config):  # noqa: ANN001, ANN201
    """Create an app on ``database_url`` with test settings (closed after the test)."""
    settings = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "BASE_URL": "http://127.0.0.1:5000",
        "PRESENCE_GRACE_SECONDS": 1,
        # Tests move the run-sheet at will; the move guard has tests of its own.
        "MOVE_GUARD_SECONDS": 0,
        # Tests send requests as fast as they like; the HTTP throttle has tests of its own.
        "HTTP_REQUESTS_PER_SECOND": 0,
        **config,
    }
    if clock is not None:
        settings["CLOCK"] = clock
    app = create_app(settings)
    _open_stores.append(app.extensions["runsheet"].store)
    return app


@pytest.fixture
def app(database_url, clock, tmp_path):
    """Return an app on a fresh SQLite database with the default plan and a frozen clock."""
    return make_app(database_url, clock)


@pytest.fixture
def client(app):
    """Return a test client of the app."""
    return app.test_client()


@pytest.fixture
def runner(database_url, tmp_path, monkeypatch):
    """Return a CLI runner whose commands use the test database."""
    monkeypatch.setenv("RUNSHEET_DATABASE_URL", database_url)
    monkeypatch.setenv("RUNSHEET_SECRET_KEY", SECRET)
    monkeypatch.setenv("RUNSHEET_BASE_URL", "http://127.0.0.1:5000")
    from runsheet.cli import cli

    class Runner:
        def invoke(self, *args: str):  # noqa: ANN201
            return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return Runner()


def tokens_of(app) -> dict:  # noqa: ANN001
    """Return the token of the organizer, the MC and each point, read from their links."""
    svc = app.extensions["runsheet"]
    plan = svc.ceremony.current().plan
    links = role_links(svc.store, plan, svc.secret_key, svc.base_url)
    token = lambda url: url.split("?token=")[1]  # noqa: E731
    roles = {"organizer": token(links.organizer), "mc": token(links.mc)}
    return {**roles, **{pid: token(url) for pid, url in links.points.items()}}


class Caller:
    """Someone calling the HTTP API with a token (or none): ``mc.advance()``."""

    def __init__(self, client, token: str | None) -> None:  # noqa: ANN001
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def post(self, path: str, json=None, **kwargs):  # noqa: ANN001, ANN201
        return self.client.post(f"/api/v1{path}", json=json, headers=self.headers, **kwargs)

    def state(self) -> dict:
        return self.client.get("/api/v1/state", headers=self.headers).get_json()

    def advance(self, expected_version: int | None = None):  # noqa: ANN201
        body = {} if expected_version is None else {"expected_version": expected_version}
        return self.post("/advance", body)

    def back(self, **body):  # noqa: ANN201
        return self.post("/back", body)

    def goto(self, item_id: str, **body):  # noqa: ANN201
        return self.post(f"/goto/{item_id}", body)

    def finish(self, **body):  # noqa: ANN201
        return self.post("/finish", body)

    def check_in(self, point_id: str, by: str = "Nguyễn Văn A", present: int = 12, note: str = ""):  # noqa: ANN201
        return self.post(
            f"/points/{point_id}/checkin", {"by": by, "present": present, "note": note}
        )


@pytest.fixture
def tokens(app) -> dict:
    """Return every role's token of the app's active event."""
    return tokens_of(app)


@pytest.fixture
def mc(client, tokens) -> Caller:
    """Return the MC, calling the API with the MC token."""
    return Caller(client, tokens["mc"])


@pytest.fixture
def organizer(client, tokens) -> Caller:
    """Return the organizer, calling the API with the organizer token."""
    return Caller(client, tokens["organizer"])


@pytest.fixture
def ward(client, tokens) -> Caller:
    """Return the technician of the Thới An ward point."""
    return Caller(client, tokens["thoi-an"])


@pytest.fixture
def anonymous(client) -> Caller:
    """Return someone with no token."""
    return Caller(client, None)


@pytest.fixture
def plan():
    """Return the built-in plan."""
    return default_plan()


# -- the production server, as a subprocess ---------------------------------------------------
# (tests.live_server imports this module, so it is imported where it is needed)


@pytest.fixture
def served(tmp_path):
    """Run ``runsheet serve`` (eventlet) on a fresh database with a one-second grace period."""
    from tests.live_server import serve_command

    yield from serve_command(tmp_path)


@pytest.fixture
def crowd(served):
    """Return the people who connect to the served ceremony during a test."""
    from tests.live_server import Crowd

    crowd = Crowd(served)
    yield crowd
    crowd.close()
