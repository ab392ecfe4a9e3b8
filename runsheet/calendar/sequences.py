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

from sqlalchemy import Connection, insert, select, update

from ..domain.plan import Plan
from ..plans import plan_from_dict
from ..storage.store import Store
from ..storage.tables import calendar_components, events
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


def record_plan(conn: Connection, event_id: int, plan: Plan, now: datetime) -> None:
    """Raise the SEQUENCE of every calendar component the new plan changes."""
    _lock_event(conn, event_id)
    stored = {
        row.key: row
        for row in conn.execute(
            select(calendar_components).where(calendar_components.c.event_id == event_id)
        )
    }
    current = {component.key: component for component in plan_components(plan)}
    gone = [
        Component.from_dict(row.component).cancelled()
        for key, row in stored.items()
        if key not in current
    ]
    for component in [*current.values(), *gone]:
        _record(conn, event_id, stored.get(component.key), component, now)


def load_revisions(conn: Connection, event_id: int) -> dict[str, Revision]:
    """Return every recorded component of an event, by key."""
    rows = conn.execute(
        select(calendar_components)
        .where(calendar_components.c.event_id == event_id)
        .order_by(calendar_components.c.key)
    )
    return {
        row.key: Revision(
            component=Component.from_dict(row.component),
            sequence=row.sequence,
            content_hash=row.content_hash,
            created_at=_utc(row.created_at),
            revised_at=_utc(row.revised_at),
        )
        for row in rows
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
    with store.engine.connect() as conn:
        revisions = load_revisions(conn, event_id)
    if is_recorded(revisions, plan):
        return revisions
    with store.transaction() as conn:
        stored_plan = plan_from_dict(
            conn.execute(select(events.c.plan).where(events.c.id == event_id)).scalar_one()
        )
        record_plan(conn, event_id, stored_plan, now)
        return load_revisions(conn, event_id)


def _record(
    conn: Connection,
    event_id: int,
    row,
    component: Component,
    now: datetime,  # noqa: ANN001
) -> None:
    content_hash = component.content_hash()
    fingerprint = component.fingerprint()
    now = now.astimezone(UTC)
    if row is None:
        conn.execute(
            insert(calendar_components).values(
                event_id=event_id,
                key=component.key,
                sequence=0,
                fingerprint=fingerprint,
                content_hash=content_hash,
                component=component.to_dict(),
                created_at=now,
                revised_at=now,
            )
        )
        return
    if row.content_hash == content_hash:
        return
    sequence = row.sequence + (1 if row.fingerprint != fingerprint else 0)
    # A revision time never goes backwards, even if the clock does.
    revised_at = max(now, _utc(row.revised_at))
    conn.execute(
        update(calendar_components)
        .where(
            calendar_components.c.event_id == event_id,
            calendar_components.c.key == component.key,
        )
        .values(
            sequence=sequence,
            fingerprint=fingerprint,
            content_hash=content_hash,
            component=component.to_dict(),
            revised_at=revised_at,
        )
    )


def _lock_event(conn: Connection, event_id: int) -> None:
    # Two processes recording the same event at once would both read, then both write;
    # locking the event's row makes the second wait (SQLite already serializes writers).
    conn.execute(select(events.c.id).where(events.c.id == event_id).with_for_update())


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything here is written in UTC.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
