"""Hostile clients at the transport: floods, slow clients and chunked bodies.

``runsheet serve`` (eventlet) runs in a subprocess, the attack clients in a process of their
own (``tests/hostile_clients.py``), sending as fast as loopback allows, with no token. While
one floods, this process asks ``/healthz`` and the MC's Next again and again: each answers
within the bound, the flooding connection is closed, and the server says so once in its log.
Slow clients holding every connection slot keep a new client out no longer than the request
head timeout; an idle kept-alive connection is closed, an idle WebSocket is not. A chunked
body is read as sent on every JSON route.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.live_server import ServedProcess, SocketUser, serve, serve_command

FLOOD_SECONDS = 8  # how long each flooder sends
BOUND = 2.0  # seconds: the longest /healthz or Next may take while a flood goes on
ROOT = Path(__file__).resolve().parent.parent
BUDGET_LOG = "(inbound budget)"


@contextlib.contextmanager
def serving(folder: Path, **environment: str) -> Iterator[ServedProcess]:
    """Run ``runsheet serve`` with ``environment`` for the length of the block."""
    served = serve_command(folder, **environment)
    try:
        yield next(served)
    finally:
        served.close()


def start_flooder(kind: str, url: str) -> subprocess.Popen:
    """Start a hostile client of ``kind`` in a process of its own; wait until it floods."""
    flooder = subprocess.Popen(
        [sys.executable, "-m", "tests.hostile_clients", kind, url, str(FLOOD_SECONDS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert flooder.stdout.readline().strip() == "flooding", flooder.stderr.read()
    return flooder


def timed(call) -> float:  # noqa: ANN001
    """Return the seconds ``call`` took; a request that failed or timed out counts as 10 s."""
    started = time.monotonic()
    try:
        response = call()
    except requests.RequestException:
        return 10.0
    assert response.status_code == 200, response.text
    return time.monotonic() - started


def probe_while(flooders: list[subprocess.Popen], served: ServedProcess) -> tuple[list, list]:
    """Ask /healthz and press Next over and over until the flooders stop; return the times."""
    health, nexts = [], []
    mc = {"Authorization": f"Bearer {served.tokens['mc']}"}
    item = "tuyen-bo-ly-do"
    while any(flooder.poll() is None for flooder in flooders):
        health.append(timed(lambda: requests.get(f"{served.url}/healthz", timeout=10)))
        # Back and forth between two items, so the MC never runs out of programme.
        item = "dien-van-khai-mac" if item == "tuyen-bo-ly-do" else "tuyen-bo-ly-do"
        goto = f"{served.url}/api/v1/goto/{item}"
        nexts.append(timed(lambda goto=goto: requests.post(goto, json={}, headers=mc, timeout=10)))
        time.sleep(0.05)
    return health, nexts


def percentiles(seconds: list[float]) -> str:
    """Return p50 and p99 of ``seconds`` in milliseconds."""
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"


FLOODS = ["tiny-frames", "continuation", "pipelined", "polling-packets"]


@pytest.mark.slow
@pytest.mark.parametrize("kinds", [[kind] for kind in FLOODS] + [FLOODS], ids=[*FLOODS, "all"])
def test_a_flooding_connection_is_closed_and_logged_once_while_healthz_and_next_answer(
    kinds, tmp_path
):
    with serving(tmp_path) as served:
        flooders = [start_flooder(kind, served.url) for kind in kinds]
        try:
            health, nexts = probe_while(flooders, served)
            outputs = [flooder.communicate(timeout=30) for flooder in flooders]
        finally:
            for flooder in flooders:
                if flooder.poll() is None:
                    flooder.kill()
                    flooder.wait()
        log = served.log.read_text(errors="replace")
    print(f"\n{' + '.join(kinds)}: /healthz {percentiles(health)} ({len(health)} asked); ", end="")
    print(f"Next {percentiles(nexts)}")
    assert max(health) < BOUND, percentiles(health)
    assert max(nexts) < BOUND, percentiles(nexts)

    closed_per_port: Counter[int] = Counter()
    for kind, flooder, (out, err) in zip(kinds, flooders, outputs, strict=True):
        assert flooder.returncode == 0, err
        connections = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        # Alone, a flooder has every connection but the last (cut by its own clock) closed
        # by the server. Together, each gets a share of the server's reading small enough
        # that one may stay within its budget: then it is simply served slowly.
        cut = [connection for connection in connections if connection.get("closed")]
        if len(kinds) == 1:
            assert cut and len(cut) >= len(connections) - 1, (kind, connections)
        closed_per_port.update(connection["port"] for connection in cut)
    # Closed by the server, and logged once each. Flooders reconnecting hundreds of times
    # may be given a local port again (another flooder's too), so a port is logged once per
    # connection that had it, whichever flooder held it.
    for port, times in closed_per_port.items():
        lines = [line for line in log.splitlines() if f", {port})" in line]
        assert len(lines) == times, (kinds, port, times, lines)
        assert all(BUDGET_LOG in line for line in lines), (kinds, port, lines)
    assert "Traceback" not in log, log[-4000:]


def half_request(url: str) -> socket.socket:
    """Open a connection that sends the start of a request head and never finishes it."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode())
    return sock


