"""The service layer: load the active event, apply an action, store it, then publish it.

``CeremonyService.perform`` is the one path every action takes, whatever transport it came
from: check the payload and the actor's role, load the latest committed state, apply the
rule, compare-and-set it into the database, and only then tell subscribers (the Socket.IO
module) about the new state. If another thread or process committed first, it reloads and
tries again, so the rule (and its ``expected_version`` check) always sees the latest state.

The audit log's entry for a change is written in the transaction that stores it; a refused
action is logged on its own, through the ``RefusalGate`` (see ``services.audit``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..domain.ceremony import Ceremony, CeremonyState
from ..domain.errors import Conflict, NotFound, RunsheetError
from ..domain.plan import Plan
from ..storage.codec import state_from_dict
from ..storage.store import AuditEntry, Store, TokenHolder
from .actions import ACTIONS
from .audit import (
    UNLOGGED_WHEN_DONE,
    AuditNote,
    RefusalGate,
    run_number_of,
    summarize,
)
from .clock import reading_after
from .payloads import parse_payload
from .snapshot import trims_points
from .tokens import (
    PUBLIC,
    SYSTEM,
    TOKEN_MAX_LENGTH,
    Actor,
    actor_holding,
    actor_of,
    hash_token,
    token_digest,
)

MAX_ATTEMPTS = 50
HOLDERS_KEPT = 10_000  # tokens whose holder this process remembers (points, MC, organizer)
ACTION_NAME_LOGGED = 40  # characters of an unknown action's name kept in the log

logger = logging.getLogger(__name__)

# What the audit log's entry of a change says, or a function that tells it once the rule
# has run (None: log nothing), for ``CeremonyService.change``.
Note = AuditNote | Callable[[], AuditNote | None] | None


@dataclass
class _Waiting:
    """A change waiting for this process's writer, and, once written, its outcome."""

    rule: Callable[[Ceremony, datetime], object]
    note: Note
    seen: Current | None = None  # the state its caller read just before, if it did
    claim: Claim | None = None  # the caller, known without a query (see ``Claim``)
    done: bool = False
    current: Current | None = None
    error: BaseException | None = None


def utc_now() -> datetime:
    """Return the current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Current:
    """The active event's plan and live state at one version."""

    event_id: int
    plan: Plan
    state: CeremonyState
    # The stored state this one was made from (the version before), when a change made it:
    # a broadcast builds the patches from it when it has not that version's states at hand.
    previous: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def previous_state(self) -> CeremonyState | None:
        """Return the state this one was made from, if it is known and one version older."""
        if self.previous is None:
            return None
        state = state_from_dict(self.previous)
        return state if state.version == self.version - 1 else None

    @property
    def version(self) -> int:
        """Return the state's version."""
        return self.state.version


@dataclass(frozen=True)
class Claim:
    """A caller known without a query: its token's holder as this process last read it.

    A change made on a claim starts from the state this process holds and is stored only
    if the compare-and-set finds the token still held as it was, the event still the
    active one and its version still this one (``Store.save_state``'s ``held_by``). Any
    other outcome — a refusal, nothing to change, a compare-and-set that failed — raises
    ``Unconfirmed``, and the caller is looked up and the action done again, the checked
    way: a claim never decides what a caller hears, only how soon a change is stored.
    """

    token_hash: str
    holder: TokenHolder
    actor: Actor
    seen: Current


class Unconfirmed(Exception):  # noqa: N818 - not an error: a claim's change to do again
    """A change made on a claim did not go through as it was; do it again, checked."""


Subscriber = Callable[[Current], None]


