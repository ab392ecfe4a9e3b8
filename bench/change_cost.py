"""What one change costs in-process at 3,500 points: a check-in, then a trouble, timed.

    .venv/bin/python -m bench.change_cost [--points 3500] [--changes 20]

The national plan (``bench.national_plan``) on a fresh SQLite database in a temporary
folder, no server: ``CeremonyService.perform`` from the call to its return (read, apply,
store, tell the subscribers; no socket clients). Prints the mean and the slowest.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from runsheet.app import create_app
from runsheet.plans import plan_from_dict
from runsheet.services.ceremony import utc_now
from runsheet.services.plans import install_plan
from runsheet.services.tokens import Actor

from .national_plan import national_plan_dict, point_id


def main(argv: list[str] | None = None) -> int:
    """Time the changes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=3500)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="runsheet-change-cost-") as folder:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{folder}/runsheet.sqlite3",
                "SECRET_KEY": "change-cost-" * 4,
                "MOVE_GUARD_SECONDS": 0,
                "HTTP_REQUESTS_PER_SECOND": 0,
            }
        )
        services = app.extensions["runsheet"]
        plan = plan_from_dict(national_plan_dict(args.points))
        install_plan(services.store, plan, services.secret_key, utc_now())
        ceremony = services.ceremony
        ceremony.perform(Actor("mc"), "advance", {})
        times = []
        for n in range(args.changes):
            point = Actor("point", point_id(2 + n))
            name, payload = (
                ("checkin", {"by": "Kỹ thuật viên", "present": 3})
                if n % 2 == 0
                else ("trouble", {"kind": "no_sound", "text": ""})
            )
            started = time.perf_counter()
            ceremony.perform(point, name, payload)
            times.append((time.perf_counter() - started) * 1000)
    print(
        f"{args.changes} changes at {args.points} points: mean {statistics.mean(times):.1f} ms, "
        f"median {statistics.median(times):.1f} ms, slowest {max(times):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
