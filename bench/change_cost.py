"""What one change costs in-process: a check-in then a trouble at 3,500 points, or a goto.

    .venv/bin/python -m bench.change_cost [--points 3500] [--changes 20]
    .venv/bin/python -m bench.change_cost --built-in --changes 300

The national plan (``bench.national_plan``), or with ``--built-in`` the built-in 13-point
plan moved from item to item by the MC (what the yardstick triggers), on a fresh SQLite
database in a temporary folder, no server: ``CeremonyService.perform`` from the call to its
return (read, apply, store, tell the subscribers: with ``--built-in`` three whole-state
Socket.IO test clients, whose packets are encoded as for real ones). Prints the mean, the
median and the slowest.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

from flask import Flask

from runsheet.app import create_app
from runsheet.extensions import socketio
from runsheet.plans import plan_from_dict
from runsheet.services.ceremony import CeremonyService, utc_now
from runsheet.services.plans import install_plan
from runsheet.services.tokens import Actor

from .national_plan import national_plan_dict, point_id


def main(argv: list[str] | None = None) -> int:
    """Time the changes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=3500)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--built-in", action="store_true", help="the 13-point plan, gotos")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="runsheet-change-cost-") as folder:
        app = app_in(folder, HTTP_REQUESTS_PER_SECOND=0)
        services = app.extensions["runsheet"]
        if args.built_in:
            clients = [socketio.test_client(app) for _ in range(3)]
            times = time_gotos(services.ceremony, args.changes)
            for client in clients:
                client.disconnect()
            what = f"{args.changes} gotos on the built-in plan"
        else:
            plan = plan_from_dict(national_plan_dict(args.points))
            install_plan(services.store, plan, services.secret_key, utc_now())
            times = time_point_changes(services.ceremony, args.changes)
            what = f"{args.changes} changes at {args.points} points"
    print(
        f"{what}: mean {statistics.mean(times):.2f} ms, "
        f"median {statistics.median(times):.2f} ms, slowest {max(times):.1f} ms"
    )
    return 0


def app_in(folder: str, **config: Any) -> Flask:
    """Return the app on a fresh SQLite database in ``folder``, moves never held back."""
    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder}/runsheet.sqlite3",
            "SECRET_KEY": "bench-only-" * 4,
            "MOVE_GUARD_SECONDS": 0,
            **config,
        }
    )


def time_point_changes(ceremony: CeremonyService, changes: int) -> list[float]:
    """Time check-ins and troubles of one point after another, in ms."""
    ceremony.perform(Actor("mc"), "advance", {})
    times = []
    for n in range(changes):
        point = Actor("point", point_id(2 + n))
        name, payload = (
            ("checkin", {"by": "Kỹ thuật viên", "present": 3})
            if n % 2 == 0
            else ("trouble", {"kind": "no_sound", "text": ""})
        )
        started = time.perf_counter()
        ceremony.perform(point, name, payload)
        times.append((time.perf_counter() - started) * 1000)
    return times


def time_gotos(ceremony: CeremonyService, changes: int) -> list[float]:
    """Time the MC's gotos from item to item of the plan, in ms (after ten unmeasured)."""
    items = [item.id for item in ceremony.current().plan.agenda]
    times = []
    for n in range(changes + 10):
        started = time.perf_counter()
        ceremony.perform(Actor("mc"), "goto", {"item_id": items[n % len(items)]})
        times.append((time.perf_counter() - started) * 1000)
    return times[10:]


if __name__ == "__main__":
    raise SystemExit(main())
