"""The state JSON every client sees (SPEC section 4), built from the plan and live state.

The public snapshot is the same for everyone; the MC's adds every message and the roll
call's answers; a point's adds the messages meant for it. ``state_body`` is what clients
receive (HTTP, sockets and pages alike): the snapshot stamped with ``server_time``, the one
place that stamp is made.
Each item carries only its latest start and end, so the state keeps its size however often
the MC goes back and forth; every span is in ``services.history``.

A plan of more than ``FULL_POINTS_LIMIT`` points (a national conference) would make every
screen's state carry thousands of points, so there each role gets what it needs: a viewer
the programme, the live item, timing and the group counts (``groups``), without ``points``
(the public page fetches a group's points with ``GET /api/v1/points?group=``); a point its
own point whole and the counts; the MC and the organizer every point. Up to that many
points every role sees every point, as SPEC section 4 says.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.ceremony import Ceremony, CeremonyState, PointStatus
from ..domain.errors import NotFound
from ..domain.plan import Plan
from . import shapes
from .tokens import Actor

if TYPE_CHECKING:
    from .ceremony import Current


# Above this many points, viewers' and points' states leave out the other points.
FULL_POINTS_LIMIT = 200


def trims_points(plan: Plan) -> bool:
    """Say whether the plan has too many points for every screen to carry them all."""
    return len(plan.points) > FULL_POINTS_LIMIT


def _iso(value: datetime | None, plan: Plan) -> str | None:
    return moment_text(value, plan) if value is not None else None


def moment_text(value: datetime, plan: Plan) -> str:
    """Return a moment as a state carries it: ISO 8601 in the event's zone, to the
    millisecond, and without a fraction on a whole second (``08:00:00+07:00``).

    A browser's clock counts milliseconds; the microseconds the server keeps were seven
    bytes of noise per moment on every screen, some forty moments a state.
    """
    local = value.astimezone(plan.event.zone)
    return local.isoformat(timespec="milliseconds" if local.microsecond >= 1000 else "seconds")


def _seconds(value: float | None) -> float | int | None:
    """Return a duration as a state carries it: to the millisecond, whole ones as integers."""
    if value is None:
        return None
    shown = round(value, 3)
    return int(shown) if shown == int(shown) else shown


def public_snapshot(plan: Plan, state: CeremonyState, now: datetime) -> shapes.StateSnapshot:
    """Return the state every viewer may see (no tokens, no messages, no link health)."""
    ceremony = Ceremony(plan, state)
    timing = ceremony.timing(now)
    projected = ceremony.projected_starts(ceremony.reference_time(now))
    event = plan.event
    return {
        "version": state.version,
        "phase": state.phase,
        "event": {
            "slug": event.slug,
            "title": event.title,
            "theme": event.theme,
            "reference": event.reference,
            "organizer": event.organizer,
            "standing_body": event.standing_body,
            "form": event.form,
            "starts_at": _iso(event.starts_at, plan),
            "planned_end": _iso(plan.planned_end, plan),
            "timezone": event.timezone,
        },
        "agenda": [_agenda_item(plan, state, slot, projected) for slot in plan.schedule()],
        "current_item_id": state.current_item_id,
        "next_item_id": _next_item_id(plan, state),
        "started_at": _iso(state.started_at, plan),
        "finished_at": _iso(state.finished_at, plan),
        "timing": {
            "computed_at": _iso(now, plan),
            "item_elapsed_seconds": _seconds(timing.item_elapsed_seconds),
            "item_planned_seconds": _seconds(timing.item_planned_seconds),
            "item_over_seconds": _seconds(timing.item_over_seconds),
            "over_under_seconds": _seconds(timing.over_under_seconds),
            "start_delay_seconds": _seconds(timing.start_delay_seconds),
            "drift_seconds": _seconds(timing.drift_seconds),
            "projected_end": _iso(timing.projected_end, plan),
            "planned_end": _iso(timing.planned_end, plan),
            "item_remaining_seconds": _seconds(timing.item_remaining_seconds),
            "item_warn_seconds": _seconds(timing.item_warn_seconds),
            "reflow_seconds": _seconds(timing.reflow_seconds),
        },
        "hold": {"since": _iso(state.hold_since, plan)} if state.hold_since else None,
        "run": (
            {
                "kind": state.run.kind,
                "number": state.run.number,
                "started_at": _iso(state.run.started_at, plan),
            }
            if state.run
            else None
        ),
        "stage": {
            "message": state.stage.message,
            "blink": state.stage.blink,
            "blackout": state.stage.blackout,
            "screen": state.stage.screen,
        },
        "groups": group_counts(plan, state),
        **({} if trims_points(plan) else {"points": point_records(plan, state)}),
        "roll_call": _roll_call(plan, state, () if trims_points(plan) else None),
        "slogans": list(plan.slogans),
    }


def point_records(plan: Plan, state: CeremonyState) -> list[shapes.PointStatus]:
    """Return every point's public record, in the plan's order."""
    return [_point(plan, state.points[p.id], p) for p in plan.points]


def group_counts(plan: Plan, state: CeremonyState) -> list[shapes.GroupCount]:
    """Return each group's counts of points: in all, online, confirmed and in trouble."""
    found = []
    statuses = state.points
    for path, point_ids in plan.groups.items():
        online = confirmed = trouble = 0
        for point_id in point_ids:
            status = statuses[point_id]
            online += status.online
            confirmed += status.checkin is not None
            trouble += status.trouble is not None
        found.append(
            {
                "path": path,
                "points": len(point_ids),
                "online": online,
                "confirmed": confirmed,
                "trouble": trouble,
            }
        )
    return found


