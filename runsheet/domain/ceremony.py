"""The live ceremony: the run-sheet state machine, check-ins, trouble, presence, messages.

``CeremonyState`` is the whole live state of one event; ``Ceremony`` applies the rules to
it. Every method takes ``now`` (a timezone-aware datetime) instead of reading a clock, and
every change raises ``version`` by exactly one. Nothing here knows about HTTP, sockets or
storage.

Staleness: an action may carry ``expected_version``, the version of the state its sender
was looking at. It is refused (``StaleVersion``) when the part of the state it acts on has
changed since that version: the run-sheet position for advance/back/goto/finish, the
point's own record for check-in and trouble. So a double click on Next, or two consoles
pressing at once, never skips an item, while a ward connecting in the same second does not
make the MC's click fail. An ``expected_version`` above the current version is refused too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .errors import Conflict, InvalidInput, NotFound, StaleVersion
from .plan import Plan

PHASES = ("not_started", "live", "finished")
TROUBLE_KINDS = ("no_sound", "no_picture", "other")
MAX_MESSAGES = 200


@dataclass
class Span:
    """One stretch of time during which an item was live."""

    started_at: datetime
    ended_at: datetime | None = None


@dataclass
class CheckIn:
    """A point's confirmation that its link works."""

    by: str
    present: int
    note: str
    at: datetime


@dataclass
class Trouble:
    """A problem a point reported and has not cleared yet."""

    kind: str  # one of TROUBLE_KINDS
    text: str
    since: datetime


@dataclass
class PointStatus:
    """What is known of one connection point during the ceremony."""

    point_id: str
    checkin: CheckIn | None = None
    trouble: Trouble | None = None
    online: bool = False
    last_seen_at: datetime | None = None
    changed_version: int = 0  # version at which check-in or trouble last changed


@dataclass
class Message:
    """A message from the MC to every point (``to`` is None) or to one point."""

    id: int
    text: str
    to: str | None
    sent_at: datetime
    read_by: dict[str, datetime] = field(default_factory=dict)


@dataclass
class RollCall:
    """The MC's request that every point answer before ``closes_at``."""

    id: int
    started_at: datetime
    closes_at: datetime
    answers: dict[str, datetime] = field(default_factory=dict)


@dataclass
class CeremonyState:
    """Everything that changes while the ceremony runs."""

    version: int = 0
    phase: str = "not_started"
    current_item_id: str | None = None
    spans: dict[str, list[Span]] = field(default_factory=dict)
    points: dict[str, PointStatus] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    roll_call: RollCall | None = None
    run_version: int = 0  # version at which the run-sheet position last changed
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Timing:
    """How the ceremony runs against its plan at a given moment."""

    item_elapsed_seconds: float | None  # the live item, current span
    item_planned_seconds: float | None
    item_over_seconds: float | None  # > 0: the live item runs over its plan
    over_under_seconds: float  # > 0: the ceremony will end late by this much
    projected_end: datetime
    planned_end: datetime
    # Since the actual start: how far the programme runs over (> 0) or under its own planned
    # durations, whenever it started. On the day, over/under = start delay + drift; for a
    # rehearsal on another day only the drift means anything.
    start_delay_seconds: float | None = None
    drift_seconds: float | None = None


def new_state(plan: Plan) -> CeremonyState:
    """Return the state of a ceremony that has not started."""
    return CeremonyState(points={p.id: PointStatus(p.id) for p in plan.points})


