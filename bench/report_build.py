"""Time the report of a run with a long audit log: building it, its chart, CSV and workbook.

A synthetic run of the built-in plan (13 points) with ``--entries`` audit entries (check-ins,
troubles, clears, roll calls, presence changes) spread over an hour; the report's audit part
stops at services.report.MAX_AUDIT_ENTRIES.

    .venv/bin/python bench/report_build.py [--entries 5000]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from runsheet.domain.ceremony import Ceremony, new_state
from runsheet.plans import default_plan
from runsheet.services.report import RunRecord, build_report
from runsheet.services.report_chart import ChartWords, timeline_svg
from runsheet.services.report_exports import report_csv, report_xlsx
from runsheet.storage.store import AuditEntry

START = datetime(2021, 10, 1, 1, 0, tzinfo=UTC)
KINDS = ("checkin", "trouble", "clear_trouble", "roll_call", "presence")


def entries(count: int, point_ids: list[str]) -> list[AuditEntry]:
    """Return ``count`` audit entries of one run, a fifth of a second apart."""
    made = []
    chooser = random.Random(13)
    for index in range(count):
        point_id, kind = chooser.choice(point_ids), chooser.choice(KINDS)
        summary = {
            "checkin": {"by": "Kỹ thuật viên", "present": 12},
            "trouble": {"kind": "no_sound", "text": "Mất tiếng"},
            "presence": {"online": [point_id], "offline": []},
        }.get(kind, {})
        made.append(
            AuditEntry(
                event_id=1,
                run_number=1,
                at=START + timedelta(seconds=index * 0.2),
                role="system" if kind == "presence" else "point",
                point_id=None if kind == "presence" else point_id,
                console=None,
                channel="http",
                action=kind,
                summary=summary,
                version_before=index,
                version_after=index + 1,
                outcome="done",
                id=index + 1,
            )
        )
    return made


def timed(label: str, work):  # noqa: ANN001, ANN201
    started = time.perf_counter()
    result = work()
    print(f"{label}: {(time.perf_counter() - started) * 1000:.0f} ms")
    return result


def main() -> None:
    """Build the report once and print how long each part took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    args = parser.parse_args()
    plan = default_plan()
    state = new_state(plan)
    Ceremony(plan, state).advance(START)
    log = entries(args.entries, [p.id for p in plan.points])
    chosen = RunRecord(state.run, state, None, archived=False)
    now = START + timedelta(hours=1)
    print(f"{args.entries} audit entries, {len(plan.points)} points, {len(plan.agenda)} items")
    report = timed("report", lambda: build_report(plan, chosen, log, now))
    timed("chart", lambda: timeline_svg(report, ChartWords("t", "p", "a", "o", "s")))
    timed("csv", lambda: report_csv(report, lambda key: key))
    workbook = timed("xlsx", lambda: report_xlsx(report, lambda key: key))
    print(f"xlsx size: {len(workbook) // 1024} KiB")


if __name__ == "__main__":
    main()
