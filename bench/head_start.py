"""A goto's way through the app, back to back and after the server sat idle: the head start.

    .venv/bin/python -m bench.head_start [--gotos 15] [--idle 1.0] [--postgres URL]

The built-in plan on a fresh SQLite database in a temporary folder (with ``--postgres``, a
fresh database made on that PostgreSQL server and dropped after), no server and no
socket client: the MC's ``POST /api/v1/goto/<item>`` through Flask's test client, timed
from the request to the answer (the caller found, the rule, the transaction with its
audit entry, the viewers' state built and encoded, the answer),
first ``--gotos`` times back to back, then as often with ``--idle`` seconds between two,
as the yardstick sends them (one a second). Prints the medians of both, and the time
from the request to the view's first line (middleware and routing) and of the caller's
look-up, each way. The gap between the two columns is what a CPU that has been idle
costs every line of the path (its caches cold), which is why a change a second takes
longer than a change in a tight loop.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable

from runsheet.services.plans import token_generations
from runsheet.services.tokens import derive_tokens
from runsheet.transports import api

from .change_cost import app_in
from .servers import fresh_postgres


def main(argv: list[str] | None = None) -> int:
    """Time the gotos both ways and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gotos", type=int, default=15)
    parser.add_argument("--idle", type=float, default=1.0, help="seconds between two, idle")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server's admin URL")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="runsheet-head-start-"))
        config = {}
        if args.postgres:
            config["DATABASE_URL"] = stack.enter_context(fresh_postgres(args.postgres))
        app = app_in(folder, **config)
        stack.callback(app.extensions["runsheet"].store.engine.dispose)
        services = app.extensions["runsheet"]
        plan = services.ceremony.current().plan
        generations = token_generations(services.store, plan.event.slug)
        token = derive_tokens(services.secret_key, plan, generations)[("mc", None)]
        marks = Marks(app)
        items = [item.id for item in plan.agenda]
        client = app.test_client()

        def goto(n: int) -> None:
            answer = client.post(
                f"/api/v1/goto/{items[n % len(items)]}",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.get_data(as_text=True)

        for n in range(10):  # unmeasured: imports, caches, the first plan's checks
            goto(n)
        hot = marks.time(goto, args.gotos, idle=0.0)
        cold = marks.time(goto, args.gotos, idle=args.idle)
    print(f"{args.gotos} gotos each way (medians, ms)   back to back   after {args.idle:g} s idle")
    for name in ("request to answer", "middleware and routing", "the caller's look-up"):
        print(f"  {name:<32} {hot[name]:>13.2f}   {cold[name]:>15.2f}")
    return 0


class Marks:
    """The moments a request passes: its arrival in the app, the view, the caller found."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.moments: dict[str, float] = {}
        inner_app = app.wsgi_app

        def arrived(environ, start_response):  # noqa: ANN001, ANN202
            self.moments["arrived"] = time.perf_counter()
            return inner_app(environ, start_response)

        app.wsgi_app = arrived
        for name in ("api_claim", "api_caller"):  # the names ``api.perform`` calls
            if hasattr(api, name):  # (the claim came on 2026-12-07)
                setattr(api, name, self._marking(getattr(api, name)))

    def _marking(self, find_caller: Callable[..., object]) -> Callable[..., object]:
        def caller(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            self.moments.setdefault("view", time.perf_counter())
            try:
                return find_caller(*args, **kwargs)
            finally:
                self.moments["caller"] = time.perf_counter()

        return caller

    def time(self, goto: Callable[[int], None], count: int, idle: float) -> dict[str, float]:
        """Return the median milliseconds of each stretch over ``count`` gotos."""
        stretches: dict[str, list[float]] = {
            "request to answer": [],
            "middleware and routing": [],
            "the caller's look-up": [],
        }
        for n in range(count):
            if idle:
                time.sleep(idle)
            self.moments.clear()
            started = time.perf_counter()
            goto(n)
            moments = self.moments
            stretches["request to answer"].append(time.perf_counter() - started)
            stretches["middleware and routing"].append(moments["view"] - moments["arrived"])
            stretches["the caller's look-up"].append(moments["caller"] - moments["view"])
        return {name: statistics.median(values) * 1000 for name, values in stretches.items()}


if __name__ == "__main__":
    raise SystemExit(main())
