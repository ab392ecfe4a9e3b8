"""Flooding: one client sends hundreds of events a second while the ceremony goes on.

``runsheet serve`` (eventlet) serves the MC, a point and a few viewers; the MC advances over
HTTP and each viewer's receipt of every new state is timed, first in calm, then while a
separate process (``tests/flooder.py``) floods the server with a point's check-ins, as fast
as it can write, connecting again each time it is dropped. The flooder is slowed down (after
a burst its events are refused as ``rate_limited``) and then disconnected, each time, and a
new connection does not bring a new burst. The others receive every state while the flood
goes on, each within a bound that a busy test machine keeps (the times are printed: on a
quiet machine they stay well under a second); the states of the first burst (accepted
changes, each sent to everyone) may hold the ones behind them up a little longer.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runsheet.transports.sockets.settings import DEFAULTS
from tests.live_server import SocketUser
from tests.processes import Processes, Service

pytestmark = pytest.mark.slow  # `runsheet serve` and the flooder run as subprocesses

ADVANCES = 12  # in calm, and again while the flood goes on
BURST_ADVANCES = 2  # while the flooder's first burst is being served
SPACING = 0.35  # seconds between two advances
# Seconds: the bound on every advance-to-receipt time, calm or flooded. Generous, so that
# a busy machine cannot break it; the test prints the times it measured.
WITHIN = 5.0
BURST_WITHIN = 10.0  # seconds, for the advances queued behind the first burst
FLOOD_SECONDS = (ADVANCES + BURST_ADVANCES) * SPACING + 3
FLOODER = "thoi-an"  # the point whose token the flooder holds


@pytest.fixture
def processes(tmp_path):
    """Return a launcher of processes, every one stopped at the end of the test."""
    processes = Processes(tmp_path)
    yield processes
    processes.close()


def timed_advances(service: Service, watchers: list[SocketUser], times: int) -> list[float]:
    """Advance ``times`` times; return each watcher's delay from request to receipt."""
    delays: list[float] = []
    item = service.state()["current_item_id"]
    for _ in range(times):
        # Back and forth between two items, so the MC never runs out of programme.
        target = "dien-van-khai-mac" if item == "tuyen-bo-ly-do" else "tuyen-bo-ly-do"
        sent_at = time.monotonic()
        response = service.post(f"/goto/{target}")
        assert response.status_code == 200, response.text
        version, item = response.json()["version"], target
        for watcher in watchers:
            watcher.wait_for_version(version, timeout=WITHIN * 5)
            with watcher._changed:
                arrived = next(
                    at
                    for state, at in zip(watcher.states, watcher.received_at, strict=True)
                    if state["version"] >= version
                )
            delays.append(arrived - sent_at)
        time.sleep(max(0.0, sent_at + SPACING - time.monotonic()))
    return delays


def summary(delays: list[float]) -> str:
    """Return p50 and max of ``delays`` in milliseconds."""
    return f"p50 {statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms"


def test_a_flooding_client_is_slowed_then_dropped_and_the_others_stay_on_time(processes, tmp_path):
    service = processes.service("flood", f"sqlite:///{tmp_path / 'runsheet.sqlite3'}")
    crowd = processes.crowd(service)
    watchers = [crowd.viewer() for _ in range(5)]
    watchers += [crowd.point("hiep-thanh"), crowd.mc()]

    calm = timed_advances(service, watchers, ADVANCES)

    flooder = subprocess.Popen(
        [sys.executable, "-m", "tests.flooder", service.url, service.tokens[FLOODER]]
        + [str(FLOOD_SECONDS)],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert flooder.stdout.readline().strip() == "flooding", flooder.stderr.read()
        burst = timed_advances(service, watchers, BURST_ADVANCES)
        first = flooder.stdout.readline()  # its first connection was dropped
        flooded = timed_advances(service, watchers, ADVANCES)
        out, err = flooder.communicate(timeout=FLOOD_SECONDS + 30)
        out = first + out
    finally:
        if flooder.poll() is None:
            flooder.kill()
            flooder.wait()
    assert flooder.returncode == 0, err
    connections = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    print(f"\ncalm: {summary(calm)}; first burst: {summary(burst)}; flooded: {summary(flooded)}")
    print("flooder:", connections)

    # The flooder was slowed down, then dropped; every connection it came back with too, and
    # without a new burst.
    assert len(connections) >= 3, connections
    first, *again = connections
    assert first["sent"] / first["seconds"] >= 100  # hundreds of events a second
    burst_size = DEFAULTS["SOCKET_EVENT_BURST"]
    assert burst_size <= first["answers"].get("ok", 0) <= burst_size + 10, first
    assert sum(c["answers"].get("ok", 0) for c in again) <= 10 * FLOOD_SECONDS, again
    for connection in connections[:-1]:  # the last one may have been cut by its own clock
        answers = connection["answers"]
        assert connection["disconnected"], connection
        assert answers.get("rate_limited", 0) > 0, connection
        # A burst, a few more at the steady rate, then only refusals.
        assert answers.get("ok", 0) <= DEFAULTS["SOCKET_EVENT_BURST"] + 10, connection
        # Dropped long before its time was up, however many events a busy machine let it send
        # in the moment between the refusal that used up its patience and the drop.
        assert connection["seconds"] < FLOOD_SECONDS / 2, connection
        assert set(answers) <= {"ok", "rate_limited"}, connection

    # The others got every state, each within the bound, during the flood as before it.
    assert len(flooded) == len(calm) == ADVANCES * len(watchers)
    assert max(calm) < WITHIN, summary(calm)
    assert max(burst) < BURST_WITHIN, summary(burst)
    assert max(flooded) < WITHIN, summary(flooded)
    assert all(watcher.connected for watcher in watchers)
    assert service.alive
    assert "Traceback" not in service.log_text(), service.log_text()[-4000:]
