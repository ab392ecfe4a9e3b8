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

No skipped item: a move of the run-sheet (advance, back, goto, finish) within the move
guard (``move_guard``; the service's default is two seconds) of the previous one, from any
console, is refused
(``JustMoved``) unless it says ``confirm``, so two presses or two consoles a moment apart
never move two items.

The speaker's clock: the live item's planned time is its planned minutes plus what the MC
added (``extend``); time on hold does not count as elapsed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .errors import Conflict, Forbidden, InvalidInput, JustMoved, NotFound, StaleVersion
from .plan import Plan

PHASES = ("not_started", "live", "finished")
TROUBLE_KINDS = ("no_sound", "no_picture", "other")
STAGE_SCREENS = ("programme", "break", "clock")
RUN_KINDS = ("rehearsal", "live")
MAX_MESSAGES = 200
MAX_ADJUSTMENTS = 500  # extensions and holds kept for the report
LINK_SAMPLES = 5  # a point's link health is the median and spread of its last five measures


@dataclass
class Span:
    """One stretch of time during which an item was live."""

    started_at: datetime
    ended_at: datetime | None = None
    held_seconds: float = 0.0  # time on hold within it, not counted as elapsed


@dataclass
class Adjustment:
    """A change the MC made to the live item's clock: an extension, a hold or a resume."""

    kind: str  # "extend", "hold" or "resume"
    item_id: str
    at: datetime
    seconds: float = 0.0  # extend: seconds added (negative: taken off); resume: time held


@dataclass
class Move:
    """The latest move of the run-sheet: when, and who made it."""

    at: datetime
    role: str
    console: str | None = None


@dataclass
class StageChannel:
    """What the stage displays show, besides the programme: the MC's signals."""

    message: str | None = None
    blink: bool = False
    blackout: bool = False
    screen: str = "programme"  # one of STAGE_SCREENS


@dataclass
class Standby:
    """A point's answer to its standby cue: ready to deliver its coming item."""

    ready_at: datetime
    by: str


@dataclass(frozen=True)
class LinkSample:
    """One measure of a point page's round trip to the server."""

    rtt_ms: float
    clock_offset_ms: float
    at: datetime


@dataclass(frozen=True)
class CheckIn:
    """A point's confirmation that its link works."""

    by: str
    present: int
    note: str
    at: datetime


@dataclass(frozen=True)
class Trouble:
    """A problem a point reported and has not cleared yet."""

    kind: str  # one of TROUBLE_KINDS
    text: str
    since: datetime


@dataclass(frozen=True)
class PointStatus:
    """What is known of one connection point during the ceremony.

    A value: a change replaces a point's status in ``CeremonyState.points`` instead of
    altering it, so a committed state's statuses can be shared by the next state, the
    storage codec and the snapshots, which keep what they made of each one (at 3,500
    points a check-in then costs one point's work, not 3,500 points').
    """

    point_id: str
    checkin: CheckIn | None = None
    trouble: Trouble | None = None
    online: bool = False
    last_seen_at: datetime | None = None
    changed_version: int = 0  # version at which check-in or trouble last changed
    link_samples: tuple[LinkSample, ...] = ()  # the last LINK_SAMPLES


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
class Run:
    """One run of the ceremony, from its first item live until it is archived."""

    kind: str  # one of RUN_KINDS
    number: int  # 1, 2, 3… in the order runs started, whatever their kind
    started_at: datetime


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
    extensions: dict[str, float] = field(default_factory=dict)  # item id: seconds added
    hold_since: datetime | None = None  # the live item's timer is on hold since then
    adjustments: list[Adjustment] = field(default_factory=list)
    last_move: Move | None = None
    stage: StageChannel = field(default_factory=StageChannel)
    standby: dict[str, Standby] = field(default_factory=dict)  # item id: its point's answer
    run: Run | None = None  # the run under way (None before any, and after one is archived)
    runs_started: int = 0
    # The last ids given out, so that a message or roll call after a cleared run never
    # reuses an id a page has already seen.
    last_message_id: int = 0
    last_roll_call_id: int = 0


@dataclass(frozen=True)
class ArchivedRun:
    """A run that ended, with the whole state as it stood then (its record for the report)."""

    run: Run
    ended_at: datetime
    record: CeremonyState


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
    item_remaining_seconds: float | None = None  # < 0: over by this much
    item_warn_seconds: int | None = None  # the countdown warns below this
    # How much later than ``projected_starts`` (worked out as of the last change) the items
    # to come start as of now: the live item running over, or on hold, or a late start.
    reflow_seconds: float = 0.0


def new_state(plan: Plan) -> CeremonyState:
    """Return the state of a ceremony that has not started."""
    return CeremonyState(points={p.id: PointStatus(p.id) for p in plan.points})


@dataclass(frozen=True)
class Mover:
    """Who asks to move the run-sheet, and whether they confirmed a move right after another."""

    role: str = "mc"
    console: str | None = None
    confirm: bool = False


class Ceremony:
    """Apply the ceremony's rules to a plan and its live state."""

    def __init__(
        self, plan: Plan, state: CeremonyState, move_guard: timedelta = timedelta(0)
    ) -> None:
        self.plan = plan
        self.state = state
        self.move_guard = move_guard
        self._move: Move | None = None  # the move being made, once it passed the guard
        # A run this change ended, for the service to archive with the change itself.
        self.archived: ArchivedRun | None = None
        statuses = state.points
        for point in plan.points:
            if point.id not in statuses:
                statuses[point.id] = PointStatus(point.id)

    # -- run-sheet -------------------------------------------------------------------

    def _guard_move(self, now: datetime, mover: Mover | None) -> None:
        """Refuse a move right after another unless it is confirmed; else record it."""
        mover = mover or Mover()
        last = self.state.last_move
        if (
            last is not None
            and not mover.confirm
            and self.move_guard > timedelta(0)
            and timedelta(0) <= now - last.at < self.move_guard
        ):
            who = last.console or last.role
            raise JustMoved(
                f"the run-sheet was moved by {who} a moment ago; send confirm: true to move again",
                moved_by={"role": last.role, "console": last.console, "at": last.at},
            )
        # Recorded only once the move is made (see _changed): a refused one leaves no mark.
        self._move = Move(now, mover.role, mover.console)

    def advance(
        self, now: datetime, expected_version: int | None = None, mover: Mover | None = None
    ) -> None:
        """Make the next item live (the first one if the ceremony has not started)."""
        self._check_run_version(expected_version)
        self._guard_move(now, mover)
        if self.state.phase == "finished":
            raise Conflict("the ceremony has finished; go back or go to an item")
        position = self._current_index()
        if position is None:
            self._make_live(self.plan.agenda[0].id, now)
        elif position + 1 >= len(self.plan.agenda):
            raise Conflict("the last item is live; finish the ceremony instead")
        else:
            self._make_live(self.plan.agenda[position + 1].id, now)

    def back(
        self, now: datetime, expected_version: int | None = None, mover: Mover | None = None
    ) -> None:
        """Go back one step: to the previous item, or to "not started" from the first."""
        self._check_run_version(expected_version)
        self._guard_move(now, mover)
        if self.state.phase == "not_started":
            raise Conflict("the ceremony has not started; there is nothing to go back to")
        if self.state.phase == "finished":
            self._make_live(self.plan.agenda[-1].id, now)
            return
        position = self._current_index()
        if position == 0:
            self._end_current_span(now)
            self.state.hold_since = None
            self.state.phase = "not_started"
            self.state.current_item_id = None
            self.state.started_at = None
            self._changed(now, run=True)
        else:
            self._make_live(self.plan.agenda[position - 1].id, now)

    def goto(
        self,
        item_id: str,
        now: datetime,
        expected_version: int | None = None,
        mover: Mover | None = None,
    ) -> None:
        """Make the named item live, wherever the ceremony is."""
        if self.plan.item(item_id) is None:
            raise NotFound(f"no programme item with id {item_id!r}", field="item_id")
        self._check_run_version(expected_version)
        if self.state.phase == "live" and self.state.current_item_id == item_id:
            return  # already live: nothing changes, so the version stays
        self._guard_move(now, mover)
        self._make_live(item_id, now)

    def finish(
        self, now: datetime, expected_version: int | None = None, mover: Mover | None = None
    ) -> None:
        """End the live item and the ceremony."""
        self._check_run_version(expected_version)
        self._guard_move(now, mover)
        if self.state.phase != "live":
            phase = self.state.phase.replace("_", " ")
            raise Conflict(f"the ceremony is {phase}; only a live ceremony can finish")
        self._end_current_span(now)
        self.state.phase = "finished"
        self.state.current_item_id = None
        self.state.finished_at = now
        self._close_roll_call(now)
        self._changed(now, run=True)

    def reset(self, now: datetime, expected_version: int | None = None) -> None:
        """Return to "not started", the run that ends archived first, never destroyed.

        A rehearsal's reset is its end (``end_rehearsal``): the real run starts clean. A
        real run's reset forgets its times but keeps the points' check-ins.
        """
        self._check_run_version(expected_version)
        run = self.state.run
        if run is not None and run.kind == "rehearsal":
            self._end_rehearsal(now)
            return
        self._archive(now)
        self._clear_run_sheet(now)
        self._changed(now, run=True)

    def rehearse(
        self, now: datetime, expected_version: int | None = None, mover: Mover | None = None
    ) -> None:
        """Start a rehearsal: the first item goes live, as a rehearsal, from "not started"."""
        self._check_run_version(expected_version)
        if self.state.phase != "not_started" or self.state.run is not None:
            raise Conflict('a rehearsal starts from "not started", before any run')
        self._guard_move(now, mover)
        self._start_run("rehearsal", now)
        self._make_live(self.plan.agenda[0].id, now)

    def end_rehearsal(self, now: datetime, expected_version: int | None = None) -> None:
        """Archive the rehearsal's whole record and return to "not started", cleared."""
        self._check_run_version(expected_version)
        run = self.state.run
        if run is None or run.kind != "rehearsal":
            raise Conflict("no rehearsal is under way")
        self._end_rehearsal(now)

    def _end_rehearsal(self, now: datetime) -> None:
        self._archive(now)
        self._clear_run_sheet(now)
        # What the points did in the rehearsal stays in its record, not on the real board.
        state = self.state
        for point_id, status in state.points.items():
            state.points[point_id] = replace(
                status,
                checkin=None,
                trouble=None,
                link_samples=(),
                changed_version=state.version + 1,
            )
        state.messages = []
        state.roll_call = None
        state.stage = StageChannel()
        self._changed(now, run=True)

    def _start_run(self, kind: str, now: datetime) -> None:
        self.state.runs_started += 1
        self.state.run = Run(kind, self.state.runs_started, now)

    def _archive(self, now: datetime) -> None:
        """Keep the run that ends now, whole, for the service to store with this change."""
        run = self.state.run
        if run is None:
            return
        self._end_current_span(now)
        record = copy.deepcopy(self.state)
        if record.phase == "live":
            record.phase, record.current_item_id, record.finished_at = "finished", None, now
        self._close_roll_call(now, record)
        self.archived = ArchivedRun(run, now, record)
        self.state.run = None

    def _clear_run_sheet(self, now: datetime) -> None:
        state = self.state
        state.phase = "not_started"
        state.current_item_id = None
        state.spans = {}
        state.started_at = None
        state.finished_at = None
        state.extensions = {}
        state.hold_since = None
        state.adjustments = []
        state.standby = {}
        self._close_roll_call(now)

    def adopt_plan(self, now: datetime) -> None:
        """Fit the state to a changed plan (this ceremony's plan was just reloaded).

        Records of points and items that left the plan are dropped (their spans, what the
        MC added to them, their standby answers); those that stayed keep theirs, so the live
        item keeps its start and timing. If the live item left it (only ``runsheet load``
        lets it: the editor refuses, see ``domain.plan_edits``), the ceremony is no longer
        live and the MC picks up with "go to".
        """
        for point_id in list(self.state.points):
            if self.plan.point(point_id) is None:
                del self.state.points[point_id]
        for records in (self.state.spans, self.state.extensions, self.state.standby):
            for item_id in list(records):
                if self.plan.item(item_id) is None:
                    del records[item_id]
        current = self.state.current_item_id
        if current is not None and self.plan.item(current) is None:
            self.state.current_item_id = None
            self.state.phase = "finished" if self.state.spans else "not_started"
            if self.state.phase == "finished":
                self.state.finished_at = now
            else:
                self.state.started_at = None
        self._changed(now, run=True)

    # -- the live item's clock and the stage ----------------------------------------------

    def extend(self, seconds: float, now: datetime) -> None:
        """Add time to the live item (or take some off), never below what has elapsed."""
        item = self._live_item("extend")
        if seconds == 0:
            raise InvalidInput("seconds: must not be 0", field="seconds")
        base = item.planned_minutes * 60.0
        planned = base + self.state.extensions.get(item.id, 0.0)
        new_planned = max(planned + seconds, self._elapsed(now))
        self.state.extensions[item.id] = new_planned - base
        self._adjusted(Adjustment("extend", item.id, now, round(new_planned - planned, 3)))
        self._changed(now)

    def hold(self, now: datetime) -> None:
        """Stop the live item's timer; the time on hold does not count as elapsed."""
        item = self._live_item("hold")
        if self.state.hold_since is not None:
            raise Conflict("the timer is already on hold")
        self.state.hold_since = now
        self._adjusted(Adjustment("hold", item.id, now))
        self._changed(now)

    def resume(self, now: datetime) -> None:
        """Restart the live item's timer after a hold."""
        item = self._live_item("resume")
        if self.state.hold_since is None:
            raise Conflict("the timer is not on hold")
        held = self._end_hold(now)
        self._adjusted(Adjustment("resume", item.id, now, round(held, 3)))
        self._changed(now)

    def set_stage(
        self,
        now: datetime,
        *,
        message: str | None | object = ...,
        blink: bool | None = None,
        blackout: bool | None = None,
        screen: str | None = None,
    ) -> None:
        """Change what the stage displays show; what is not named stays as it is."""
        stage = self.state.stage
        if screen is not None and screen not in STAGE_SCREENS:
            raise InvalidInput(f"screen: must be one of {', '.join(STAGE_SCREENS)}", field="screen")
        if message is not ...:
            stage.message = message.strip() or None if isinstance(message, str) else None
        if blink is not None:
            stage.blink = blink
        if blackout is not None:
            stage.blackout = blackout
        if screen is not None:
            stage.screen = screen
        self._changed(now)

    def mark_ready(self, point_id: str, by: str, now: datetime, item_id: str | None = None) -> None:
        """Record that a point is ready to deliver its coming item (its standby cue)."""
        self._point(point_id)
        coming = self.coming_item_id()
        target = item_id or coming
        item = self.plan.item(target) if target else None
        if item is None or item.point_id != point_id:
            raise Forbidden("ready: the coming item is not delivered from this point")
        if target != coming and self.state.current_item_id != target:
            raise Conflict(f"ready: item {target!r} is not coming next")
        if target in self.state.standby:
            return
        self.state.standby[target] = Standby(ready_at=now, by=by.strip())
        self._changed(now)

    def coming_item_id(self) -> str | None:
        """Return the item that goes live on the next advance, or None."""
        if self.state.phase == "finished":
            return None
        position = self._current_index()
        following = 0 if position is None else position + 1
        return self.plan.agenda[following].id if following < len(self.plan.agenda) else None

    def report_link(
        self, point_id: str, rtt_ms: float, clock_offset_ms: float, now: datetime
    ) -> None:
        """Record one measure of a point page's round trip and clock offset."""
        status = self._point(point_id)
        if not 0 <= rtt_ms <= 120_000:
            raise InvalidInput("rtt_ms: must be between 0 and 120000", field="rtt_ms")
        samples = (*status.link_samples, LinkSample(rtt_ms, clock_offset_ms, now))
        self._set_point(replace(status, link_samples=samples[-LINK_SAMPLES:]))
        self._changed(now)

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
        checkin = CheckIn(by=by.strip(), present=present, note=note.strip(), at=now)
        self._changed(now, point=replace(status, checkin=checkin, last_seen_at=now))

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
        trouble = Trouble(kind=kind, text=text.strip(), since=since)
        self._changed(now, point=replace(status, trouble=trouble))

    def clear_trouble(
        self, point_id: str, now: datetime, expected_version: int | None = None
    ) -> None:
        """Mark a point's problem as solved."""
        status = self._point(point_id)
        self._check_version(expected_version, status.changed_version)
        if status.trouble is None:
            raise Conflict(f"point {point_id!r} has no problem to clear")
        self._changed(now, point=replace(status, trouble=None))

    def set_presence(self, online_points: set[str], now: datetime) -> list[str]:
        """Set which points have a page connected; return the ids whose state changed."""
        changed = []
        for point_id, status in self.state.points.items():
            online = point_id in online_points
            if status.online != online:
                # Only when it flips: a call that changes nothing must leave the state (and
                # so the version) as it was. Going offline, "now" is when it was last counted.
                self._set_point(replace(status, online=online, last_seen_at=now))
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
        last = self.state.messages[-1].id if self.state.messages else 0
        next_id = max(last, self.state.last_message_id) + 1
        self.state.last_message_id = next_id
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
        previous = max(previous, self.state.last_roll_call_id)
        self.state.last_roll_call_id = previous + 1
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
        reference = self.reference_time(now)
        if state.phase == "not_started":
            projected_end = max(now, plan.event.starts_at) + planned_length
            over = (projected_end - planned_end).total_seconds()
            reflow = max(now, plan.event.starts_at) - max(reference, plan.event.starts_at)
            return Timing(
                None,
                None,
                None,
                over,
                projected_end,
                planned_end,
                reflow_seconds=reflow.total_seconds(),
            )
        started_at = state.started_at or now
        start_delay = (started_at - plan.event.starts_at).total_seconds()
        if state.phase == "finished":
            end = state.finished_at or now
            over = (end - planned_end).total_seconds()
            drift = (end - started_at - planned_length).total_seconds()
            return Timing(None, None, None, over, end, planned_end, start_delay, drift)
        position = self._current_index()
        item = plan.agenda[position]
        elapsed = self._elapsed(now)
        planned = self.planned_seconds(item.id)
        remaining_here = max(0.0, planned - elapsed)
        remaining_after = sum(i.planned_minutes for i in plan.agenda[position + 1 :]) * 60.0
        projected_end = now + timedelta(seconds=remaining_here + remaining_after)
        over = (projected_end - planned_end).total_seconds()
        drift = (projected_end - started_at - planned_length).total_seconds()
        then = reference + timedelta(seconds=max(0.0, planned - self._elapsed(reference)))
        reflow = (now + timedelta(seconds=remaining_here)) - then
        return Timing(
            elapsed,
            planned,
            elapsed - planned,
            over,
            projected_end,
            planned_end,
            start_delay,
            drift,
            item_remaining_seconds=planned - elapsed,
            item_warn_seconds=plan.warn_seconds(item),
            reflow_seconds=reflow.total_seconds(),
        )

    def reference_time(self, now: datetime) -> datetime:
        """Return the time the state's projections are worked out at: its last change.

        So that a state of one version always reads the same (whatever moment it is sent),
        ``projected_starts`` counts from then; ``Timing.reflow_seconds`` is how much later
        the items to come start as of ``now``.
        """
        updated = self.state.updated_at
        return updated if updated is not None and updated <= now else now

    def planned_seconds(self, item_id: str) -> float:
        """Return an item's planned seconds, with what the MC added to it."""
        item = self.plan.item(item_id)
        return item.planned_minutes * 60.0 + self.state.extensions.get(item_id, 0.0)

    def projected_starts(self, now: datetime) -> dict[str, datetime | None]:
        """Return when each item started (live, done) or should start (pending), as of ``now``.

        Pending items after the live one re-flow from its time left, with what the MC
        added; items passed over have none. The state's snapshot asks this as of its last
        change (``reference_time``), so that it reads the same whenever it is sent.
        """
        state = self.state
        starts: dict[str, datetime | None] = {}
        if state.phase == "not_started":
            moment = max(now, self.plan.event.starts_at)
            for item in self.plan.agenda:
                starts[item.id] = moment
                moment += timedelta(minutes=item.planned_minutes)
            return starts
        position = self._current_index()
        moment = None
        if position is not None:
            remaining = max(0.0, self.planned_seconds(state.current_item_id) - self._elapsed(now))
            moment = now + timedelta(seconds=remaining)
        for index, item in enumerate(self.plan.agenda):
            spans = state.spans.get(item.id)
            behind = state.phase == "finished" or (position is not None and index <= position)
            if behind:
                starts[item.id] = spans[-1].started_at if spans else None
            else:
                starts[item.id] = moment
                moment += timedelta(minutes=item.planned_minutes)
        return starts

    # -- internals -----------------------------------------------------------------------

    def _set_point(self, status: PointStatus) -> None:
        self.state.points[status.point_id] = status

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
            self._end_hold(now)
            self._current_span().ended_at = now

    def _live_item(self, action: str):  # noqa: ANN202
        if self.state.phase != "live":
            raise Conflict(f"{action}: no item is live")
        return self.plan.item(self.state.current_item_id)

    def _elapsed(self, now: datetime) -> float:
        """Return the live item's elapsed seconds in its current span, holds left out."""
        span = self._current_span()
        held = span.held_seconds
        if self.state.hold_since is not None:
            held += max(0.0, (now - self.state.hold_since).total_seconds())
        return max(0.0, (now - span.started_at).total_seconds() - held)

    def _end_hold(self, now: datetime) -> float:
        """End a hold of the live item's timer; return how long it lasted."""
        since = self.state.hold_since
        if since is None:
            return 0.0
        held = max(0.0, (now - since).total_seconds())
        self._current_span().held_seconds += held
        self.state.hold_since = None
        return held

    def _adjusted(self, adjustment: Adjustment) -> None:
        self.state.adjustments.append(adjustment)
        del self.state.adjustments[:-MAX_ADJUSTMENTS]

    def _close_roll_call(self, now: datetime, state: CeremonyState | None = None) -> None:
        roll_call = (state or self.state).roll_call
        if roll_call is not None and roll_call.closes_at > now:
            roll_call.closes_at = now

    def _make_live(self, item_id: str, now: datetime) -> None:
        if self.state.run is None:
            self._start_run("live", now)  # an advance (or goto) from "not started"
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
            if self._move is not None:
                self.state.last_move, self._move = self._move, None
        if point is not None:  # its check-in or trouble changed at this version
            self._set_point(replace(point, changed_version=self.state.version))
