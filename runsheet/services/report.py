"""The report of one run of the ceremony: planned against actual, every point's log, the audit.

``build_report`` is a pure function of the plan, the run's record (the live state while the
run is under way, the archived state once it ended), the audit log's entries of that run and
``now``; it returns the report as JSON-ready dictionaries (``shapes.Report``). Where each
figure comes from:

- items and the ceremony: the record's spans (every stretch an item was live), its
  adjustments (extensions, holds and resumes) and the plan's schedule;
- each point's confirmation, link health, roll-call answers and messages read: the record;
- each point's check-in changes, troubles (from, to), online spans and earlier roll calls:
  the run's audit log (``storage.store.AuditEntry``: check-ins, trouble reports and clears,
  roll calls, and presence changes recorded as action ``presence``). Without entries the
  report holds what the record alone knows (the latest check-in, the open trouble, the last
  roll call) and ``record_log`` lists what the record shows happened.

``choose_run`` picks the run a report is about: the one asked for, else the latest real run.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.ceremony import Ceremony, CeremonyState, PointStatus, Run
from ..domain.errors import NotFound
from ..domain.plan import Plan, Point
from ..storage.store import ArchivedRunRow, AuditEntry
from . import shapes

# The audit actions a point's log is made of.
CHECKIN_ACTIONS = {"checkin"}
TROUBLE_ACTIONS = {"trouble", "clear_trouble"}
ROLL_CALL_ACTIONS = {"roll_call"}
PRESENCE_ACTION = "presence"
LINK_ACTION = "link"
# A report's audit part stops there (and says so; GET /api/v1/audit pages through all of
# it): a ceremony's run logs a few hundred entries, and the report's workbook costs time in
# proportion to its rows.
MAX_AUDIT_ENTRIES = 5_000


@dataclass(frozen=True)
class RunRecord:
    """The run a report is about: which run, its record, and when it ended (None: under way)."""

    run: Run | None  # None: no run has started yet (the report is the plan alone)
    record: CeremonyState
    ended_at: datetime | None
    archived: bool


def choose_run(
    state: CeremonyState,
    archived: Sequence[ArchivedRunRow],
    load_record: Callable[[int], CeremonyState | None],
    number: int | None = None,
) -> RunRecord:
    """Return the run a report is about.

    ``number`` names a run (archived or under way); without it, the latest real run: the one
    under way if it is real, else the last archived real run; with no real run yet, the run
    under way or the last archived one; with no run at all, the state as it is (the plan).
    """
    current = state.run
    if number is not None:
        if current is not None and current.number == number:
            return RunRecord(current, state, None, archived=False)
        row = next((r for r in archived if r.number == number), None)
        record = load_record(number) if row is not None else None
        if row is None or record is None:
            raise NotFound(f"no run {number}", field="run")
        return RunRecord(_run_of(row), record, row.ended_at, archived=True)
    if current is not None and current.kind == "live":
        return RunRecord(current, state, None, archived=False)
    real = [r for r in archived if r.kind == "live"]
    if real:
        return choose_run(state, archived, load_record, real[-1].number)
    if current is not None:
        return RunRecord(current, state, None, archived=False)
    if archived:
        return choose_run(state, archived, load_record, archived[-1].number)
    return RunRecord(None, state, None, archived=False)


def _run_of(row: ArchivedRunRow) -> Run:
    return Run(row.kind, row.number, row.started_at)


# -- the report -------------------------------------------------------------------------------


def build_report(
    plan: Plan,
    chosen: RunRecord,
    audit: Iterable[AuditEntry],
    now: datetime,
    *,
    point_id: str | None = None,
) -> shapes.Report:
    """Return the report of ``chosen`` (one point's part only, if ``point_id`` is given)."""
    record = chosen.record
    entries = sorted(audit, key=lambda entry: (entry.at, entry.id))
    # What is still open counts until the run's end (archived, or finished), else until now.
    finished_at = record.finished_at if record.phase == "finished" else None
    end = chosen.ended_at or finished_at or now
    clock = _Clock(plan)
    run = chosen.run
    points = [p for p in plan.points if point_id is None or p.id == point_id]
    # A point's report shows only the entries about it (never another point's, nor the
    # presence changes that name every point); its log is still worked out from them all.
    shown = entries if point_id is None else [e for e in entries if _about_point(e) == point_id]
    log = _PointLog.of(entries)
    truncated = len(shown) > MAX_AUDIT_ENTRIES
    return {
        "run": (
            {
                "number": run.number,
                "kind": run.kind,
                "started_at": clock.iso(run.started_at),
                "ended_at": clock.iso(chosen.ended_at),
                "archived": chosen.archived,
                "final": chosen.ended_at is not None or record.phase == "finished",
            }
            if run is not None
            else None
        ),
        "generated_at": clock.iso(now),
        "event": {
            "slug": plan.event.slug,
            "title": plan.event.title,
            "reference": plan.event.reference,
            "organizer": plan.event.organizer,
            "timezone": plan.event.timezone,
        },
        "ceremony": _ceremony(plan, record, end, clock),
        "items": _items(plan, record, end, clock),
        "points": [_point(plan, p, record, log, run, end, clock) for p in points],
        "audit": [_audit_entry(entry, clock) for entry in shown[:MAX_AUDIT_ENTRIES]],
        "audit_source": "audit" if entries else "record",
        "audit_truncated": truncated,
        "record_log": [] if entries else _record_log(plan, record, point_id, clock),
    }


class _Clock:
    """Times as the report shows them: ISO 8601 in the event's zone; durations in seconds."""

    def __init__(self, plan: Plan) -> None:
        self.zone = plan.event.zone

    def iso(self, moment: datetime | None) -> str | None:
        return moment.astimezone(self.zone).isoformat() if moment is not None else None


def _seconds(start: datetime, end: datetime) -> float:
    return round(max(0.0, (end - start).total_seconds()), 3)


def _signed(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def _ceremony(plan: Plan, record: CeremonyState, end: datetime, clock: _Clock) -> Any:  # noqa: ANN401
    """The ceremony as a whole: planned and actual start and end, delay and drift."""
    starts = [span.started_at for spans in record.spans.values() for span in spans]
    actual_start = record.started_at or (min(starts) if starts else None)
    finished = record.phase == "finished"
    timing = Ceremony(plan, record).timing(end)
    planned_start, planned_end = plan.event.starts_at, plan.planned_end
    delay = (actual_start - planned_start).total_seconds() if actual_start else None
    actual_end = record.finished_at if finished else None
    return {
        "phase": record.phase,
        "planned_start": clock.iso(planned_start),
        "actual_start": clock.iso(actual_start),
        "start_delay_seconds": _signed(delay),
        "planned_end": clock.iso(planned_end),
        "actual_end": clock.iso(actual_end),
        "projected_end": clock.iso(timing.projected_end) if actual_start else None,
        "end_delay_seconds": (
            _signed((actual_end - planned_end).total_seconds()) if actual_end else None
        ),
        "drift_seconds": _signed(timing.drift_seconds) if actual_start else None,
        "planned_seconds": plan.planned_minutes * 60,
        "actual_seconds": (
            _seconds(actual_start, actual_end or end) if actual_start is not None else None
        ),
    }


def _items(plan: Plan, record: CeremonyState, end: datetime, clock: _Clock) -> list[Any]:
    """Every programme item, planned against actual, with its extensions and holds."""
    listed = []
    current = record.current_item_id
    position = plan.item_index(current) if current and plan.item(current) else None
    for index, slot in enumerate(plan.schedule()):
        item = slot.item
        spans = record.spans.get(item.id, [])
        stretches = [
            {
                "started_at": clock.iso(span.started_at),
                "ended_at": clock.iso(span.ended_at),
                "seconds": _seconds(span.started_at, span.ended_at or end),
                "held_seconds": round(span.held_seconds, 3),
            }
            for span in spans
        ]
        actual = round(sum(s["seconds"] for s in stretches), 3) if spans else None
        planned = item.planned_minutes * 60
        adjustments = [a for a in record.adjustments if a.item_id == item.id]
        point = plan.point(item.point_id) if item.point_id else None
        listed.append(
            {
                "id": item.id,
                "position": index + 1,
                "title": item.title,
                "speaker": item.speaker,
                "point_id": item.point_id,
                "point_name": point.name if point else None,
                "planned_start": clock.iso(slot.start),
                "planned_end": clock.iso(slot.end),
                "planned_minutes": item.planned_minutes,
                "status": _status(record, index, position, shown=bool(spans)),
                "actual_start": clock.iso(spans[0].started_at) if spans else None,
                "actual_end": clock.iso(spans[-1].ended_at) if spans else None,
                "actual_seconds": actual,
                "over_under_seconds": _signed(actual - planned) if actual is not None else None,
                "extended_seconds": round(record.extensions.get(item.id, 0.0), 3),
                "spans": stretches,
                "extensions": [
                    {"at": clock.iso(a.at), "seconds": a.seconds}
                    for a in adjustments
                    if a.kind == "extend"
                ],
                "holds": _holds(adjustments, spans, end, clock),
            }
        )
    return listed


def _status(record: CeremonyState, index: int, position: int | None, shown: bool) -> str:
    """Return live, done (it was live), skipped (passed over, never live) or pending."""
    if record.phase == "live" and index == position:
        return "live"
    if shown:
        return "done"
    if record.phase == "finished" or (position is not None and index < position):
        return "skipped"
    return "pending"


def _holds(adjustments, spans, end: datetime, clock: _Clock) -> list[Any]:  # noqa: ANN001
    """Each hold of an item's timer: from its hold to its resume (or the end of its stretch)."""
    holds = []
    for index, adjustment in enumerate(adjustments):
        if adjustment.kind != "hold":
            continue
        resume = next((a for a in adjustments[index + 1 :] if a.kind in ("resume", "hold")), None)
        if resume is not None and resume.kind == "resume":
            until = resume.at
        else:  # the item stopped being live while on hold
            span = next(
                (s for s in spans if s.started_at <= adjustment.at <= (s.ended_at or end)), None
            )
            until = (span.ended_at if span else None) or end
        holds.append(
            {
                "from": clock.iso(adjustment.at),
                "to": clock.iso(until),
                "seconds": _seconds(adjustment.at, until),
            }
        )
    return holds


# -- the points -------------------------------------------------------------------------------


def _about_point(entry: AuditEntry) -> str | None:
    """Return the point an audit entry is about: the one its payload names, else the actor's."""
    named = entry.summary.get("point_id") if isinstance(entry.summary, dict) else None
    return named if isinstance(named, str) else entry.point_id


@dataclass(frozen=True)
class _PointLog:
    """The run's entries a point's log is made of, sorted out once for every point."""

    done_by_point: dict[str, list[AuditEntry]]
    presence: list[AuditEntry]
    roll_calls: list[AuditEntry]

    @classmethod
    def of(cls, entries: list[AuditEntry]) -> _PointLog:
        done_by_point: dict[str, list[AuditEntry]] = {}
        for entry in entries:
            about = _about_point(entry)
            if entry.outcome == "done" and about is not None:
                done_by_point.setdefault(about, []).append(entry)
        done = [e for e in entries if e.outcome == "done"]
        return cls(
            done_by_point,
            [e for e in done if e.action == PRESENCE_ACTION],
            [e for e in done if e.action in ROLL_CALL_ACTIONS],
        )


def _point(
    plan: Plan,
    point: Point,
    record: CeremonyState,
    log: _PointLog,
    run: Run | None,
    end: datetime,
    clock: _Clock,
) -> Any:  # noqa: ANN401
    status = record.points.get(point.id) or PointStatus(point.id)
    own = log.done_by_point.get(point.id, [])
    checkin = status.checkin
    return {
        "id": point.id,
        "name": point.name,
        "kind": point.kind,
        "confirmed_at": clock.iso(checkin.at) if checkin else None,
        "confirmed_by": checkin.by if checkin else None,
        "present": checkin.present if checkin else None,
        "note": checkin.note if checkin else None,
        "checkins": _checkins(own, status, clock),
        "troubles": _troubles(own, status, end, clock),
        "online_at_end": status.online,
        "online_spans": _online_spans(point.id, log.presence, status, run, end, clock),
        "link": _link(own, status, clock),
        "roll_calls": _roll_calls(point.id, log.roll_calls, record, clock),
        "messages": _messages(point.id, record, clock),
    }


def _checkins(own: list[AuditEntry], status: PointStatus, clock: _Clock) -> list[Any]:
    """Every check-in of the point, in order (the record's latest one without an audit log)."""
    listed = []
    for entry in own:
        if entry.action not in CHECKIN_ACTIONS:
            continue
        summary = entry.summary
        listed.append(
            {
                "at": clock.iso(entry.at),
                "by": str(summary.get("by", "")).strip(),
                "present": summary.get("present")
                if isinstance(summary.get("present"), int)
                else None,
                "note": str(summary.get("note", "") or "").strip(),
                "role": entry.role,
            }
        )
    if not listed and status.checkin is not None:
        checkin = status.checkin
        listed.append(
            {
                "at": clock.iso(checkin.at),
                "by": checkin.by,
                "present": checkin.present,
                "note": checkin.note,
                "role": None,
            }
        )
    return listed


def _troubles(
    own: list[AuditEntry], status: PointStatus, end: datetime, clock: _Clock
) -> list[Any]:
    """Every trouble of the point: kind, text, from, to (None: still open) and how long."""
    found: list[dict[str, Any]] = []
    open_trouble: dict[str, Any] | None = None

    def close(at: datetime) -> None:
        nonlocal open_trouble
        if open_trouble is not None:
            open_trouble["to"] = at
            found.append(open_trouble)
            open_trouble = None

    for entry in own:
        if entry.action not in TROUBLE_ACTIONS:
            continue
        summary = entry.summary
        if entry.action == "clear_trouble" or summary.get("clear") is True:
            close(entry.at)
            continue
        kind, text = str(summary.get("kind", "other")), str(summary.get("text", "") or "").strip()
        if open_trouble is not None and open_trouble["kind"] == kind:
            open_trouble["text"] = text  # the same trouble, described again
            continue
        close(entry.at)
        open_trouble = {"kind": kind, "text": text, "from": entry.at, "to": None}
    if open_trouble is not None:
        found.append(open_trouble)
    if not found and status.trouble is not None:  # no audit log: the record's open trouble
        trouble = status.trouble
        found.append(
            {"kind": trouble.kind, "text": trouble.text, "from": trouble.since, "to": None}
        )
    return [
        {
            "kind": t["kind"],
            "text": t["text"],
            "from": clock.iso(t["from"]),
            "to": clock.iso(t["to"]),
            "seconds": _seconds(t["from"], t["to"] or end),
        }
        for t in found
    ]


def _online_spans(
    point_id: str,
    entries: list[AuditEntry],
    status: PointStatus,
    run: Run | None,
    end: datetime,
    clock: _Clock,
) -> list[Any]:
    """Each stretch the point had a page connected, from the presence changes in the log.

    A point whose first change in the run is going offline was online from the run's start;
    one with no change at all was online throughout if the record says so at the end.
    """
    changes: list[tuple[datetime, bool]] = []
    for entry in entries:
        if entry.action != PRESENCE_ACTION:
            continue
        summary = entry.summary
        if point_id in (summary.get("online") or ()):
            changes.append((entry.at, True))
        elif point_id in (summary.get("offline") or ()):
            changes.append((entry.at, False))
    start = run.started_at if run is not None else None
    online_since: datetime | None = None
    if changes:
        if not changes[0][1] and start is not None:
            online_since = min(start, changes[0][0])
    elif status.online and start is not None:
        online_since = start
    spans = []
    for at, online in changes:
        if online and online_since is None:
            online_since = at
        elif not online and online_since is not None:
            spans.append((online_since, at))
            online_since = None
    if online_since is not None:
        spans.append((online_since, None))
    return [
        {"from": clock.iso(a), "to": clock.iso(b), "seconds": _seconds(a, b or end)}
        for a, b in spans
    ]


def _link(own: list[AuditEntry], status: PointStatus, clock: _Clock) -> Any:  # noqa: ANN401
    """The point's link health over the run: round trips reported (the log's, else the last few)."""
    trips = []
    offsets = []
    last_at = None
    for entry in own:
        if entry.action != LINK_ACTION:
            continue
        rtt, offset = entry.summary.get("rtt_ms"), entry.summary.get("clock_offset_ms")
        if isinstance(rtt, int | float):
            trips.append(float(rtt))
            offsets.append(float(offset) if isinstance(offset, int | float) else 0.0)
            last_at = entry.at
    if not trips and status.link_samples:
        trips = [s.rtt_ms for s in status.link_samples]
        offsets = [s.clock_offset_ms for s in status.link_samples]
        last_at = status.link_samples[-1].at
    if not trips:
        return None
    return {
        "samples": len(trips),
        "rtt_median_ms": round(statistics.median(trips)),
        "rtt_max_ms": round(max(trips)),
        "jitter_ms": round(max(trips) - min(trips)),
        "clock_offset_ms": round(statistics.median(offsets)),
        "measured_at": clock.iso(last_at),
    }


def _roll_calls(
    point_id: str, entries: list[AuditEntry], record: CeremonyState, clock: _Clock
) -> list[Any]:
    """Each roll call of the run and the point's answer to it, with its delay."""
    calls: list[dict[str, Any]] = []
    for entry in entries:
        if entry.action not in ROLL_CALL_ACTIONS or entry.outcome != "done":
            continue
        if entry.role != "point":
            calls.append({"started_at": entry.at, "answered_at": None})
        elif entry.point_id == point_id and calls and calls[-1]["answered_at"] is None:
            calls[-1]["answered_at"] = entry.at
    last = record.roll_call
    if last is not None:
        answer = last.answers.get(point_id)
        if calls and calls[-1]["started_at"] == last.started_at:
            calls[-1]["answered_at"] = answer or calls[-1]["answered_at"]
        elif not calls or calls[-1]["started_at"] < last.started_at:
            calls.append({"started_at": last.started_at, "answered_at": answer})
    first_id = (last.id - len(calls) + 1) if last is not None else 1
    return [
        {
            "id": max(1, first_id + index),
            "started_at": clock.iso(call["started_at"]),
            "answered_at": clock.iso(call["answered_at"]),
            "delay_seconds": (
                _seconds(call["started_at"], call["answered_at"]) if call["answered_at"] else None
            ),
        }
        for index, call in enumerate(calls)
    ]


def _messages(point_id: str, record: CeremonyState, clock: _Clock) -> list[Any]:
    """Every message the point received (to all, or to it), and when it was read."""
    return [
        {
            "id": message.id,
            "text": message.text,
            "to_all": message.to is None,
            "sent_at": clock.iso(message.sent_at),
            "read_at": clock.iso(message.read_by.get(point_id)),
            "read_after_seconds": (
                _seconds(message.sent_at, message.read_by[point_id])
                if point_id in message.read_by
                else None
            ),
        }
        for message in record.messages
        if message.to in (None, point_id)
    ]


def _audit_entry(entry: AuditEntry, clock: _Clock) -> Any:  # noqa: ANN401
    return {
        "id": entry.id,
        "at": clock.iso(entry.at),
        "role": entry.role,
        "point_id": entry.point_id,
        "console": entry.console,
        "channel": entry.channel,
        "action": entry.action,
        "summary": entry.summary if isinstance(entry.summary, dict) else {},
        "version_before": entry.version_before,
        "version_after": entry.version_after,
        "outcome": entry.outcome,
        "error": entry.error,
        "error_kind": entry.error_kind,
    }


def _record_log(
    plan: Plan, record: CeremonyState, point_id: str | None, clock: _Clock
) -> list[Any]:
    """Without an audit log: what the record itself shows happened, in order of time."""
    log: list[tuple[datetime, str, str | None, str | None, str]] = []
    if point_id is None:
        for item_id, spans in record.spans.items():
            for span in spans:
                log.append((span.started_at, "live", item_id, None, ""))
        for adjustment in record.adjustments:
            detail = f"{adjustment.seconds:+g}" if adjustment.kind != "hold" else ""
            log.append((adjustment.at, adjustment.kind, adjustment.item_id, None, detail))
        if record.finished_at is not None and record.phase == "finished":
            log.append((record.finished_at, "finish", None, None, ""))
    for status in record.points.values():
        if point_id is not None and status.point_id != point_id:
            continue
        if status.checkin is not None:
            checkin = status.checkin
            log.append((checkin.at, "checkin", None, status.point_id, checkin.by))
        if status.trouble is not None:
            trouble = status.trouble
            log.append((trouble.since, "trouble", None, status.point_id, trouble.kind))
    for message in record.messages:
        if point_id is not None and message.to not in (None, point_id):
            continue
        log.append((message.sent_at, "message", None, message.to, message.text))
        for reader, at in message.read_by.items():
            if point_id is None or reader == point_id:
                log.append((at, "ack_message", None, reader, str(message.id)))
    if record.roll_call is not None:
        roll_call = record.roll_call
        if point_id is None:
            log.append((roll_call.started_at, "roll_call", None, None, ""))
        for reader, at in roll_call.answers.items():
            if point_id is None or reader == point_id:
                log.append((at, "roll_call_answer", None, reader, str(roll_call.id)))
    log.sort(key=lambda row: row[0])
    return [
        {"at": clock.iso(at), "action": action, "item_id": item, "point_id": point, "detail": text}
        for at, action, item, point, text in log
    ]
