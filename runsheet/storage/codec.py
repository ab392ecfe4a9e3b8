"""Turn the live ceremony state into JSON-ready dicts and back, for the database.

At 3,500 points a state is mostly its points' statuses, and a change alters one or a few
of them. A ``PointMemo`` keeps what the codec made of each point last time (statuses are
values, replaced on change, never altered), so encoding reuses the dict of every status
that is the same object as before and decoding the status of every dict equal to the one
it decoded before: a check-in encodes and decodes one point, not 3,500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.ceremony import (
    Adjustment,
    CeremonyState,
    CheckIn,
    LinkSample,
    Message,
    Move,
    PointStatus,
    RollCall,
    Run,
    Span,
    StageChannel,
    Standby,
    Trouble,
)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


class PointMemo:
    """What the codec last made of each point's status, reused while it is the same.

    Safe to share between threads: a race only makes a point's work be done twice.
    """

    def __init__(self) -> None:
        self._decoded: dict[str, tuple[dict[str, Any], PointStatus]] = {}
        self._encoded: dict[str, tuple[PointStatus, dict[str, Any]]] = {}

    def encode(self, status: PointStatus) -> dict[str, Any]:
        """Return ``status`` as a JSON-ready dict (the same dict for the same status)."""
        kept = self._encoded.get(status.point_id)
        if kept is not None and kept[0] is status:
            return kept[1]
        data = _point_to_dict(status)
        self._encoded[status.point_id] = (status, data)
        self._decoded[status.point_id] = (data, status)  # read back, it is this status
        return data

    def decode(self, point_id: str, data: dict[str, Any]) -> PointStatus:
        """Return the status stored as ``data`` (the same status for an equal dict)."""
        kept = self._decoded.get(point_id)
        if kept is not None and kept[0] == data:
            return kept[1]
        status = _point_from_dict(point_id, data)
        self._decoded[point_id] = (data, status)
        return status


def state_to_dict(state: CeremonyState, memo: PointMemo | None = None) -> dict[str, Any]:
    """Return the state as a JSON-ready dict (with ``memo``, reusing unchanged points')."""
    encode = memo.encode if memo is not None else _point_to_dict
    return {
        "version": state.version,
        "phase": state.phase,
        "current_item_id": state.current_item_id,
        "run_version": state.run_version,
        "started_at": _time(state.started_at),
        "finished_at": _time(state.finished_at),
        "updated_at": _time(state.updated_at),
        "spans": {
            item_id: [[_time(s.started_at), _time(s.ended_at), s.held_seconds] for s in spans]
            for item_id, spans in state.spans.items()
        },
        "extensions": dict(state.extensions),
        "hold_since": _time(state.hold_since),
        "adjustments": [[a.kind, a.item_id, _time(a.at), a.seconds] for a in state.adjustments],
        "last_move": (
            [_time(state.last_move.at), state.last_move.role, state.last_move.console]
            if state.last_move
            else None
        ),
        "stage": {
            "message": state.stage.message,
            "blink": state.stage.blink,
            "blackout": state.stage.blackout,
            "screen": state.stage.screen,
        },
        "standby": {
            item_id: {"ready_at": _time(s.ready_at), "by": s.by}
            for item_id, s in state.standby.items()
        },
        "run": (
            [state.run.kind, state.run.number, _time(state.run.started_at)] if state.run else None
        ),
        "runs_started": state.runs_started,
        "last_message_id": state.last_message_id,
        "last_roll_call_id": state.last_roll_call_id,
        "points": {point_id: encode(p) for point_id, p in state.points.items()},
        "messages": [
            {
                "id": m.id,
                "text": m.text,
                "to": m.to,
                "sent_at": _time(m.sent_at),
                "read_by": {k: _time(v) for k, v in m.read_by.items()},
            }
            for m in state.messages
        ],
        "roll_call": _roll_call_to_dict(state.roll_call),
    }


def state_from_dict(data: dict[str, Any], memo: PointMemo | None = None) -> CeremonyState:
    """Return the state stored as ``data`` (with ``memo``, reusing unchanged points')."""
    decode = memo.decode if memo is not None else _point_from_dict
    roll_call = data.get("roll_call")
    return CeremonyState(
        version=data["version"],
        phase=data["phase"],
        current_item_id=data["current_item_id"],
        run_version=data["run_version"],
        started_at=_parse(data["started_at"]),
        finished_at=_parse(data["finished_at"]),
        updated_at=_parse(data["updated_at"]),
        spans={
            item_id: [Span(_parse(s[0]), _parse(s[1]), s[2] if len(s) > 2 else 0.0) for s in spans]
            for item_id, spans in data["spans"].items()
        },
        # Keys below were added later: a state stored before them reads with defaults.
        extensions=dict(data.get("extensions") or {}),
        hold_since=_parse(data.get("hold_since")),
        adjustments=[
            Adjustment(kind, item_id, _parse(at), seconds)
            for kind, item_id, at, seconds in data.get("adjustments") or []
        ],
        last_move=(
            Move(_parse(data["last_move"][0]), data["last_move"][1], data["last_move"][2])
            if data.get("last_move")
            else None
        ),
        stage=StageChannel(**data["stage"]) if data.get("stage") else StageChannel(),
        standby={
            item_id: Standby(_parse(s["ready_at"]), s["by"])
            for item_id, s in (data.get("standby") or {}).items()
        },
        run=_run_from(data.get("run")),
        runs_started=data.get("runs_started", 0),
        last_message_id=data.get("last_message_id", 0),
        last_roll_call_id=data.get("last_roll_call_id", 0),
        points={point_id: decode(point_id, p) for point_id, p in data["points"].items()},
        messages=[
            Message(
                id=m["id"],
                text=m["text"],
                to=m["to"],
                sent_at=_parse(m["sent_at"]),
                read_by={k: _parse(v) for k, v in m["read_by"].items()},
            )
            for m in data["messages"]
        ],
        roll_call=(
            RollCall(
                id=roll_call["id"],
                started_at=_parse(roll_call["started_at"]),
                closes_at=_parse(roll_call["closes_at"]),
                answers={k: _parse(v) for k, v in roll_call["answers"].items()},
            )
            if roll_call
            else None
        ),
    )


def _point_to_dict(status: PointStatus) -> dict[str, Any]:
    checkin, trouble = status.checkin, status.trouble
    return {
        "online": status.online,
        "last_seen_at": _time(status.last_seen_at),
        "changed_version": status.changed_version,
        "link_samples": [
            [sample.rtt_ms, sample.clock_offset_ms, _time(sample.at)]
            for sample in status.link_samples
        ],
        "checkin": (
            {
                "by": checkin.by,
                "present": checkin.present,
                "note": checkin.note,
                "at": _time(checkin.at),
            }
            if checkin
            else None
        ),
        "trouble": (
            {"kind": trouble.kind, "text": trouble.text, "since": _time(trouble.since)}
            if trouble
            else None
        ),
    }


def _point_from_dict(point_id: str, data: dict[str, Any]) -> PointStatus:
    checkin, trouble = data["checkin"], data["trouble"]
    return PointStatus(
        point_id=point_id,
        online=data["online"],
        last_seen_at=_parse(data["last_seen_at"]),
        changed_version=data["changed_version"],
        link_samples=tuple(
            LinkSample(rtt, offset, _parse(at)) for rtt, offset, at in data.get("link_samples", [])
        ),
        checkin=(
            CheckIn(checkin["by"], checkin["present"], checkin["note"], _parse(checkin["at"]))
            if checkin
            else None
        ),
        trouble=(
            Trouble(trouble["kind"], trouble["text"], _parse(trouble["since"])) if trouble else None
        ),
    )


def _roll_call_to_dict(roll_call: RollCall | None) -> dict[str, Any] | None:
    if roll_call is None:
        return None
    return {
        "id": roll_call.id,
        "started_at": _time(roll_call.started_at),
        "closes_at": _time(roll_call.closes_at),
        "answers": {k: _time(v) for k, v in roll_call.answers.items()},
    }


def _run_from(data: list | None) -> Run | None:
    if not data:
        return None
    kind, number, started_at = data
    return Run(kind, number, _parse(started_at))
