"""Fan-out benchmark: how long until every screen shows the item the MC just moved to.

It starts the real service (``runsheet serve``, eventlet) on a fresh database, connects N
real Socket.IO WebSocket clients (the 13 points with their tokens, the rest public
viewers), has the MC move to the next item M times over the HTTP API on a fixed schedule,
and reports per advance the time until the first and the last client had the new state,
over every (client, advance) pair p50/p99/max, messages delivered vs expected, clients
held, the server's RSS and CPU and the load client's own CPU. With ``--processes 2`` it
serves from two processes on two ports sharing a fresh PostgreSQL database and a Redis
message queue, clients spread over both, the MC on the first.

    .venv/bin/python -m bench.fanout --clients 1000 --advances 50 --json bench/results/x.json

The clients are lean asyncio WebSocket clients (``bench/wsclient.py``) spread over a few
worker processes; they offer permessage-deflate as browsers do (``--no-deflate`` not).
Everything started here is stopped at the end, and ``--max-seconds`` bounds the run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import requests

from .report import Trigger, print_per_advance, print_summary, summarise
from .servers import Deployment, deploy, fresh_postgres
from .wsclient import ClientSpec, Outcome, WorkerOptions, worker_main

ROOT = Path(__file__).resolve().parent.parent


class RunOutOfTime(Exception):
    """The run passed ``--max-seconds``."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--clients", type=int, default=100, help="clients in all, the 13 points included")
    add("--advances", type=int, default=50, help="measured advances (50)")
    add("--interval", type=float, default=100, help="ms between advances (100)")
    add("--warmup", type=int, default=3, help="unmeasured advances first (3)")
    add("--processes", type=int, default=1, help="server processes; >1 uses Redis + PostgreSQL")
    add("--redis", default="redis://127.0.0.1:6379/14", help="message queue for --processes>1")
    add(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL database to create the fresh one from (--processes>1)",
    )
    add("--workers", type=int, default=2, help="load client processes (2)")
    add("--no-deflate", action="store_true", help="do not offer permessage-deflate")
    add("--connect-concurrency", type=int, default=50, help="handshakes in flight (50)")
    add("--connect-timeout", type=float, default=120, help="seconds to connect everyone")
    add("--drain", type=float, default=30, help="seconds to wait for stragglers (30)")
    add("--max-seconds", type=int, default=600, help="bound on the whole run (600)")
    add("--idle-wait", type=float, default=300, help="seconds to wait for a quiet machine")
    add("--idle-percent", type=float, default=25, help="'quiet': others use less of a core")
    add("--source", type=Path, default=ROOT, help="checkout whose runsheet is served")
    add("--env", action="append", default=[], help="extra NAME=VALUE for the servers")
    add("--py-spy", help="py-spy executable: profile the servers during the advances")
    add("--profile-out", type=Path, default=Path("profile"), help="prefix of profile files")
    add("--max-other", type=float, default=30, help="rerun if others used more (%% of a core)")
    add("--attempts", type=int, default=3, help="runs at most, when others disturb them")
    add("--label", help="name of the run in the output")
    add("--json", type=Path, help="write the result here")
    add("--quiet", action="store_true", help="leave out the per-advance lines")
    return parser.parse_args(argv)


def machine_busy_percent(seconds: float = 2.0) -> float:
    """Return how much CPU (percent of one core) the machine used over ``seconds``."""
    before = psutil.cpu_times()
    time.sleep(seconds)
    after = psutil.cpu_times()
    total = sum(after) - sum(before)
    idle = (after.idle + after.iowait) - (before.idle + before.iowait)
    return 100 * psutil.cpu_count() * (total - idle) / total if total > 0 else 0.0


def wait_for_quiet(limit_seconds: float, percent: float) -> float:
    """Wait (bounded) until other processes leave the machine nearly idle; return its load."""
    deadline = time.monotonic() + limit_seconds
    while True:
        busy = machine_busy_percent()
        if busy < percent or time.monotonic() > deadline:
            return busy
        print(f"machine busy ({busy:.0f} % of a core by others); waiting", file=sys.stderr)
        time.sleep(3)


def client_specs(deployment: Deployment, clients: int) -> list[ClientSpec]:
    """Return the clients: the points with their tokens first, then public viewers."""
    specs = [
        ClientSpec("", {"token": token}, f"point:{pid}")
        for pid, token in deployment.point_tokens.items()
    ][:clients]
    specs += [ClientSpec("", {}, f"viewer:{n}") for n in range(clients - len(specs))]
    for index, spec in enumerate(specs):  # spread over the processes
        spec.url = deployment.urls[index % len(deployment.urls)]
    return specs


