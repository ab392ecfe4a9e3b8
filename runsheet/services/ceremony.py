"""The service layer: load the active event, apply an action, store it, then publish it.

``CeremonyService.perform`` is the one path every action takes, whatever transport it came
from: check the payload and the actor's role, load the latest committed state, apply the
rule, compare-and-set it into the database, and only then tell subscribers (the Socket.IO
module) about the new state. If another thread or process committed first, it reloads and
tries again, so the rule (and its ``expected_version`` check) always sees the latest state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..domain.ceremony import Ceremony, CeremonyState
from ..domain.errors import Conflict, NotFound
from ..domain.plan import Plan
from ..storage.codec import state_from_dict
from ..storage.store import Store
from .actions import ACTIONS
from .clock import reading_after
from .payloads import parse_payload
from .tokens import Actor

MAX_ATTEMPTS = 50


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


Subscriber = Callable[[Current], None]


class CeremonyService:
    """Run the active event's ceremony: read it, change it, tell subscribers."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime] = utc_now,
        presence_grace: timedelta = timedelta(seconds=10),
        move_guard: timedelta = timedelta(0),
    ) -> None:
        self.store = store
        self.clock = clock
        self.presence_grace = presence_grace
        self.move_guard = move_guard  # a move this soon after another needs confirming
        self._subscribers: list[Subscriber] = []
        self._latest: Current | None = None
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call ``subscriber`` with the new state after every committed change."""
        self._subscribers.append(subscriber)

    # -- reading -------------------------------------------------------------------------

    def current(self) -> Current:
        """Return the active event as last committed (by any process)."""
        stored = self.store.active_event_version()
        if stored is None:
            raise NotFound("no event is loaded; run `runsheet init` or `runsheet load PLAN`")
        event_id, version = stored
        latest = self._latest
        if latest is not None and latest.event_id == event_id and latest.version == version:
            return latest
        plan, state = self.store.load_state(event_id)
        return self._remember(Current(event_id, plan, state))

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

    def perform(self, actor: Actor, name: str, payload: Any = None) -> Current:
        """Check and apply the action ``name`` for ``actor``; return the resulting state."""
        action = ACTIONS.get(name)
        if action is None:
            raise NotFound(f"there is no action named {name!r}", field="action")
        action.admit(actor)  # a wrong role hears 401/403 before any word on its payload
        args = parse_payload(payload, action.fields)
        action.authorize(actor, args)
        return self.change(lambda ceremony, now: action.apply(ceremony, actor, args, now))

    def change(self, rule: Callable[[Ceremony, datetime], object]) -> Current:
        """Apply ``rule`` to the latest state, store it, publish it; retry on a race."""
        event_id = self.current().event_id
        for _ in range(MAX_ATTEMPTS):
            plan, record = self.store.load_state_record(event_id)
            state = state_from_dict(record)
            seen_version = state.version
            now = reading_after(self.clock, state.updated_at)
            ceremony = Ceremony(plan, state, self.move_guard)
            rule(ceremony, now)
            current = Current(event_id, plan, state, previous=record)
            if state.version == seen_version:
                return self._remember(current)  # nothing changed: nothing to store or tell
            if self.store.save_state(event_id, state, seen_version, now, ceremony.archived):
                self._remember(current)
                self.publish(current)
                return current
        raise Conflict("the ceremony is changing too fast; try again")

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
        return self.change(lambda ceremony, now: ceremony.set_presence(connected, now))