class CeremonyService:
    """Run the active event's ceremony: read it, change it, tell subscribers."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime] = utc_now,
        presence_grace: timedelta = timedelta(seconds=10),
        move_guard: timedelta = timedelta(0),
        refusal_gate: RefusalGate | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.presence_grace = presence_grace
        self.move_guard = move_guard  # a move this soon after another needs confirming
        self.refusal_gate = refusal_gate or RefusalGate()
        self._subscribers: list[Subscriber] = []
        self._latest: Current | None = None
        self._holders: dict[str, TokenHolder] = {}  # token hash: holder, as last read
        self._lock = threading.Lock()
        self._loading = threading.Lock()  # held while a state new to this process loads
        self._writing = threading.Lock()  # held by this process's writer (see ``change``)
        self._waiting: list[_Waiting] = []  # changes waiting for the writer, in order
        self._waiting_lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call ``subscriber`` with the new state after every committed change."""
        self._subscribers.append(subscriber)

    # -- reading -------------------------------------------------------------------------

    def current(self) -> Current:
        """Return the active event as last committed (by any process)."""
        return self._current_at(self.store.active_event_version())

    def current_for(self, token: str | None) -> tuple[Actor, Current]:
        """Return who holds ``token`` in the active event, and that event as last committed.

        Both are read in one query (a request's first, before its action). No token: a
        public viewer; a token nobody holds, or another event's, is refused as ``identify``
        refuses it.
        """
        if token is None or token == "":
            return PUBLIC, self.current()
        digest = token_digest(token)
        stored, holder = self.store.active_event_and_holder(digest)
        current = self._current_at(stored)
        self._keep_holder(digest, holder)
        return actor_holding(self.store, current.event_id, holder), current

    def claim(self, token: str | None) -> Claim | None:
        """Return the caller holding ``token`` as this process last read it, without a query.

        None when there is nothing to claim: no token, one not read here yet (or found
        held by nobody since), another event's, or a plan above the points limit (whose
        changes are stored together, see ``change``).
        """
        if not token or not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH:
            return None
        latest = self._latest
        if latest is None or trims_points(latest.plan):
            return None
        digest = hash_token(token)
        holder = self._holders.get(digest)
        actor = None if holder is None else actor_of(holder, latest.event_id)
        if actor is None:
            return None
        return Claim(digest, holder, actor, latest)

    def _keep_holder(self, digest: str, holder: TokenHolder | None) -> None:
        if holder is None:
            self._holders.pop(digest, None)  # revoked: its next request is looked up
            return
        if len(self._holders) >= HOLDERS_KEPT and digest not in self._holders:
            self._holders.clear()  # an installation's tokens fit; this is only a bound
        self._holders[digest] = holder

    def _current_at(self, stored: tuple[int, int] | None) -> Current:
        """Return the active event at ``stored`` (its id and version, just read)."""
        if stored is None:
            raise NotFound("no event is loaded; run `runsheet init` or `runsheet load PLAN`")
        event_id, version = stored
        latest = self._latest
        if latest is not None and latest.event_id == event_id and latest.version == version:
            return latest
        # One reader at a time loads a state this process has not seen; the others wait
        # and take it (at 3,500 points a state is 500 KB of JSON: a crowd of pages
        # connecting after a change would otherwise each load it, all holding a
        # database connection).
        with self._loading:
            latest = self._latest
            if latest is not None and latest.event_id == event_id and latest.version >= version:
                return latest
            plan, state = self.store.load_state(event_id)
            return self._remember(Current(event_id, plan, state))

    def known_plan(self) -> Plan | None:
        """Return the active event's plan as this process last saw it, without a query.

        Read from the database only if this process has seen none yet; None when no event
        is loaded. For decisions that a plan a change or two old does not spoil (how to
        open a WebSocket), made too often to ask the database each time.
        """
        latest = self._latest
        if latest is None:
            try:
                latest = self.current()
            except NotFound:
                return None
        return latest.plan

    def _remember(self, current: Current) -> Current:
        with self._lock:
            latest = self._latest
            if (
                latest is None
                or latest.event_id != current.event_id
                or (current.version >= latest.version)
            ):
                self._latest = current
        return current

    # -- changing ------------------------------------------------------------------------

    def perform(
        self,
        actor: Actor,
        name: str,
        payload: Any = None,
        seen: Current | None = None,
        claim: Claim | None = None,
    ) -> Current:
        """Check and apply the action ``name`` for ``actor``; return the resulting state.

        The change and its audit entry are stored together; a refusal is logged (see
        ``log_refusal``) and raised. ``seen``: the active event as the caller read it a
        moment ago (``current_for``), so that the change need not read it again. With a
        ``claim`` (``actor`` is its actor, maybe with a console or channel), the change is
        stored on it or ``Unconfirmed`` is raised: nothing is refused or logged on a claim.
        """
        args: Any = payload
        if claim is not None:
            seen = claim.seen
        try:
            action = ACTIONS.get(name)
            if action is None:
                raise NotFound(f"there is no action named {name!r}", field="action")
            action.admit(actor)  # a wrong role hears 401/403 before any word on its payload
            args = parse_payload(payload, action.fields)
            action.authorize(actor, args)
            logged = name not in UNLOGGED_WHEN_DONE
            note = AuditNote.of(actor, name, summarize(args)) if logged else None
            return self.change(
                lambda ceremony, now: action.apply(ceremony, actor, args, now), note, seen, claim
            )
        except RunsheetError as error:
            if claim is not None:  # the caller may no longer hold the token: ask again
                raise Unconfirmed(name) from error
            self.log_refusal(actor, name, args, error)
            raise

    def perform_on_claim(
        self, claim: Claim, actor: Actor, name: str, payload: Any = None
    ) -> Current | None:
        """Perform ``name`` on ``claim`` (``actor`` its actor, maybe with a console or
        channel); return the state it stored, or None: then do it again the checked way."""
        try:
            return self.perform(actor, name, payload, claim=claim)
        except Unconfirmed:
            return None

    def log_refusal(self, actor: Actor, name: str, payload: Any, error: RunsheetError) -> None:
        """Log a refused action of a token holder, unless the gate says it is a repeat.

        Never raises: a log that cannot be written must not hide why the action was refused.
        """
        if actor.role == "public":
            return  # no token, no one to hold to account: a flood of these writes nothing
        name = str(name)[:ACTION_NAME_LOGGED]
        try:
            current = self.current()
            kind = (current.event_id, actor.role, actor.point_id, name, error.kind)
            unlogged = self.refusal_gate.admit(kind)
            if unlogged is None:
                return
            summary = summarize(payload)
            if unlogged:
                summary["repeated"] = unlogged
            entry = AuditNote.of(actor, name, summary).entry(
                current.event_id,
                run_number_of(current.state),
                self.clock(),
                current.version,
                current.version,
                error=error,
                error_kind=error.kind,
            )
            self.store.record_audit_entry(entry)
        except Exception:  # noqa: BLE001 - the refusal itself is what the caller must hear
            logger.exception("could not log the refusal of %s by %s", name, actor.label)

    def change(
        self,
        rule: Callable[[Ceremony, datetime], object],
        note: Note = None,
        seen: Current | None = None,
        claim: Claim | None = None,
    ) -> Current:
        """Apply ``rule`` to the latest state, store it, publish it; retry on a race.

        ``note`` says what the audit log's entry of the change holds (logged only when the
        state changed, in the same transaction). ``seen``: the active event as the caller
        just read it; the change starts from it unless this process has stored a newer
        version since (the compare-and-set catches one another process stored).

        One writer at a time in this process: the others wait here, not in the database
        (tried together they would each send the whole state, 500 KB at 3,500 points, to
        wait on the row's lock, and all but one find it changed). Above the points limit
        the writer applies every change waiting when its turn comes, in the order they
        came, and stores them at once, each with its own version and audit entry: a
        check-in storm is a few writes a second, not one per check-in. Up to the limit it
        stores them one by one, so that every version is broadcast (the SPEC). A change on
        a ``claim`` is tried once, from the state this process holds (see ``Claim``).
        """
        mine = _Waiting(rule, note, seen, claim)
        with self._waiting_lock:
            self._waiting.append(mine)
        with self._writing:
            if not mine.done:
                with self._waiting_lock:
                    waiting, self._waiting = self._waiting, []
                self._write(waiting)
        if mine.error is not None:
            raise mine.error
        assert mine.current is not None
        return mine.current

    def _write(self, waiting: list[_Waiting]) -> None:
        """Store the waiting changes; each hears its outcome (``done``, ``error``)."""
        try:
            current = self._still_newest(waiting[0].seen) or self.current()
            together = trims_points(current.plan)
            known: int | None = current.version  # the first group starts from it
            if together:  # a claim is for changes stored one by one: do those again
                for one in waiting:
                    if one.claim is not None:
                        one.error, one.done = Unconfirmed(), True
                waiting = [one for one in waiting if not one.done]
            for group in [waiting] if together else [[one] for one in waiting]:
                self._write_together(current.event_id, group, known)
                known = None
        except Exception as error:  # e.g. the database went away: everyone waiting hears it
            for one in waiting:
                if not one.done:
                    one.error, one.done = error, True

    def _still_newest(self, seen: Current | None) -> Current | None:
        """Return ``seen`` if no newer state of its event has been remembered here since."""
        latest = self._latest
        if seen is None or latest is None or latest.event_id != seen.event_id:
            return None
        return seen if latest.version == seen.version else None

    def _write_together(self, event_id: int, group: list[_Waiting], known: int | None) -> None:
        """Apply and store ``group``; ``known``: the committed version just read, if it was."""
        pending, conflicts = list(group), 0
        while pending:
            outcome = self._try_changes(event_id, pending, known)
            known = None  # from now on, read the version: this process's may be behind
            if outcome is None and pending[0].claim is not None:  # (alone in its group)
                pending[0].error, pending[0].done = Unconfirmed(), True
                break
            if outcome is None:  # another process changed the state first: apply them to its
                conflicts += 1
                if conflicts == MAX_ATTEMPTS:
                    break
                continue
            current, applied, stored = outcome
            for one in applied:
                one.current, one.done = current, True
            if stored:
                self.publish(current)
            pending = [one for one in pending if not one.done]
        for one in pending:
            one.error, one.done = Conflict("the ceremony is changing too fast; try again"), True

    def _try_changes(
        self, event_id: int, pending: list[_Waiting], version: int | None = None
    ) -> tuple[Current | None, list[_Waiting], bool] | None:
        """Apply the pending changes to the stored state and store them.

        ``version``: the committed version read a moment ago, whose state this process may
        hold (then no query reads it again; the compare-and-set catches a newer one).

        Return the resulting state, the changes it holds and whether it was stored (False:
        they changed nothing); None if another change came first. A refused change is
        done with its error and nothing is stored (the state it may have half changed is
        dropped): the others try again without it. After a change that ends a run
        (archived with it) the rest wait for the next write.
        """
        claim = pending[0].claim  # a claimed change is alone in its group
        if claim is not None:
            if claim.seen.event_id != event_id:
                return None
            version = claim.seen.version
        plan, record = self.store.load_state_record(event_id, version)
        state = self.store.state_of(record)
        seen_version = state.version
        if claim is not None and seen_version != claim.seen.version:
            return None
        now = reading_after(self.clock, state.updated_at)
        ceremony = Ceremony(plan, state, self.move_guard)
        applied: list[_Waiting] = []
        entries: list[AuditEntry] = []
        for one in pending:
            before, run_number = state.version, run_number_of(state)
            try:
                one.rule(ceremony, now)
            except Exception as error:
                one.error, one.done = error, True
                return None, [], False
            applied.append(one)
            told = one.note() if callable(one.note) else one.note
            if told is not None and state.version != before:
                entries.append(told.entry(event_id, run_number, now, before, state.version))
            if ceremony.archived is not None:
                break
        current = Current(event_id, plan, state, previous=record)
        if state.version == seen_version:
            if claim is not None:  # perhaps so only here: the checked way says
                return None
            return self._remember(current), applied, False  # nothing to store or tell
        held_by = None if claim is None else (claim.token_hash, claim.holder)
        if not self.store.save_state(
            event_id,
            state,
            seen_version,
            now,
            ceremony.archived,
            audit_entries=entries,
            held_by=held_by,
        ):
            return None
        return self._remember(current), applied, True

    def announce(self, current: Current) -> None:
        """Remember and publish a state committed outside ``change`` (e.g. an edited plan)."""
        self._remember(current)
        self.publish(current)

    def publish(self, current: Current) -> None:
        """Tell every subscriber about a committed state."""
        for subscriber in self._subscribers:
            subscriber(current)

    # -- presence --------------------------------------------------------------------------

    def refresh_presence(self) -> Current:
        """Mark points online or offline from the pages connected to any process.

        A point is online while one of its pages was seen within the grace period: open
        pages are refreshed by their process's heartbeat, and a page that disconnected
        keeps its point online until the grace period after it left has passed.
        """
        event_id = self.current().event_id
        seen_since = self.clock() - self.presence_grace
        connected = self.store.connected_points(event_id, seen_since)
        flipped: list[str] = []

        def rule(ceremony: Ceremony, now: datetime) -> None:
            flipped[:] = ceremony.set_presence(connected, now)  # this attempt's, not the last

        def note() -> AuditNote:
            online = sorted(p for p in flipped if p in connected)
            offline = sorted(p for p in flipped if p not in connected)
            return AuditNote.of(SYSTEM, "presence", {"online": online, "offline": offline})

        return self.change(rule, note)