def snapshot_for(
    actor: Actor, plan: Plan, state: CeremonyState, now: datetime
) -> shapes.StateSnapshot:
    """Return the state as ``actor`` may see it."""
    return as_seen_by(actor, public_snapshot(plan, state, now), plan, state)


def as_seen_by(
    actor: Actor, public: shapes.StateSnapshot, plan: Plan, state: CeremonyState
) -> shapes.StateSnapshot:
    """Return ``public`` (this state's public snapshot) as ``actor`` may see it.

    The public snapshot itself for a viewer; for the MC and a point, a shallow copy with the
    points' link health and the actor's messages. A broadcast builds the public snapshot
    once and shares it between every role's variant, and the MC's and the points' variants
    are equal while no message is addressed to one point, so they go out as one.
    """
    if not actor.runs_ceremony and actor.role != "point":
        return public
    if actor.runs_ceremony:
        messages = [_message(plan, m) for m in state.messages]
    else:
        messages = [_message(plan, m) for m in state.messages if m.to in (None, actor.point_id)]
    if not trims_points(plan):
        points = [
            {**seen, "link": _link(plan, state.points[seen["id"]])} for seen in public["points"]
        ]
        return {**public, "points": points, "messages": messages}
    if actor.runs_ceremony:
        return {
            **public,
            "points": linked_records(plan, state),
            "messages": messages,
            "roll_call": _roll_call(plan, state, None),
        }
    return {
        **public,
        "points": [own_record(plan, state, actor.point_id)],
        "messages": messages,
        "roll_call": _roll_call(plan, state, (actor.point_id,)),
    }


def points_seen_by(
    actor: Actor, plan: Plan, state: CeremonyState, group: str | None
) -> list[shapes.PointStatus]:
    """Return the points of ``group`` (every point for None) as ``actor`` may see them.

    A group holds its sub-groups' points too. The MC and the organizer see each point's
    link health; everyone else the public record. Raise ``NotFound`` for an unknown group.
    """
    if group is None:
        chosen = plan.points
    else:
        ids = plan.groups.get(group)
        if ids is None:
            raise NotFound(f"group: no point is in the group {group[:80]!r}", field="group")
        chosen = [plan.point(point_id) for point_id in ids]
    statuses = state.points
    if actor.runs_ceremony:
        return [_linked_record(plan, statuses[p.id], p) for p in chosen]
    return [_point(plan, statuses[p.id], p) for p in chosen]


def own_parts(mc_body: dict[str, Any], point_index: int, point_id: str) -> dict[str, Any]:
    """Return what a point's state holds of its own above ``FULL_POINTS_LIMIT`` points.

    Its own record (with link health), the messages meant for it and its roll-call answer,
    taken from the MC's state of the same version (built once for every point). A point's
    state is the public one with these keys over it.
    """
    messages = [m for m in mc_body["messages"] if m["to"] in (None, point_id)]
    roll_call = mc_body["roll_call"]
    if roll_call is not None:
        answers = roll_call["answers"]
        mine = {point_id: answers[point_id]} if point_id in answers else {}
        roll_call = {**roll_call, "answers": mine}
    return {
        "points": [mc_body["points"][point_index]],
        "messages": messages,
        "roll_call": roll_call,
    }


def linked_records(plan: Plan, state: CeremonyState) -> list[shapes.PointStatus]:
    """Return every point's record with its link health (the MC's and the organizer's)."""
    statuses = state.points
    return [_linked_record(plan, statuses[p.id], p) for p in plan.points]


def own_record(plan: Plan, state: CeremonyState, point_id: str) -> shapes.PointStatus:
    """Return one point's record with its link health, as its own page sees it."""
    return _linked_record(plan, state.points[point_id], plan.point(point_id))


# point id: (plan, status, record) of the last record made with link health. A status is a
# value (replaced when it changes), so while a point's is the same object, so is its record:
# at 3,500 points a change builds the records of the points it changed, and comparing two
# editions finds the others unchanged by identity. Records are shared: never alter one.
_linked_records: dict[str, tuple[Plan, PointStatus, shapes.PointStatus]] = {}


def _linked_record(plan: Plan, status: PointStatus, point) -> shapes.PointStatus:  # noqa: ANN001
    kept = _linked_records.get(point.id)
    if kept is not None and kept[0] is plan and kept[1] is status:
        return kept[2]
    record = {**_point(plan, status, point), "link": _link(plan, status)}
    _linked_records[point.id] = (plan, status, record)
    return record


