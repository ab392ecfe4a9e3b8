"""Calendar SEQUENCE numbers, raised when a component's time, place, title or status changes.

Every time a plan is installed, ``record_plan`` compares each calendar component with the
one last published for that event: a new component starts at SEQUENCE 0; a change of time,
place, title or status raises its SEQUENCE by one; any other change (say, the description)
only moves its revision time, which becomes DTSTAMP and LAST-MODIFIED. A component that left
the plan is kept and published as cancelled, with a higher SEQUENCE, so that subscribers
see it go. Files are rendered only from what is recorded here, so every process and every
restart serves the same bytes for the same plan.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from ..domain.plan import Plan
from ..plans import plan_from_dict
from ..storage.store import CalendarRow, Store
from .components import CANCELLED, Component, plan_components


@dataclass(frozen=True)
class Revision:
    """A component as last published, with its SEQUENCE and when it was created and revised."""

    component: Component
    sequence: int
    content_hash: str
    created_at: datetime  # UTC
    revised_at: datetime  # UTC: last change of any fact

    @property
    def key(self) -> str:
        """Return the component's key."""
        return self.component.key


Revisions = Mapping[str, Revision]


def record_plan(store: Store, conn: Connection, event_id: int, plan: Plan, now: datetime) -> None:
    """Raise the SEQUENCE of every calendar component the new plan changes."""
    store.lock_event(conn, event_id)
    stored = {row.key: row for row in store.calendar_rows(event_id, conn)}
    current = {component.key: component for component in plan_components(plan)}
    gone = [
        Component.from_dict(row.component).cancelled()
        for key, row in stored.items()
        if key not in current
    ]
    for component in [*current.values(), *gone]:
        revised = _revised(stored.get(component.key), component, now)
        if revised is not None:
            store.save_calendar_row(conn, event_id, revised)


def load_revisions(
    store: Store, event_id: int, conn: Connection | None = None
) -> dict[str, Revision]:
    """Return every recorded component of an event, by key."""
    return {
        row.key: Revision(
            component=Component.from_dict(row.component),
            sequence=row.sequence,
            content_hash=row.content_hash,
            created_at=row.created_at,
            revised_at=row.revised_at,
        )
        for row in store.calendar_rows(event_id, conn)
    }


def is_recorded(revisions: Revisions, plan: Plan) -> bool:
    """Say whether ``revisions`` already hold exactly this plan's components."""
    current = _content_hashes(plan)
    for key, revision in revisions.items():
        if key not in current and revision.component.status != CANCELLED:
            return False
    return all(
        key in revisions and revisions[key].content_hash == content_hash
        for key, content_hash in current.items()
    )


@functools.lru_cache(maxsize=16)
def _content_hashes(plan: Plan) -> dict[str, str]:
    # Every calendar request asks whether its plan is recorded; a plan never changes, so
    # its hashes are worked out once. Callers only read the dict.
    return {component.key: component.content_hash() for component in plan_components(plan)}


def ensure_recorded(store: Store, event_id: int, plan: Plan, now: datetime) -> dict[str, Revision]:
    """Return an event's revisions, recording its stored plan first if that was never done.

    Installing a plan records it; this covers databases filled before calendars existed.
    It records the plan *stored* for the event, not ``plan``, so a process holding an older
    copy of the plan can never publish it over a newer one.
    """
    revisions = load_revisions(store, event_id)
    if is_recorded(revisions, plan):
        return revisions
    with store.transaction() as conn:
        stored_plan = plan_from_dict(store.plan_data(conn, event_id))
        record_plan(store, conn, event_id, stored_plan, now)
        return load_revisions(store, event_id, conn)


def _revised(row: CalendarRow | None, component: Component, now: datetime) -> CalendarRow | None:
    """Return the record ``component`` needs now, or None if the recorded one still holds."""
    content_hash = component.content_hash()
    fingerprint = component.fingerprint()
    now = now.astimezone(UTC)
    if row is None:
        return CalendarRow(
            key=component.key,
            sequence=0,
            fingerprint=fingerprint,
            content_hash=content_hash,
            component=component.to_dict(),
            created_at=now,
            revised_at=now,
        )
    if row.content_hash == content_hash:
        return None
    return CalendarRow(
        key=component.key,
        sequence=row.sequence + (1 if row.fingerprint != fingerprint else 0),
        fingerprint=fingerprint,
        content_hash=content_hash,
        component=component.to_dict(),
        created_at=row.created_at,
        # A revision time never goes backwards, even if the clock does.
        revised_at=max(now, row.revised_at),
    )
