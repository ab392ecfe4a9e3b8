"""Under eventlet, a query to PostgreSQL lets the process's other green threads run.

psycopg 3's C extension waits for the server in C, where eventlet's monkey-patching cannot
reach: with it, every query stopped every green thread of ``runsheet serve`` (every screen,
every other request) until PostgreSQL answered. ``runsheet.cli.go_green`` makes psycopg
wait on the patched ``selectors``. Checked in a subprocess, as ``runsheet serve`` starts:
another green thread keeps ticking while a query sleeps in PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.postgres

PROBE = textwrap.dedent(
    """
    import json, sys
    from runsheet.cli import go_green
    go_green()
    import eventlet, psycopg, psycopg.waiting

    ticks = []
    def tick():
        while True:
            ticks.append(1)
            eventlet.sleep(0.01)
    eventlet.spawn(tick)
    eventlet.sleep(0)
    with psycopg.connect(sys.argv[1]) as conn:
        before = len(ticks)
        conn.execute("select pg_sleep(0.5)")
        during = len(ticks) - before
    print(json.dumps({"wait": psycopg.waiting.wait.__name__, "ticks": during}))
    """
)


def probe(environment: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", PROBE, POSTGRES_URL],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=True,
    )
    return json.loads(done.stdout)


def test_a_query_under_eventlet_lets_the_other_green_threads_run():
    environment = {k: v for k, v in os.environ.items() if k != "PSYCOPG_WAIT_FUNC"}
    found = probe(environment)
    assert found["wait"] == "wait_selector"
    assert found["ticks"] >= 10  # ticking every 10 ms through a query of 500 ms


def test_with_the_c_wait_every_green_thread_stops_during_a_query():
    # What the probe would see without go_green's setting: proof that it catches the freeze.
    found = probe({**os.environ, "PSYCOPG_WAIT_FUNC": "wait_c"})
    assert found["wait"] == "wait_c"
    assert found["ticks"] == 0
