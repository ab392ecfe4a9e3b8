"""What the audit log costs an action: N `extend` actions on SQLite, logged and not.

Each action's entry is one INSERT in the transaction that stores the change; this times
``CeremonyService.perform`` with it and with ``extend`` left out of the log, on fresh
databases in a temporary folder, three rounds each, and prints the medians.

    .venv/bin/python -m bench.audit_cost [--actions 400]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from runsheet.plans import default_plan
from runsheet.services import ceremony as ceremony_module
from runsheet.services.ceremony import CeremonyService
from runsheet.services.plans import install_plan
from runsheet.services.tokens import Actor
from runsheet.storage.store import Store

MC = Actor("mc").via("http")
ROUNDS = 3


def milliseconds_per_action(database: Path, actions: int, logged: bool) -> float:
    """Return the mean time of one ``extend`` on a fresh database, logged or not."""
    store = Store.from_url(f"sqlite:///{database}")
    store.create_schema()
    install_plan(store, default_plan(), "k" * 32, datetime.now(UTC))
    service = CeremonyService(store)
    service.perform(MC, "advance", {})
    saved = ceremony_module.UNLOGGED_WHEN_DONE
    ceremony_module.UNLOGGED_WHEN_DONE = saved if logged else saved | {"extend"}
    try:
        start = time.perf_counter()
        for i in range(actions):
            service.perform(MC, "extend", {"seconds": 1 if i % 2 else -1})
        return (time.perf_counter() - start) / actions * 1000
    finally:
        ceremony_module.UNLOGGED_WHEN_DONE = saved
        store.engine.dispose()


def main() -> None:
    """Print the median time per action with and without its audit entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=400)
    actions = parser.parse_args().actions
    results: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as folder:
        for round_number in range(ROUNDS):
            for logged in (False, True):
                database = Path(folder) / f"{round_number}-{logged}.sqlite3"
                results[logged].append(milliseconds_per_action(database, actions, logged))
    for logged, values in results.items():
        label = "with its audit entry" if logged else "without"
        print(f"{label}: {statistics.median(values):.2f} ms per action ({ROUNDS} x {actions})")


if __name__ == "__main__":
    main()
