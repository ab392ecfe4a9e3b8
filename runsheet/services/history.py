"""The ceremony's timeline: every stretch each item was live, how long in all, and what the
MC changed on the live item's clock (extensions, holds); and the list of its runs.

The live state carries only each item's latest start and end, so that the state pushed to
every screen stays the same size however often the MC goes back and forth; this is the
whole record, read on demand (``GET /api/v1/history``) for a report after the ceremony.
"""

from __future__ import annotations

from datetime import datetime

from ..domain.ceremony import CeremonyState, Run
from ..domain.plan import Plan
from ..storage.store import ArchivedRunRow
from .shapes import HistoryRecord, RunEntry, RunList


def history(plan: Plan, state: CeremonyState, now: datetime) -> HistoryRecord:
    """Return every span in the order it started, and each item's planned and actual time.

    An open span (the live item's) counts until ``now`` (never below zero, should the
    server's clock have been set back since it opened).
    """
    zone = plan.event.zone
    spans = sorted(
        ((span, item_id) for item_id, item_spans in state.spans.items() for span in item_spans),
        key=lambda pair: pair[0].started_at,
    )
    actual: dict[str, float] = {}
    timeline = []
    for span, item_id in spans:
        seconds = max(0.0, ((span.ended_at or now) - span.started_at).total_seconds())
        actual[item_id] = actual.get(item_id, 0.0) + seconds
        timeline.append(
            {
                "item_id": item_id,
                "started_at": span.started_at.astimezone(zone).isoformat(),
                "ended_at": span.ended_at.astimezone(zone).isoformat() if span.ended_at else None,
                "seconds": round(seconds, 3),
            }
        )
    adjustments = [
        {
            "kind": adjustment.kind,
            "item_id": adjustment.item_id,
            "at": adjustment.at.astimezone(zone).isoformat(),
            "seconds": adjustment.seconds,
        }
        for adjustment in state.adjustments
    ]
    return {
        "version": state.version,
        "spans": timeline,
        "adjustments": adjustments,
        "items": [
            {
                "id": item.id,
                "planned_seconds": item.planned_minutes * 60,
                "actual_seconds": round(actual.get(item.id, 0.0), 3),
                "times_shown": len(state.spans.get(item.id, [])),
            }
            for item in plan.agenda
        ],
    }


def runs(current_run: Run | None, archived: list[ArchivedRunRow], plan: Plan) -> RunList:
    """Return every run of the ceremony in the order they started: archived ones, then the
    one under way (not archived yet, no end)."""
    zone = plan.event.zone
    listed: list[RunEntry] = [
        {
            "number": row.number,
            "kind": row.kind,
            "started_at": row.started_at.astimezone(zone).isoformat(),
            "ended_at": row.ended_at.astimezone(zone).isoformat(),
            "archived": True,
        }
        for row in archived
    ]
    if current_run is not None:
        listed.append(
            {
                "number": current_run.number,
                "kind": current_run.kind,
                "started_at": current_run.started_at.astimezone(zone).isoformat(),
                "ended_at": None,
                "archived": False,
            }
        )
    return {"runs": listed}
