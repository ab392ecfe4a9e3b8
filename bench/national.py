"""The national conference benchmark: 3,500 points and 5,000 viewers on two processes.

    .venv/bin/python -m bench.national [--points 3500] [--viewers 5000] [--processes 2]
        [--storm-seconds 60] [--advances 20] [--full-states] [--no-deflate]
        [--out results.json]
    .venv/bin/python -m bench.national --idle 10000 --hold 300

A generated plan (``bench.national_plan``: 3,500 points in 34 provinces) is served by
``runsheet serve`` processes sharing a fresh PostgreSQL database and Redis (as in
production; ``RUNSHEET_BENCH_POSTGRES`` and ``RUNSHEET_BENCH_REDIS`` say where, the test
servers by default). The load client (``bench.wsclient`` workers) connects every point
with its token, the viewers and the MC, all asking for patches (``--full-states``: the
viewers and points take whole states, for comparison), spread over the processes. Then:

(a) a check-in storm: every point confirms once at a random moment within
    ``--storm-seconds``; each check-in's ack is checked (stored: the database holds every
    check-in afterwards), and the time from each ack to the MC's client holding a
    version that has it (p50/p99);
(b) ``--advances`` advances one second apart (``POST /api/v1/goto``): p50/p99 from each
    POST to every client holding its version, and messages delivered vs expected;
(c) bytes per change per viewer and per point (the frames received during (b), and the
    storm's): the JSON, and as it came on the wire (the clients offer permessage-deflate
    as browsers do; ``--no-deflate`` not), server CPU and RSS per process, and the load
    client's CPU.

``--idle N --hold S`` instead opens N idle viewers on one process and holds them S
seconds: pings answered, disconnects counted, the server's RSS at the end.
The machine is shared: ``uptime``'s load is printed with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import requests

from .fanout import MC, Meter, Workers, profile, stop_profiles, wait_for_delivery
from .national_plan import national_plan_dict
from .report import percentile
from .servers import deploy, fresh_postgres
from .wsclient import ClientSpec, WorkerOptions

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("RUNSHEET_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("RUNSHEET_BENCH_REDIS", "redis://127.0.0.1:6379/0")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--points", type=int, default=3500, help="points in the plan, all connected (3500)")
    add("--groups", type=int, default=34, help="provinces (34)")
    add("--viewers", type=int, default=5000, help="public viewers (5000)")
    add("--point-clients", type=int, help="connect only this many points (default: all)")
    add("--processes", type=int, default=2, help="runsheet serve processes (2)")
    add("--workers", type=int, default=4, help="load client processes (4)")
    add("--storm-seconds", type=float, default=60.0, help="the check-in storm's length (60)")
    add("--advances", type=int, default=20, help="advances, one second apart (20)")
    add("--full-states", action="store_true", help="viewers and points take whole states")
    add("--no-deflate", action="store_true", help="do not offer permessage-deflate")
    add("--idle", type=int, default=0, help="instead: hold this many idle viewers")
    add("--hold", type=float, default=300.0, help="seconds to hold the idle viewers (300)")
    add("--out", type=Path, help="write the figures as JSON here")
    add("--py-spy", help="py-spy executable: profile the servers during (a) and (b)")
    add("--profile-out", default="national-profile", help="profiles' prefix (-storm-<n>.txt)")
    return parser.parse_args(argv)


def load() -> str:
    """Return the machine's load averages, as ``uptime`` prints them."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def specs_for(deployment: Any, args: argparse.Namespace) -> tuple[list[ClientSpec], int]:
    """Return every client (the MC first, then the points, then the viewers)."""
    patches = {} if args.full_states else {"patches": True}
    urls = deployment.urls
    specs = [ClientSpec(urls[0], {"token": deployment.mc_token, "patches": True}, "mc")]
    connected = list(deployment.point_tokens.items())[: args.point_clients]
    for index, (pid, token) in enumerate(connected):
        specs.append(
            ClientSpec(
                urls[index % len(urls)],
                {"token": token, **patches},
                f"point:{pid}",
                checkin={"by": f"Kỹ thuật viên {index}", "present": 20},
            )
        )
    for index in range(args.viewers):
        specs.append(ClientSpec(urls[index % len(urls)], dict(patches), f"viewer:{index}"))
    return specs, 1 + len(connected)


