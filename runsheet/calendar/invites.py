"""Invites by e-mail: one METHOD:REQUEST file per point contact, or the matching CANCELs.

No mail is sent; the organizer attaches each file to a message to that contact. Each
invite is the point's view of the ceremony, with the same UID and SEQUENCE as the point's
published file, so a contact who also subscribed sees one event, not two (RFC 5546 3.2.2).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from ..domain.errors import InvalidInput, NotFound
from ..domain.plan import Plan, Point
from ..storage.store import Store
from .ics import Attendee, build_calendar, publisher_for
from .sequences import Revision, Revisions, ensure_recorded


def invited_points(plan: Plan) -> list[Point]:
    """Return the points whose contact the plan gives an e-mail for."""
    return [point for point in plan.points if point.contact_email]


def invite_filename(point: Point, cancel: bool) -> str:
    """Return the file name of a point's invite or cancellation."""
    return f"{'cancel' if cancel else 'invite'}-{point.id}.ics"


def write_invites(
    plan: Plan,
    sequences: Revisions,
    out_dir: Path,
    cancel: bool = False,
    *,
    domain: str,
    base_url: str,
    now: datetime | None = None,
) -> list[Path]:
    """Write one REQUEST (or, with ``cancel``, CANCEL) file per point contact; return them.

    ``sequences`` are the event's recorded revisions (``sequences.ensure_recorded``). A
    cancellation carries STATUS:CANCELLED and a SEQUENCE one above the invite's, because
    RFC 5545 3.8.7.4 requires a higher SEQUENCE when STATUS changes.
    """
    if not plan.event.organizer_email:
        raise InvalidInput(
            "event.organizer_email: invites need the organizer's e-mail address, "
            "where the replies go; add it to the plan",
            field="organizer_email",
        )
    points = invited_points(plan)
    if not points:
        raise InvalidInput("no connection point of the plan has a contact_email to invite")
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    publisher = publisher_for(plan, domain, base_url)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for point in points:
        revision = _revision(sequences, point, cancel)
        body = build_calendar(
            publisher,
            [revision],
            method="CANCEL" if cancel else "REQUEST",
            attendee=Attendee(point.contact_email or "", point.contact_name or ""),
            stamp=stamp,
            private=True,  # the invitation goes to the point's own contact
        )
        path = out_dir / invite_filename(point, cancel)
        path.write_bytes(body)
        written.append(path)
    return written


def _revision(sequences: Revisions, point: Point, cancel: bool) -> Revision:
    revision = sequences.get(f"point:{point.id}")
    if revision is None:
        raise NotFound(f"point {point.id!r} has no recorded calendar entry; load the plan first")
    if not cancel:
        return revision
    return replace(
        revision, component=revision.component.cancelled(), sequence=revision.sequence + 1
    )


def write_event_invites(
    store: Store,
    event_id: int,
    plan: Plan,
    out_dir: Path,
    cancel: bool,
    *,
    domain: str,
    base_url: str,
    now: datetime,
) -> list[Path]:
    """Write the invites (or cancellations) of a stored event, as ``runsheet invites`` does."""
    revisions = ensure_recorded(store, event_id, plan, now)
    return write_invites(
        plan, revisions, out_dir, cancel, domain=domain, base_url=base_url, now=now
    )
