"""Turn a benchmark run's raw times into figures: latencies per advance and over the run.

A receipt of advance k by a client is the first ``state`` that client got whose version
is at least the version k's reply carried (a broadcast may reach clients before the reply
reaches the MC, so arrivals are matched after the run). Latency = receipt time minus the
time the advance's HTTP request was sent, both read from CLOCK_MONOTONIC, which every
process on the machine shares.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .wsclient import Outcome


@dataclass
class Trigger:
    """One advance the MC sent: when, what came back, and how long the reply took."""

    sent_at: float
    replied_at: float | None
    status: int | None
    version: int | None
    error: str | None = None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Return the nearest-rank ``p``-th percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def latencies(triggers: Sequence[Trigger], outcomes: Sequence[Outcome]) -> list[list[float]]:
    """Return, per trigger, the latency of every client that received it (seconds)."""
    measured = [(i, t) for i, t in enumerate(triggers) if t.version is not None]
    measured.sort(key=lambda pair: pair[1].version)
    per_trigger: list[list[float]] = [[] for _ in triggers]
    for outcome in outcomes:
        arrivals = outcome.arrivals
        position = 0
        for index, trigger in measured:
            while position < len(arrivals) and arrivals[position][1] < trigger.version:
                position += 1
            if position == len(arrivals):
                break
            per_trigger[index].append(arrivals[position][0] - trigger.sent_at)
    return per_trigger


def summarise(
    triggers: Sequence[Trigger], outcomes: Sequence[Outcome], clients: int
) -> dict[str, Any]:
    """Return the run's figures: per advance, and over every (client, advance) pair."""
    per_trigger = latencies(triggers, outcomes)
    rows = []
    for number, (trigger, values) in enumerate(zip(triggers, per_trigger, strict=True), 1):
        rows.append(
            {
                "advance": number,
                "status": trigger.status,
                "version": trigger.version,
                "reply_ms": _ms(
                    trigger.replied_at - trigger.sent_at if trigger.replied_at else None
                ),
                "received": len(values),
                "first_ms": _ms(min(values) if values else None),
                "p50_ms": _ms(percentile(values, 50)),
                "p99_ms": _ms(percentile(values, 99)),
                "last_ms": _ms(max(values) if values else None),
            }
        )
    every = [value for values in per_trigger for value in values]
    ok = [t for t in triggers if t.version is not None]
    lasts = [max(values) for values in per_trigger if values]
    firsts = [min(values) for values in per_trigger if values]
    complete = sum(1 for o in outcomes if ok and _has_all(o, ok))
    return {
        "advances": len(triggers),
        "failed_triggers": len(triggers) - len(ok),
        "trigger_errors": sorted({t.error for t in triggers if t.error})[:5],
        "delivered": len(every),
        "expected": clients * len(ok),
        "clients_with_all": complete,
        "p50_ms": _ms(percentile(every, 50)),
        "p99_ms": _ms(percentile(every, 99)),
        "max_ms": _ms(max(every) if every else None),
        "first_client_p50_ms": _ms(percentile(firsts, 50)),
        "last_client_p50_ms": _ms(percentile(lasts, 50)),
        "last_client_p99_ms": _ms(percentile(lasts, 99)),
        "last_client_max_ms": _ms(max(lasts) if lasts else None),
        "reply_p50_ms": _ms(
            percentile([t.replied_at - t.sent_at for t in triggers if t.replied_at], 50)
        ),
        "per_advance": rows,
    }


def _has_all(outcome: Outcome, triggers: Sequence[Trigger]) -> bool:
    # A client received every advance when it received the last one: each earlier advance
    # then has a receipt too (its own state, or a later full state that replaced it).
    highest = max((version for _, version in outcome.arrivals), default=-1)
    return highest >= max(t.version for t in triggers)


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def print_per_advance(summary: dict[str, Any]) -> None:
    """Print one line per advance: first, median, p99 and last client."""
    print("advance  version  reply ms  received  first / p50 / p99 / last client ms")
    for row in summary["per_advance"]:
        print(
            f"{row['advance']:>7}  {_cell(row['version']):>7}  {_cell(row['reply_ms']):>8}  "
            f"{row['received']:>8}  {_cell(row['first_ms'])} / {_cell(row['p50_ms'])} / "
            f"{_cell(row['p99_ms'])} / {_cell(row['last_ms'])}"
        )


def print_summary(result: dict[str, Any]) -> None:
    """Print the run's figures as a few readable lines and one table row."""
    s, load = result["summary"], result["load"]
    print(f"== {result['label']}")
    print(
        f"clients held {result['held']}/{result['clients']} "
        f"(connect {result['connect_seconds']:.1f} s; deflate negotiated by "
        f"{result['deflate_negotiated']}; still open at the end {result['open_at_end']})"
    )
    print(
        f"delivered {s['delivered']}/{s['expected']} "
        f"({s['clients_with_all']} clients had every advance); "
        f"failed triggers {s['failed_triggers']} {s['trigger_errors'] or ''}"
    )
    print(
        f"latency over every (client, advance): p50 {_cell(s['p50_ms'])} ms, "
        f"p99 {_cell(s['p99_ms'])} ms, max {_cell(s['max_ms'])} ms"
    )
    print(
        f"per advance: first client p50 {_cell(s['first_client_p50_ms'])} ms; last client "
        f"p50 {_cell(s['last_client_p50_ms'])} / p99 {_cell(s['last_client_p99_ms'])} / "
        f"max {_cell(s['last_client_max_ms'])} ms; MC's reply p50 {_cell(s['reply_p50_ms'])} ms"
    )
    print(
        f"server RSS {load['server_rss_mb']} MB (peak {load['server_rss_peak_mb']}); "
        f"server CPU {load['server_cpu_percent']} % of a core; "
        f"client CPU {load['client_cpu_percent']} % (busiest worker "
        f"{load['client_worker_max_cpu_percent']} %); other processes "
        f"{load['other_cpu_percent']} %"
    )
    print(
        "ROW | {label} | {held}/{clients} | {p50} / {p99} / {max} | {last50} / {lastmax} | "
        "{delivered}/{expected} | {rss} | {cpu} | {client} | {other} |".format(
            label=result["label"],
            held=result["held"],
            clients=result["clients"],
            p50=_cell(s["p50_ms"]),
            p99=_cell(s["p99_ms"]),
            max=_cell(s["max_ms"]),
            last50=_cell(s["last_client_p50_ms"]),
            lastmax=_cell(s["last_client_max_ms"]),
            delivered=s["delivered"],
            expected=s["expected"],
            rss=load["server_rss_mb"],
            cpu=load["server_cpu_percent"],
            client=load["client_cpu_percent"],
            other=load["other_cpu_percent"],
        )
    )