def connections_per_process(args: argparse.Namespace) -> int:
    """Return the connections one process must hold: its share of the clients, and room."""
    if args.idle:
        return args.idle + 1000
    points = args.points if args.point_clients is None else args.point_clients
    return (points + args.viewers) // args.processes + 1000


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark; return its figures."""
    with tempfile.TemporaryDirectory(prefix="runsheet-national-") as folder_name:
        folder = Path(folder_name)
        plan = folder / "plan.yaml"
        plan.write_text(
            json.dumps(national_plan_dict(args.points, args.groups), ensure_ascii=False)
        )
        with (
            fresh_postgres(POSTGRES) as database_url,
            deploy(
                folder,
                ROOT,
                1 if args.idle else args.processes,
                database_url,
                REDIS,
                {
                    "RUNSHEET_HTTP_REQUESTS_PER_SECOND": "0",
                    # Each process holds its share of the clients (4,096 by default).
                    "RUNSHEET_MAX_CONNECTIONS": str(connections_per_process(args)),
                },
                plan_path=plan,
            ) as deployment,
        ):
            try:
                if args.idle:
                    return idle(deployment, args)
                return national(deployment, args)
            finally:
                for log in deployment.logs:  # kept for a look at what the servers said
                    (Path(tempfile.gettempdir()) / f"runsheet-national-{log.name}").write_bytes(
                        log.read_bytes()
                    )


def connect(deployment: Any, specs: list[ClientSpec], args: argparse.Namespace) -> Workers:
    options = WorkerOptions(deflate=not args.no_deflate, concurrency=64, connect_timeout=120.0)
    workers = Workers(specs, args.workers, options)
    held, errors, failed, seconds = workers.wait_connected(timeout=600)
    print(f"connected {held}/{len(specs)} clients in {seconds:.1f} s; {failed} failed {errors[:3]}")
    return workers


def national(deployment: Any, args: argparse.Namespace) -> dict[str, Any]:
    specs, point_count = specs_for(deployment, args)
    result: dict[str, Any] = {"load_before": load(), "clients": len(specs)}
    workers = connect(deployment, specs, args)
    meter = Meter(deployment.pids, [p.pid for p in workers.processes])
    try:
        url = deployment.urls[0]
        settle(url)
        # (a) the check-in storm
        start_version = requests.get(f"{url}/api/v1/state", timeout=30).json()["version"]
        profilers = profile(_phase(args, "storm"), deployment.pids)
        mark = meter.mark()
        for pipe in workers.pipes:
            pipe.send(("checkin", args.storm_seconds))
        for pipe in workers.pipes:
            pipe.recv()
        time.sleep(args.storm_seconds + 2)
        storm_end = wait_quiet(url)
        wait_for_acks(workers, point_count - 1)
        stop_profiles(profilers)
        result["storm"] = {**storm_figures(workers, point_count, url), **meter.window(mark)}
        result["storm"]["versions"] = storm_end - start_version
        result["storm"]["load"] = load()
        print("storm", json.dumps(result["storm"]))
        # (b) the advances
        before = {o.label: len(o.arrivals) for o in workers.collect()}
        profilers = profile(_phase(args, "advances"), deployment.pids)
        mark = meter.mark()
        triggers = MC(url, deployment.mc_token).run(args.advances, 1.0)
        versions = [t.version for t in triggers if t.version is not None]
        if versions:
            wait_for_delivery(workers, max(versions), len(specs), 30)
        stop_profiles(profilers)
        result["advances"] = {
            **advance_figures(triggers, workers.collect(), before),
            **meter.window(mark),
            "load": load(),
        }
        result["advances"]["per_process_rss_mb"] = [
            round(psutil.Process(pid).memory_info().rss / 2**20, 1) for pid in deployment.pids
        ]
        print("advances", json.dumps(result["advances"]))
    finally:
        meter.stop()
        workers.stop()
    return result


def _phase(args: argparse.Namespace, phase: str) -> argparse.Namespace:
    """Return ``args`` with the profiles' prefix of one phase."""
    return argparse.Namespace(**{**vars(args), "profile_out": f"{args.profile_out}-{phase}"})


def settle(url: str, seconds: float = 5.0) -> None:
    """Wait until the state stops changing (presence of the points just connected)."""
    wait_quiet(url, seconds)


def wait_quiet(url: str, seconds: float = 3.0, limit: float = 300.0) -> int:
    """Wait until the version stays the same for ``seconds``; return it."""
    deadline = time.monotonic() + limit
    version, since = None, time.monotonic()
    while time.monotonic() < deadline:
        now_version = requests.get(f"{url}/api/v1/state", timeout=30).json()["version"]
        if now_version != version:
            version, since = now_version, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return version
        time.sleep(0.5)
    return version


def wait_for_acks(workers: Workers, expected: int, patience: float = 60.0) -> int:
    """Wait until every check-in is answered, or no answer came for ``patience`` s."""
    count, since = -1, time.monotonic()
    while time.monotonic() - since < patience:
        now_count = sum(len(o.acks) for o in workers.collect())
        if now_count >= expected:
            return now_count
        if now_count != count:
            count, since = now_count, time.monotonic()
        time.sleep(1.0)
    return count