def drip(sockets: list[socket.socket], stop: threading.Event) -> None:
    """Send one more header line on each connection every half second, as a slowloris does."""
    while not stop.wait(0.5):
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.sendall(b"X-Still-Here: 1\r\n")


def closed_by_server(sock: socket.socket) -> bool:
    """Say whether the server closed ``sock`` (within its 30 s timeout)."""
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        pass
    return True


@pytest.mark.slow
def test_slow_clients_on_every_slot_keep_a_new_client_out_no_longer_than_the_head_timeout(
    tmp_path,
):
    head_timeout = 3
    environment = {"RUNSHEET_MAX_CONNECTIONS": "8", "RUNSHEET_REQUEST_HEAD_TIMEOUT": "3"}
    with serving(tmp_path, **environment) as served:
        slow = [half_request(served.url) for _ in range(8)]
        stop = threading.Event()
        dripping = threading.Thread(target=drip, args=(slow, stop), daemon=True)
        dripping.start()
        waited = None
        try:
            started = time.monotonic()
            response = requests.get(f"{served.url}/healthz", timeout=30)
            waited = time.monotonic() - started
            assert response.status_code == 200
            assert all(closed_by_server(sock) for sock in slow)
        finally:
            stop.set()
            dripping.join()
            for sock in slow:
                sock.close()
    print(f"\na new client waited {waited:.1f} s behind 8 slow clients")
    assert waited < head_timeout + 5