def server_time(plan: Plan, now: datetime) -> str:
    """Return ``now`` as the ``server_time`` a body carries: in the event's time zone."""
    return moment_text(now, plan)


def public_state_body(current: Current, now: datetime) -> dict[str, Any]:
    """Return the state body every viewer receives: the public snapshot and ``server_time``.

    A broadcast builds it once and derives every role's body from it with ``as_seen_by``.
    """
    body = public_snapshot(current.plan, current.state, now)
    body["server_time"] = server_time(current.plan, now)
    return body


def state_body(actor: Actor, current: Current, now: datetime) -> dict[str, Any]:
    """Return the state body ``actor`` receives, stamped with the server's time ``now``."""
    return as_seen_by(actor, public_state_body(current, now), current.plan, current.state)


def _next_item_id(plan: Plan, state: CeremonyState) -> str | None:
    if state.phase == "finished":
        return None
    if state.current_item_id is None:
        return plan.agenda[0].id
    position = plan.item_index(state.current_item_id)
    return plan.agenda[position + 1].id if position + 1 < len(plan.agenda) else None


def _agenda_item(plan: Plan, state: CeremonyState, slot, projected) -> shapes.AgendaEntry:  # noqa: ANN001
    item = slot.item
    spans = state.spans.get(item.id, [])
    last = spans[-1] if spans else None
    standby = state.standby.get(item.id)
    return {
        "id": item.id,
        "title": item.title,
        "speaker": item.speaker,
        "prepared_by": item.prepared_by,
        "point_id": item.point_id,
        "planned_start": _iso(slot.start, plan),
        "planned_end": _iso(slot.end, plan),
        "planned_minutes": item.planned_minutes,
        "minutes_estimated": item.minutes_estimated,
        "status": _status(plan, state, item.id, shown=bool(spans)),
        "started_at": _iso(last.started_at, plan) if last else None,
        "ended_at": _iso(last.ended_at, plan) if last else None,
        "projected_start": _iso(projected.get(item.id), plan),
        "extended_seconds": _seconds(state.extensions.get(item.id, 0.0)),
        "standby": (
            {"ready_at": _iso(standby.ready_at, plan), "by": standby.by} if standby else None
        ),
    }


def _status(plan: Plan, state: CeremonyState, item_id: str, shown: bool) -> str:
    """Return live, done, skipped (passed over, never shown) or pending."""
    if state.current_item_id == item_id:
        return "live"
    if state.phase == "not_started":
        return "pending"
    if state.phase == "finished":
        return "done" if shown else "skipped"
    behind = plan.item_index(item_id) < plan.item_index(state.current_item_id)
    if not behind:
        return "pending"  # coming, or coming again after the MC went back
    return "done" if shown else "skipped"


def _point(plan: Plan, status: PointStatus, point) -> shapes.PointStatus:  # noqa: ANN001
    checkin, trouble = status.checkin, status.trouble
    record: shapes.PointStatus = {
        "id": point.id,
        "name": point.name,
        "kind": point.kind,
        "online": status.online,
        "last_seen_at": _iso(status.last_seen_at, plan),
        "checked_in_at": _iso(checkin.at, plan) if checkin else None,
        "checked_in_by": checkin.by if checkin else None,
        "present": checkin.present if checkin else None,
        "note": checkin.note if checkin else None,
        "trouble": (
            {"kind": trouble.kind, "text": trouble.text, "since": _iso(trouble.since, plan)}
            if trouble
            else None
        ),
    }
    if point.group:
        record["group"] = point.group
    return record


def _link(plan: Plan, status: PointStatus) -> shapes.LinkHealth | None:
    """Return a point's link health: median round trip and clock offset, and their spread."""
    samples = status.link_samples
    if not samples:
        return None
    trips = [sample.rtt_ms for sample in samples]
    return {
        "rtt_ms": round(statistics.median(trips)),
        "jitter_ms": round(max(trips) - min(trips)),
        "clock_offset_ms": round(statistics.median(s.clock_offset_ms for s in samples)),
        "measured_at": _iso(samples[-1].at, plan),
        "samples": len(samples),
    }


def _roll_call(
    plan: Plan, state: CeremonyState, only: tuple[str, ...] | None
) -> shapes.RollCall | None:
    """Return the roll call with every point's answer, or (``only``) those points' answers."""
    roll_call = state.roll_call
    if roll_call is None:
        return None
    answers = roll_call.answers
    if only is not None:
        answers = {k: v for k, v in answers.items() if k in only}
    return {
        "id": roll_call.id,
        "started_at": _iso(roll_call.started_at, plan),
        "closes_at": _iso(roll_call.closes_at, plan),
        "answers": {k: _iso(v, plan) for k, v in answers.items()},
    }


def _message(plan: Plan, message) -> shapes.Message:  # noqa: ANN001
    return {
        "id": message.id,
        "text": message.text,
        "to": message.to,
        "sent_at": _iso(message.sent_at, plan),
        "read_by": {k: _iso(v, plan) for k, v in message.read_by.items()},
    }