def storm_figures(workers: Workers, point_count: int, url: str) -> dict[str, Any]:
    """Return the storm's figures: acks, stored check-ins, ack → MC latency, bytes."""
    outcomes = workers.collect()
    mc = next(o for o in outcomes if o.label == "mc")
    acks = [(o, ack) for o in outcomes for ack in o.acks if o.label.startswith("point:")]
    ok = [
        (o, sent, answered, body) for o, (sent, answered, body) in acks if body and body.get("ok")
    ]
    refused = [body for _, (_, _, body) in acks if not (body and body.get("ok"))]
    delays = []
    for _, _sent, answered, body in ok:
        seen = next((at for at, version in mc.arrivals if version >= body["version"]), None)
        if seen is not None:
            delays.append(max(0.0, seen - answered))
    # Every point as stored (the central rooms, in no group, too): the check-ins kept.
    stored = requests.get(f"{url}/api/v1/points", timeout=30).json()["points"]
    viewers = [o for o in outcomes if o.label.startswith("viewer:")]
    points = [o for o in outcomes if o.label.startswith("point:")]
    return {
        "checkins_sent": len(acks),
        "checkins_acked": len(ok),
        "checkins_refused": len(refused),
        "refusals": refused[:3],
        "checkins_stored": sum(1 for point in stored if point["checked_in_at"] is not None),
        "points": point_count - 1,
        "ack_to_mc_p50_ms": ms(percentile(delays, 50)),
        "ack_to_mc_p99_ms": ms(percentile(delays, 99)),
        "ack_to_mc_max_ms": ms(max(delays) if delays else None),
        "mc_missing": len(ok) - len(delays),
        **bytes_figures({"viewer": viewers, "point": points, "mc": [mc]}),
    }


def bytes_figures(
    clients: dict[str, list[Any]], skip: dict[str, int] | None = None
) -> dict[str, float | None]:
    """Return each kind of client's bytes per change, as JSON and as they came on the wire."""
    figures = {}
    for kind, outcomes in clients.items():
        figures[f"{kind}_bytes_per_change"] = bytes_per_change(outcomes, skip)
        figures[f"{kind}_wire_bytes_per_change"] = bytes_per_change(outcomes, skip, wire=True)
    return figures


def bytes_per_change(
    outcomes: list[Any], skip: dict[str, int] | None = None, wire: bool = False
) -> float | None:
    """Return the mean bytes a client received per version it moved on (first state aside):
    of JSON, or with ``wire`` as the frames carried them (compressed or not)."""
    total = changes = 0
    for outcome in outcomes:
        start = (skip or {}).get(outcome.label, 1)
        arrivals = outcome.arrivals
        if len(arrivals) <= start:
            continue
        total += sum((outcome.wire_sizes if wire else outcome.sizes)[start:])
        changes += arrivals[-1][1] - arrivals[start - 1][1]
    return round(total / changes, 1) if changes else None


def advance_figures(
    triggers: list[Any], outcomes: list[Any], before: dict[str, int]
) -> dict[str, Any]:
    """Return the advances' figures: latency to every screen, delivery, bytes per change."""
    latencies, delivered, expected = [], 0, 0
    for trigger in triggers:
        if trigger.version is None:
            continue
        for outcome in outcomes:
            if outcome.error is not None:
                continue
            expected += 1
            seen = next((at for at, v in outcome.arrivals if v >= trigger.version), None)
            if seen is not None:
                delivered += 1
                latencies.append(max(0.0, seen - trigger.sent_at))
    viewers = [o for o in outcomes if o.label.startswith("viewer:")]
    points = [o for o in outcomes if o.label.startswith("point:")]
    return {
        "advances": len(triggers),
        "refused": [t.error for t in triggers if t.version is None][:3],
        "delivered": delivered,
        "expected": expected,
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(max(latencies) if latencies else None),
        **bytes_figures(
            {"viewer": viewers, "point": points, "mc": [o for o in outcomes if o.label == "mc"]},
            before,
        ),
    }


def idle(deployment: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Hold ``args.idle`` idle viewers on one process; count disconnects; read its RSS."""
    url = deployment.urls[0]
    specs = [ClientSpec(url, {"patches": True}, f"viewer:{n}") for n in range(args.idle)]
    result: dict[str, Any] = {"load_before": load(), "clients": len(specs)}
    workers = connect(deployment, specs, args)
    server = psutil.Process(deployment.pids[0])
    try:
        rss_start = server.memory_info().rss
        time.sleep(args.hold)
        outcomes = workers.collect()
        result.update(
            {
                "held_seconds": args.hold,
                "connected": sum(1 for o in outcomes if o.arrivals),
                "closed": sum(1 for o in outcomes if o.closed),
                "errors": sum(1 for o in outcomes if o.error),
                "server_rss_mb_after_connect": round(rss_start / 2**20, 1),
                "server_rss_mb_at_end": round(server.memory_info().rss / 2**20, 1),
                "load": load(),
            }
        )
    finally:
        workers.stop()
    print("idle", json.dumps(result))
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and maybe write) its figures."""
    args = parse_args(argv)
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    result = {"commit": commit, "arguments": {k: str(v) for k, v in vars(args).items()}}
    result.update(run(args))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