class Workers:
    """The load client's worker processes and the pipes to them."""

    def __init__(self, specs: list[ClientSpec], count: int, options: WorkerOptions) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes = []
        self.processes = []
        for index in range(count):
            share = specs[index::count]
            parent, child = context.Pipe()
            process = context.Process(
                target=worker_main, args=(child, share, options), name=f"bench-client-{index}"
            )
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)

    def wait_connected(self, timeout: float) -> tuple[int, list[str], int, float]:
        """Wait for every worker's connect report; return held, errors, failures, seconds."""
        held, errors, failed, seconds = 0, [], 0, 0.0
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise RunOutOfTime("a load client worker did not finish connecting")
            _, count, some, failures, took = pipe.recv()
            held += count
            errors += some
            failed += failures
            seconds = max(seconds, took)
        return held, errors, failed, seconds

    def collect(self, timeout: float = 60) -> list[Outcome]:
        """Return every client's outcome."""
        outcomes: list[Outcome] = []
        for pipe in self.pipes:
            pipe.send(("collect", None))
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise RunOutOfTime("a load client worker did not report")
            outcomes += pipe.recv()[1]
        return outcomes

    def progress(self, version: int, timeout: float = 60) -> int:
        """Return how many clients hold ``version`` or a later one."""
        for pipe in self.pipes:
            pipe.send(("progress", version))
        have = 0
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise RunOutOfTime("a load client worker did not report")
            have += pipe.recv()[1]
        return have

    def stop(self) -> None:
        """Close every client and end the workers."""
        for pipe in self.pipes:
            try:
                pipe.send(("close", None))
            except OSError:
                pass
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()


class Meter:
    """Server RSS sampled in the background; CPU of servers, clients and machine per window."""

    def __init__(self, servers: list[int], clients: list[int]) -> None:
        self.servers = [psutil.Process(pid) for pid in servers]
        self.clients = [psutil.Process(pid) for pid in clients] + [psutil.Process()]
        self.rss_peak = 0
        self.rss_last = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _rss(self) -> int:
        return sum(p.memory_info().rss for p in self.servers if p.is_running())

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            try:
                self.rss_last = self._rss()
            except psutil.Error:
                continue
            self.rss_peak = max(self.rss_peak, self.rss_last)

    @staticmethod
    def _cpu(processes: list[psutil.Process]) -> list[float]:
        return [sum(p.cpu_times()[:2]) for p in processes]

    def mark(self) -> dict[str, Any]:
        """Return a reading to measure a window from."""
        times = psutil.cpu_times()
        return {
            "at": time.monotonic(),
            "servers": self._cpu(self.servers),
            "clients": self._cpu(self.clients),
            "busy": sum(times) - times.idle - times.iowait,
        }

    def window(self, start: dict[str, Any]) -> dict[str, Any]:
        """Return CPU use since ``start`` (percent of one core) and the server's memory."""
        end = self.mark()
        wall = end["at"] - start["at"]

        def percent(a: float, b: float) -> float:
            return round(100 * (b - a) / wall, 1)

        server = sum(end["servers"]) - sum(start["servers"])
        client = sum(end["clients"]) - sum(start["clients"])
        busy = end["busy"] - start["busy"]
        workers = [percent(a, b) for a, b in zip(start["clients"], end["clients"], strict=True)]
        return {
            "seconds": round(wall, 2),
            "server_cpu_percent": percent(0, server),
            "client_cpu_percent": percent(0, client),
            "client_worker_max_cpu_percent": max(workers),
            "other_cpu_percent": percent(0, busy - server - client),
            "server_rss_mb": round(self.rss_last / 2**20, 1),
            "server_rss_peak_mb": round(self.rss_peak / 2**20, 1),
        }

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()


