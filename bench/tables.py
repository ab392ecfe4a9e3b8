"""Print the README's Performance tables from the JSON results of a benchmark campaign.

    .venv/bin/python -m bench.tables bench/results/before bench/results/after

Reads ``fanout-*.json`` (``bench/fanout.py``) and ``runsheet-*.json`` / ``node-ref-*.json``
(the yardstick's ``client/bench.js``) from each folder, in the order given.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _n(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 100 else f"{value:.1f}"
    return str(value)


def fanout_rows(folder: Path) -> list[str]:
    """Return a table row per ``bench/fanout.py`` result in ``folder``."""
    rows = []
    for path in sorted(folder.glob("fanout-*.json"), key=_order):
        r = json.loads(path.read_text())
        s, load = r["summary"], r["load"]
        rows.append(
            f"| {folder.name} | {r['clients']} | {r['settings']['processes']} "
            f"| {r['held']}/{r['clients']} "
            f"| {_n(s['p50_ms'])} / {_n(s['p99_ms'])} / {_n(s['max_ms'])} "
            f"| {_n(s['first_client_p50_ms'])} / {_n(s['last_client_p50_ms'])} "
            f"| {s['delivered']}/{s['expected']} | {_n(load['server_cpu_percent'])} "
            f"| {_n(load['server_rss_mb'])} | {_n(load['client_cpu_percent'])} "
            f"| {_n(load['other_cpu_percent'])} | {r['deflate_negotiated']} |"
        )
    return rows


def yardstick_rows(folder: Path) -> list[str]:
    """Return a table row per yardstick result in ``folder``, runsheet next to the reference."""
    rows = []
    for path in sorted(folder.glob("*.json"), key=_order):
        if not path.name.startswith(("runsheet-", "node-ref-")):
            continue
        r = json.loads(path.read_text())
        lat, last = r["latencyMs"], r["perAdvanceLastClientMs"]
        server, client, machine = r["server"], r["client"], r["machine"]
        peer = "node reference" if path.name.startswith("node-ref") else "runsheet"
        deflate = ", ".join(f"{k} {v}" for k, v in r["wsExtensionsNegotiated"].items())
        rows.append(
            f"| {folder.name} | {r['clientsRequested']} "
            f"| {peer} | {_n(lat['p50'])} / {_n(lat['p99'])} / {_n(lat['max'])} "
            f"| {_n(last['p50'])} | {r['delivered']}/{r['expected']} "
            f"| {_n(server['cpuPctDuringAdvances'])} | {_n(server['end']['rssMB'])} "
            f"| {_n(client['cpuPctDuringAdvances'])} "
            f"({client['eventLoopUtilizationDuringAdvances']}) "
            f"| {_n(machine['otherProcessesPctDuringAdvances'])} | {deflate} |"
        )
    return rows


def _order(path: Path) -> tuple:
    digits = [int(part) for part in path.stem.replace("p-", "-").split("-") if part.isdigit()]
    return (digits[-1] if digits else 0, path.name)


def main(argv: list[str] | None = None) -> int:
    """Print both tables for the folders named on the command line."""
    folders = [Path(name) for name in (argv if argv is not None else sys.argv[1:])]
    print(
        "| code | clients | processes | held | p50 / p99 / max ms | first / last client p50 ms "
        "| delivered | server CPU % | server RSS MB | client CPU % | others % | deflate |"
    )
    print("|---" * 12 + "|")
    for folder in folders:
        print("\n".join(fanout_rows(folder)))
    print()
    print(
        "| code | clients | server | p50 / p99 / max ms | last client p50 ms | delivered "
        "| server CPU % | server RSS MB | client CPU % (ELU) | others % | deflate |"
    )
    print("|---" * 11 + "|")
    for folder in folders:
        print("\n".join(yardstick_rows(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
