"""A scripted ceremony through HTTP, sockets and the command line, and the log it leaves.

A real server (threading mode) runs on SQLite, then on PostgreSQL; people act through the
HTTP API (``requests``), real Socket.IO clients and ``runsheet`` commands on the same
database. The log must hold every action with the right role, point, channel and outcome,
the refusals with why, presence as the system, and versions that chain without a gap.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import requests

from runsheet.plans import default_plan, dump_plan
from tests.conftest import SECRET
from tests.live_server import Crowd, point_of, runsheet_command, serve

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_database_url(request, tmp_path):
    """Return a fresh database URL on SQLite, then on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ceremony.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def server(any_database_url):
    yield from serve(any_database_url)


@pytest.fixture
def crowd(server):
    crowd = Crowd(server)
    yield crowd
    crowd.close()


@pytest.fixture
def command(any_database_url, server):
    """Run a ``runsheet`` command on the server's database, as its operator would.

    In a process of its own, as on the day: an app made in this process would take over
    the Socket.IO extension the server's app uses.
    """
    env = {
        **os.environ,
        "RUNSHEET_DATABASE_URL": any_database_url,
        "RUNSHEET_SECRET_KEY": SECRET,
        "RUNSHEET_BASE_URL": server.url,
    }

    def run(*args: str) -> str:
        done = subprocess.run(
            [runsheet_command(), *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


def test_the_log_holds_every_action_of_a_scripted_ceremony(server, crowd, command, tmp_path):
    def http(role: str, path: str, body: dict | None = None, console: str | None = None):
        headers = {"Authorization": f"Bearer {server.tokens[role]}"}
        if console:
            headers["X-Runsheet-Console"] = console
        return requests.post(f"{server.url}/api/v1{path}", json=body or {}, headers=headers)

    mc_page = crowd.mc()
    ward = crowd.point("thoi-an")
    mc_page.wait_for(lambda state: point_of(state, "thoi-an")["online"])
    assert ward.check_in(by="Chị Lan", present=30)["ok"]
    assert http("mc", "/advance", console="Bàn MC").status_code == 200
    assert mc_page.advance()["ok"]
    refused = ward.advance()
    assert refused["kind"] == "forbidden"
    assert http("mc", "/advance", {"expected_version": 1}).status_code == 409
    plan = default_plan()
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(dump_plan(plan), encoding="utf-8")
    command("load", str(plan_file))
    assert http("organizer", "/extend", {"seconds": 60}).status_code == 200
    command("rotate-tokens", "--role", "point", "--point", "thanh-loc")
    ward.leave()
    mc_page.wait_for(lambda state: not point_of(state, "thoi-an")["online"])

    svc = server.services
    event_id = svc.ceremony.current().event_id
    log = svc.store.audit_entries(event_id, limit=1000)[::-1]
    acts = [
        (e.action, e.role, e.point_id, e.channel, e.outcome, e.error_kind)
        for e in log
        if e.action != "presence"
    ]
    assert acts == [
        ("load_plan", "system", None, "system", "done", None),
        ("checkin", "point", "thoi-an", "socket", "done", None),
        ("advance", "mc", None, "http", "done", None),
        ("advance", "mc", None, "socket", "done", None),
        ("advance", "point", "thoi-an", "socket", "refused", "forbidden"),
        ("advance", "mc", None, "http", "refused", "stale"),
        ("load_plan", "organizer", None, "cli", "done", None),
        ("extend", "organizer", None, "http", "done", None),
        ("rotate_tokens", "organizer", None, "cli", "done", None),
    ]
    presence = [e.summary for e in log if e.action == "presence"]
    assert presence == [
        {"online": ["thoi-an"], "offline": []},
        {"online": [], "offline": ["thoi-an"]},
    ]
    assert all(e.role == "system" for e in log if e.action == "presence")
    by_action = {(e.action, e.channel): e for e in reversed(log) if e.outcome == "done"}
    assert by_action[("advance", "http")].console == "Bàn MC"
    assert by_action[("checkin", "socket")].summary == {"by": "Chị Lan", "present": 30, "note": ""}
    assert by_action[("rotate_tokens", "cli")].summary == {"role": "point", "point_id": "thanh-loc"}

    # Every change is there once: each version follows the one before, up to the state's.
    changes = [e for e in log if e.outcome == "done" and e.version_before != e.version_after]
    assert changes[0].version_before is None and changes[0].version_after == 1
    for earlier, later in zip(changes, changes[1:], strict=False):
        assert later.version_before == earlier.version_after, (earlier, later)
    assert changes[-1].version_after == server.version()
    refusals = [e for e in log if e.outcome == "refused"]
    assert all(e.version_before == e.version_after and e.error for e in refusals)
    assert {e.run_number for e in log} == {1}


def test_rotating_the_mcs_link_closes_its_open_pages_and_no_other(database_url):
    for live in serve(database_url):
        crowd = Crowd(live)
        try:
            mc, ward, viewer = crowd.mc(), crowd.point("thoi-an"), crowd.viewer()
            response = requests.post(
                f"{live.url}/api/v1/links/rotate",
                json={"role": "mc"},
                headers={"Authorization": f"Bearer {live.tokens['organizer']}"},
                timeout=10,
            )
            assert response.status_code == 200
            mc.wait_until_disconnected()
            assert ward.connected and viewer.connected
            assert ward.check_in()["ok"]
            refused = crowd.user({"token": live.tokens["mc"]}, name="old mc").connect_refused()
            assert refused["data"]["kind"] == "unauthenticated"
            new_token = response.json()["mc"].split("?token=")[1]
            assert crowd.user({"token": new_token}, name="new mc").connect().advance()["ok"]
        finally:
            crowd.close()