class MC:
    """The MC's trigger: ``POST /api/v1/goto/<next item>`` on a fixed schedule."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        state = requests.get(f"{url}/api/v1/state", timeout=10).json()
        self.items = [item["id"] for item in state["agenda"]]
        current = state.get("current_item_id")
        self.position = self.items.index(current) + 1 if current in self.items else 0
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="mc")

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            parts = urlsplit(self.url)
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            self.local.connection = connection
        return connection

    def _post(self, item_id: str) -> Trigger:
        path = f"/api/v1/goto/{item_id}"
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        connection = self._connection()
        sent = time.monotonic()
        try:
            connection.request("POST", path, body=b"{}", headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            self.local.connection = None
            return Trigger(sent, None, None, None, f"{type(error).__name__}: {error}")
        replied = time.monotonic()
        if response.status != 200:
            error = body[:200].decode(errors="replace")
            return Trigger(sent, replied, response.status, None, error)
        return Trigger(sent, replied, 200, json.loads(body)["version"])

    def advance(self) -> Any:
        """Send the next advance from the pool; return its future."""
        item_id = self.items[self.position % len(self.items)]
        self.position += 1
        return self.pool.submit(self._post, item_id)

    def run(self, count: int, interval: float) -> list[Trigger]:
        """Send ``count`` advances ``interval`` seconds apart; return them once all replied."""
        start = time.monotonic()
        futures = []
        for number in range(count):
            delay = start + number * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(self.advance())
        return [future.result() for future in futures]


def wait_for_delivery(workers: Workers, version: int, held: int, seconds: float) -> None:
    """Wait until every held client has ``version`` (or the drain time is up)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if workers.progress(version) >= held:
            return
        time.sleep(0.05)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Serve, connect, advance, measure; return the result."""
    quiet_load = wait_for_quiet(args.idle_wait, args.idle_percent)
    load_average = psutil.getloadavg()
    label = args.label or (
        f"runsheet-{args.processes}p-{args.clients}" + ("-nodeflate" if args.no_deflate else "")
    )
    extra = dict(item.split("=", 1) for item in args.env)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="runsheet-bench-")))
        database_url = message_queue = None
        if args.processes > 1:
            database_url = stack.enter_context(fresh_postgres(args.postgres))
            message_queue = args.redis
        deployment = stack.enter_context(
            deploy(folder, args.source, args.processes, database_url, message_queue, extra)
        )
        specs = client_specs(deployment, args.clients)
        options = WorkerOptions(
            deflate=not args.no_deflate,
            concurrency=max(1, args.connect_concurrency // args.workers),
            connect_timeout=args.connect_timeout,
        )
        workers = Workers(specs, args.workers, options)
        stack.callback(workers.stop)
        held, errors, failed, connect_seconds = workers.wait_connected(args.connect_timeout + 30)
        print(f"connected {held}/{args.clients} in {connect_seconds:.1f} s", file=sys.stderr)
        if errors:
            print(f"connect failures: {failed}, e.g. {errors}", file=sys.stderr)
        meter = Meter(deployment.pids, [p.pid for p in workers.processes])
        stack.callback(meter.stop)
        time.sleep(1)
        mc = MC(deployment.urls[0], deployment.mc_token)
        mc.run(args.warmup, args.interval / 1000)
        time.sleep(1)
        profilers = profile(args, deployment.pids)
        start = meter.mark()
        triggers = mc.run(args.advances, args.interval / 1000)
        versions = [t.version for t in triggers if t.version is not None]
        if versions:
            wait_for_delivery(workers, max(versions), held, args.drain)
        load = meter.window(start)
        stop_profiles(profilers)
        outcomes = workers.collect()
        # Only the measured advances count; the warm-up's states are before ``start``.
        summary = summarise(triggers, outcomes, held)
        alive = [process.poll() is None for process in deployment.processes]
    return {
        "label": label,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "clients": args.clients,
        "held": held,
        "connect_failures": failed,
        "connect_errors": errors,
        "connect_seconds": round(connect_seconds, 2),
        "deflate_offered": not args.no_deflate,
        "deflate_negotiated": sum(1 for o in outcomes if o.deflate),
        "open_at_end": sum(1 for o in outcomes if not o.closed),
        "servers_alive_at_end": alive,
        "settings": {
            "processes": args.processes,
            "advances": args.advances,
            "interval_ms": args.interval,
            "warmup": args.warmup,
            "workers": args.workers,
            "source": str(args.source),
            "commit": _commit(args.source),
            "env": extra,
        },
        "machine": {
            "cores": psutil.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_average],
            "others_busy_percent_before": round(quiet_load, 1),
            "packages": {name: _version(name) for name in PACKAGES},
        },
        "load": load,
        "summary": summary,
    }


def profile(args: argparse.Namespace, pids: list[int]) -> list[subprocess.Popen]:
    """Start py-spy on every server (collapsed stacks, ``--profile-out``-<n>.txt)."""
    if not args.py_spy:
        return []
    started = []
    for index, pid in enumerate(pids):
        out = f"{args.profile_out}-{index}.txt"
        command = [args.py_spy, "record", "--pid", str(pid), "--format", "raw", "-o", out]
        started.append(subprocess.Popen(command + ["--rate", "200"], stdout=subprocess.DEVNULL))
    time.sleep(1)  # py-spy attaches
    return started


def stop_profiles(profilers: list[subprocess.Popen]) -> None:
    """Stop the profilers; each writes what it has."""
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
        profiler.wait(timeout=60)


PACKAGES = ("eventlet", "python-engineio", "python-socketio", "flask-socketio", "flask")


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _commit(source: Path) -> str | None:
    found = subprocess.run(
        ["git", "-C", str(source), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return found.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark from the command line."""
    args = parse_args(argv)

    def out_of_time(*_: Any) -> None:
        raise RunOutOfTime(f"the run took longer than {args.max_seconds} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.signal(signal.SIGTERM, out_of_time)
    signal.alarm(args.max_seconds)
    try:
        for attempt in range(1, args.attempts + 1):
            result = run(args)
            other = result["load"]["other_cpu_percent"]
            if other <= args.max_other:
                break
            print(f"others used {other:.0f} % of a core during run {attempt}", file=sys.stderr)
            signal.alarm(args.max_seconds)
        result["attempts"] = attempt
    except RunOutOfTime as error:
        print(f"stopped: {error}", file=sys.stderr)
        return 2
    finally:
        signal.alarm(0)
    if not args.quiet:
        print_per_advance(result["summary"])
    print_summary(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