class Ceremony:
    """Apply the ceremony's rules to a plan and its live state."""

    def __init__(self, plan: Plan, state: CeremonyState) -> None:
        self.plan = plan
        self.state = state
        for point in plan.points:
            state.points.setdefault(point.id, PointStatus(point.id))

    # -- run-sheet -------------------------------------------------------------------

    def advance(self, now: datetime, expected_version: int | None = None) -> None:
        """Make the next item live (the first one if the ceremony has not started)."""
        self._check_run_version(expected_version)
        if self.state.phase == "finished":
            raise Conflict("the ceremony has finished; go back or go to an item")
        position = self._current_index()
        if position is None:
            self._make_live(self.plan.agenda[0].id, now)
        elif position + 1 >= len(self.plan.agenda):
            raise Conflict("the last item is live; finish the ceremony instead")
        else:
            self._make_live(self.plan.agenda[position + 1].id, now)

    def back(self, now: datetime, expected_version: int | None = None) -> None:
        """Go back one step: to the previous item, or to "not started" from the first."""
        self._check_run_version(expected_version)
        if self.state.phase == "not_started":
            raise Conflict("the ceremony has not started; there is nothing to go back to")
        if self.state.phase == "finished":
            self._make_live(self.plan.agenda[-1].id, now)
            return
        position = self._current_index()
        if position == 0:
            self._end_current_span(now)
            self.state.phase = "not_started"
            self.state.current_item_id = None
            self.state.started_at = None
            self._changed(now, run=True)
        else:
            self._make_live(self.plan.agenda[position - 1].id, now)

    def goto(self, item_id: str, now: datetime, expected_version: int | None = None) -> None:
        """Make the named item live, wherever the ceremony is."""
        if self.plan.item(item_id) is None:
            raise NotFound(f"no programme item with id {item_id!r}", field="item_id")
        self._check_run_version(expected_version)
        if self.state.phase == "live" and self.state.current_item_id == item_id:
            return  # already live: nothing changes, so the version stays
        self._make_live(item_id, now)

    def finish(self, now: datetime, expected_version: int | None = None) -> None:
        """End the live item and the ceremony."""
        self._check_run_version(expected_version)
        if self.state.phase != "live":
            phase = self.state.phase.replace("_", " ")
            raise Conflict(f"the ceremony is {phase}; only a live ceremony can finish")
        self._end_current_span(now)
        self.state.phase = "finished"
        self.state.current_item_id = None
        self.state.finished_at = now
        self._changed(now, run=True)

    def reset(self, now: datetime, expected_version: int | None = None) -> None:
        """Return to "not started", forgetting actual times (e.g. after a rehearsal)."""
        self._check_run_version(expected_version)
        self.state.phase = "not_started"
        self.state.current_item_id = None
        self.state.spans = {}
        self.state.started_at = None
        self.state.finished_at = None
        self._changed(now, run=True)

    def adopt_plan(self, now: datetime) -> None:
        """Fit the state to a changed plan (this ceremony's plan was just reloaded).

        Records of points and items that left the plan are dropped; if the live item left
        it, the ceremony is no longer live and the MC picks up with "go to".
        """
        for point_id in list(self.state.points):
            if self.plan.point(point_id) is None:
                del self.state.points[point_id]
        for item_id in list(self.state.spans):
            if self.plan.item(item_id) is None:
                del self.state.spans[item_id]
        current = self.state.current_item_id
        if current is not None and self.plan.item(current) is None:
            self.state.current_item_id = None
            self.state.phase = "finished" if self.state.spans else "not_started"
            if self.state.phase == "finished":
                self.state.finished_at = now
            else:
                self.state.started_at = None
        self._changed(now, run=True)

    # -- connection points -------------------------------------------------------------

    def check_in(
        self,
        point_id: str,
        by: str,
        present: int,
        note: str,
        now: datetime,
        expected_version: int | None = None,
    ) -> None:
        """Record that a point confirmed its link (again, if it already had)."""
        status = self._point(point_id)
        self._check_version(expected_version, status.changed_version)
        if not by.strip():
            raise InvalidInput("by: must name the person on duty", field="by")
        if present < 0:
            raise InvalidInput(
                "present: must be a whole number of people, 0 or more", field="present"
            )
        status.checkin = CheckIn(by=by.strip(), present=present, note=note.strip(), at=now)
        status.last_seen_at = now
        self._changed(now, point=status)

    def report_trouble(
        self,
        point_id: str,
        kind: str,
        text: str,
        now: datetime,
        expected_version: int | None = None,
    ) -> None:
        """Record a problem at a point; a new report replaces the previous one."""
        status = self._point(point_id)
        self._check_version(expected_version, status.changed_version)
        if kind not in TROUBLE_KINDS:
            raise InvalidInput(f"kind: must be one of {', '.join(TROUBLE_KINDS)}", field="kind")
        if kind == "other" and not text.strip():
            raise InvalidInput("text: must describe the problem when kind is other", field="text")
        since = status.trouble.since if status.trouble and status.trouble.kind == kind else now
        status.trouble = Trouble(kind=kind, text=text.strip(), since=since)
        self._changed(now, point=status)

    def clear_trouble(
        self, point_id: str, now: datetime, expected_version: int | None = None
    ) -> None:
        """Mark a point's problem as solved."""
        status = self._point(point_id)
        self._check_version(expected_version, status.changed_version)
        if status.trouble is None:
            raise Conflict(f"point {point_id!r} has no problem to clear")
        status.trouble = None
        self._changed(now, point=status)

    def set_presence(self, online_points: set[str], now: datetime) -> list[str]:
        """Set which points have a page connected; return the ids whose state changed."""
        changed = []
        for point_id, status in self.state.points.items():
            online = point_id in online_points
            if status.online != online:
                # Only when it flips: a call that changes nothing must leave the state (and
                # so the version) as it was. Going offline, "now" is when it was last counted.
                status.online = online
                status.last_seen_at = now
                changed.append(point_id)
        if changed:
            self._changed(now)
        return changed

    # -- messages and roll call ----------------------------------------------------------

    def send_message(self, text: str, to: str | None, now: datetime) -> Message:
        """Send a message to every point, or to one."""
        if to is not None:
            self._point(to)
        if not text.strip():
            raise InvalidInput("text: must not be empty", field="text")
        next_id = self.state.messages[-1].id + 1 if self.state.messages else 1
        message = Message(id=next_id, text=text.strip(), to=to, sent_at=now)
        self.state.messages.append(message)
        del self.state.messages[:-MAX_MESSAGES]
        self._changed(now)
        return message

    def acknowledge_message(self, point_id: str, message_id: int, now: datetime) -> None:
        """Record that a point has read a message meant for it."""
        self._point(point_id)
        message = next((m for m in self.state.messages if m.id == message_id), None)
        if message is None or message.to not in (None, point_id):
            raise NotFound(f"no message {message_id} for point {point_id!r}", field="message_id")
        if point_id in message.read_by:
            return
        message.read_by[point_id] = now
        self._changed(now)

    def start_roll_call(self, seconds: int, now: datetime) -> RollCall:
        """Ask every point to answer within ``seconds``."""
        if not 5 <= seconds <= 600:
            raise InvalidInput("seconds: must be between 5 and 600", field="seconds")
        previous = self.state.roll_call.id if self.state.roll_call else 0
        roll_call = RollCall(previous + 1, now, now + timedelta(seconds=seconds))
        self.state.roll_call = roll_call
        self._changed(now)
        return roll_call

    def answer_roll_call(
        self, point_id: str, now: datetime, roll_call_id: int | None = None
    ) -> None:
        """Record a point's answer to the open roll call (the one named, if named)."""
        self._point(point_id)
        roll_call = self.state.roll_call
        if roll_call is None or now > roll_call.closes_at:
            raise Conflict("there is no open roll call")
        if roll_call_id is not None and roll_call_id != roll_call.id:
            raise Conflict(f"roll call {roll_call_id} is over; roll call {roll_call.id} is open")
        if point_id in roll_call.answers:
            return
        roll_call.answers[point_id] = now
        self._changed(now)

    # -- timing ------------------------------------------------------------------------

    def timing(self, now: datetime) -> Timing:
        """Return elapsed vs planned for the live item and over/under for the ceremony."""
        plan, state = self.plan, self.state
        planned_end = plan.planned_end
        planned_length = timedelta(minutes=plan.planned_minutes)
        if state.phase == "not_started":
            projected_end = max(now, plan.event.starts_at) + planned_length
            over = (projected_end - planned_end).total_seconds()
            return Timing(None, None, None, over, projected_end, planned_end)
        started_at = state.started_at or now
        start_delay = (started_at - plan.event.starts_at).total_seconds()
        if state.phase == "finished":
            end = state.finished_at or now
            over = (end - planned_end).total_seconds()
            drift = (end - started_at - planned_length).total_seconds()
            return Timing(None, None, None, over, end, planned_end, start_delay, drift)
        position = self._current_index()
        item = plan.agenda[position]
        elapsed = (now - self._current_span().started_at).total_seconds()
        planned = item.planned_minutes * 60.0
        remaining_here = max(0.0, planned - elapsed)
        remaining_after = sum(i.planned_minutes for i in plan.agenda[position + 1 :]) * 60.0
        projected_end = now + timedelta(seconds=remaining_here + remaining_after)
        over = (projected_end - planned_end).total_seconds()
        drift = (projected_end - started_at - planned_length).total_seconds()
        return Timing(
            elapsed,
            planned,
            elapsed - planned,
            over,
            projected_end,
            planned_end,
            start_delay,
            drift,
        )

    # -- internals -----------------------------------------------------------------------

    def _point(self, point_id: str) -> PointStatus:
        if self.plan.point(point_id) is None:
            raise NotFound(f"no connection point with id {point_id!r}", field="point_id")
        return self.state.points[point_id]

    def _check_run_version(self, expected_version: int | None) -> None:
        self._check_version(expected_version, self.state.run_version)

    def _check_version(self, expected_version: int | None, scope_version: int) -> None:
        if expected_version is None:
            return
        if expected_version > self.state.version or expected_version < scope_version:
            raise StaleVersion(
                f"the state changed since version {expected_version}; "
                f"it is now at version {self.state.version}"
            )

    def _current_index(self) -> int | None:
        if self.state.current_item_id is None:
            return None
        return self.plan.item_index(self.state.current_item_id)

    def _current_span(self) -> Span:
        return self.state.spans[self.state.current_item_id][-1]

    def _end_current_span(self, now: datetime) -> None:
        if self.state.current_item_id is not None:
            self._current_span().ended_at = now

    def _make_live(self, item_id: str, now: datetime) -> None:
        self._end_current_span(now)
        self.state.spans.setdefault(item_id, []).append(Span(started_at=now))
        self.state.current_item_id = item_id
        if self.state.phase != "live":
            self.state.started_at = self.state.started_at or now
        self.state.phase = "live"
        self.state.finished_at = None
        self._changed(now, run=True)

    def _changed(
        self, now: datetime, *, run: bool = False, point: PointStatus | None = None
    ) -> None:
        self.state.version += 1
        self.state.updated_at = now
        if run:
            self.state.run_version = self.state.version
        if point is not None:
            point.changed_version = self.state.version