@pytest.mark.slow
def test_an_idle_kept_alive_connection_is_closed_and_an_idle_websocket_is_not(tmp_path):
    environment = {"RUNSHEET_REQUEST_HEAD_TIMEOUT": "2", "RUNSHEET_KEEPALIVE_TIMEOUT": "2"}
    with serving(tmp_path, **environment) as served:
        viewer = SocketUser(served.url).connect()
        try:
            parts = urlsplit(served.url)
            with socket.create_connection((parts.hostname, parts.port), timeout=30) as kept:
                kept.sendall(f"GET /healthz HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
                answer = b""
                while b'"status":"ok"' not in answer:
                    answer += kept.recv(4096)
                assert closed_by_server(kept)  # idle past the keep-alive timeout

            # The WebSocket idled as long (no ping yet: the interval is 10 s) and stays open.
            time.sleep(3)
            response = requests.post(
                f"{served.url}/api/v1/advance",
                json={},
                headers={"Authorization": f"Bearer {served.tokens['mc']}"},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            viewer.wait_for_version(response.json()["version"])
            assert viewer.connected
        finally:
            viewer.disconnect()


def json_routes(url: str) -> list[str]:
    """Return every POST and DELETE route of the API, with ids of the built-in plan."""
    document = requests.get(f"{url}/api/v1/openapi.json", timeout=10).json()
    ids = {
        "item_id": "tuyen-bo-ly-do",
        "point_id": "thoi-an",
        "message_id": "1",
        "slug": "hoc-tap-suot-doi-2021-quan-12",
    }
    routes = []
    for path, operations in document["paths"].items():
        for method, details in operations.items():
            # A point's submissions are its own (the MC is refused before the body is
            # read); tests/test_deadlines*.py send them chunked with the point's token.
            if "deadlines" in details["tags"]:
                continue
            if method in ("post", "delete"):
                filled = re.sub(r"\{(\w+)\}", lambda match: ids[match.group(1)], path)
                routes.append(f"{method.upper()} {filled}")
    return routes


def chunked(body: bytes) -> Iterator[bytes]:
    """Return ``body`` as a generator: requests then sends it chunked, with no length."""
    yield body


def assert_chunked_bodies_are_read_as_sent(url: str, organizer_token: str) -> None:
    """Check that every JSON route reads a chunked body whole, and that the limit holds.

    With the organizer's token, which may call every route (the MC's would hear 403 from
    the organizer's own routes before its body is read).
    """
    headers = {"Authorization": f"Bearer {organizer_token}", "Content-Type": "application/json"}
    routes = json_routes(url)
    assert len(routes) >= 12, routes
    for route in routes:
        method, path = route.split(" ", 1)
        response = requests.request(
            method, url + path, data=chunked(b"not json"), headers=headers, timeout=10
        )
        assert response.status_code == 400, (route, response.text)
        assert response.json()["error"] == "the request body is not valid JSON", route

    # The stale-click protection holds with a chunked body too.
    requests.post(f"{url}/api/v1/advance", json={}, headers=headers, timeout=10)
    stale = requests.post(
        f"{url}/api/v1/advance",
        data=chunked(b'{"expected_version": 0}'),
        headers=headers,
        timeout=10,
    )
    assert stale.status_code == 409 and stale.json()["kind"] == "stale", stale.text

    # A chunked body beyond MAX_CONTENT_LENGTH is refused as a long one with a length is.
    big = b'{"note": "' + b"x" * (200 * 1024) + b'"}'
    too_large = requests.post(
        f"{url}/api/v1/advance", data=chunked(big), headers=headers, timeout=10
    )
    assert too_large.status_code == 413, too_large.text
    assert too_large.json()["kind"] == "too_large"


@pytest.mark.slow
def test_runsheet_serve_reads_a_chunked_body_as_sent_on_every_json_route(tmp_path):
    with serving(tmp_path) as served:
        assert_chunked_bodies_are_read_as_sent(served.url, served.tokens["organizer"])


def test_the_threading_server_reads_a_chunked_body_as_sent_on_every_json_route(database_url):
    for live in serve(database_url):
        assert_chunked_bodies_are_read_as_sent(live.url, live.tokens["organizer"])


@pytest.mark.slow
def test_real_pages_in_chromium_never_meet_the_inbound_budget(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with serving(tmp_path) as served, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"], headless=True
        )
        try:
            context = browser.new_context()
            context.set_default_timeout(15_000)
            expect.set_options(timeout=15_000)
            links = [
                f"{served.url}/mc?token={served.tokens['mc']}",
                f"{served.url}/points/thoi-an?token={served.tokens['thoi-an']}",
                f"{served.url}/",
                f"{served.url}/stage",
            ]
            pages = []
            for link in links:
                page = context.new_page()
                for _ in range(3):  # loaded, then reloaded twice: every asset asked again
                    page.goto(link)
                pages.append(page)
            mc = pages[0]
            for _ in range(5):
                expect(mc.locator("#next")).to_have_attribute("aria-busy", "false")
                mc.locator("#next").click()
            expect(mc.locator("#next")).to_have_attribute("aria-busy", "false")
            for page in pages[:3]:  # the stage display shows no connection state
                expect(page.locator("#conn")).to_have_attribute("data-state", "online")
        finally:
            browser.close()
        log = served.log.read_text(errors="replace")
    assert BUDGET_LOG not in log, log[-4000:]
