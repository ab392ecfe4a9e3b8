"""Several events in one installation: list them, create one, switch, archive and restore.

One event is active at a time: the pages, the API and the calendar files serve it. A new
event starts blank (one point, one item, tomorrow morning), from the built-in template
plan, or as a copy of another event's plan; each gets its own slug, its own tokens and a
clean state. Switching tells every subscriber (the sockets, which tell every open page to
reload), so no screen shows one event's header over another's programme. An archived event
is kept and listed but cannot be made active until restored; the active one cannot be
archived. The HTTP routes (``transports.events``) and the CLI only translate to these.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.errors import Conflict, InvalidEvent, InvalidInput, NotFound
from ..domain.plan import AgendaItem, Event, Plan, Point
from ..plans import default_plan
from ..plans.schema import MAX_LINE_LENGTH, Invalid, slug, text
from ..storage.store import EventRow, Store
from .audit import AuditNote, run_number_of
from .ceremony import CeremonyService, utc_now
from .plans import install_plan
from .tokens import SYSTEM, Actor

SOURCES = ("blank", "template", "duplicate")
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
# A blank event starts the next morning at this hour, in the active event's zone.
BLANK_START = time(8, 0)
BLANK_TITLE = "Sự kiện mới"
COPY_SUFFIX = " (bản sao)"
CREATE_KEYS = ("slug", "title", "from", "source")


@dataclass(frozen=True)
class EventSummary:
    """An event as the organizer's list shows it."""

    slug: str
    title: str
    starts_at: str
    active: bool
    archived: bool

    def as_dict(self) -> dict[str, Any]:
        """Return the summary as the API answers it."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class NewEvent:
    """What the organizer asked for: a slug, a title, and what to start from."""

    slug: str
    title: str | None
    source_kind: str  # one of SOURCES
    source_slug: str | None  # the event to copy, for "duplicate"


def summary_of(row: EventRow) -> EventSummary:
    """Return the list entry of a stored event."""
    return EventSummary(row.slug, row.title, row.starts_at, row.is_active, row.is_archived)


def list_events(store: Store) -> list[EventSummary]:
    """Return every event, oldest first."""
    return [summary_of(row) for row in store.event_rows()]


def parse_new_event(payload: Any) -> NewEvent:
    """Check a request to create an event; raise InvalidInput/InvalidEvent naming the field."""
    if not isinstance(payload, dict):
        raise InvalidInput("the request body must be a JSON object")
    for key in payload:
        if key not in CREATE_KEYS:
            raise InvalidInput(
                f"{str(key)[:40]}: unknown key; the keys are {', '.join(CREATE_KEYS)}",
                field=str(key)[:40],
            )
    new_slug = _checked("slug", payload.get("slug"), slug, required=True)
    title = _checked("title", payload.get("title"), text)
    kind = payload.get("from", "blank")
    if kind not in SOURCES:
        raise InvalidEvent(f"from: must be one of {', '.join(SOURCES)}", field="from")
    source = payload.get("source")
    if kind == "duplicate":
        source = _checked("source", source, slug, required=True)
    elif source is not None:
        raise InvalidEvent('source: is only for "from": "duplicate"', field="source")
    return NewEvent(new_slug, title, kind, source)


def _checked(key: str, value: Any, check: Any, required: bool = False) -> Any:
    if value is None:
        if required:
            raise InvalidEvent(f"{key}: is required", field=key)
        return None
    try:
        return check(value)
    except Invalid as error:
        raise InvalidEvent(f"{key}: {error}", field=key) from None


def create_event(
    store: Store, secret_key: str, request: NewEvent, now: datetime, actor: Actor = SYSTEM
) -> EventSummary:
    """Store a new event (not active) with its own tokens and a clean state; return it.

    Raise Conflict if the slug is taken, InvalidEvent if the event to copy does not exist.
    The new event's audit log starts with its ``load_plan`` by ``actor``.
    """
    if store.event_rows(slug=request.slug):
        raise Conflict(f"an event with the slug {request.slug!r} exists already", field="slug")
    plan = _starting_plan(store, request, now)
    install_plan(store, plan, secret_key, now, activate=False, only_new=True, actor=actor)
    return _summary(store, request.slug)


def _starting_plan(store: Store, request: NewEvent, now: datetime) -> Plan:
    if request.source_kind == "duplicate":
        source = store.event_by_slug(request.source_slug or "")
        if source is None:
            raise InvalidEvent(
                f"source: there is no event with the slug {request.source_slug!r}", field="source"
            )
        title = request.title or _copy_title(source.plan.event.title)
        return _renamed(source.plan, request.slug, title)
    zone = _zone_of_active(store)
    if request.source_kind == "template":
        template = default_plan()
        starts_at = _next_morning(now, zone, template.event.starts_at.timetz())
        moved = _moved_to(template, starts_at)
        return _renamed(moved, request.slug, request.title or template.event.title)
    return blank_plan(request.slug, request.title or BLANK_TITLE, _next_morning(now, zone), zone)


def blank_plan(event_slug: str, title: str, starts_at: datetime, zone: str) -> Plan:
    """Return the smallest plan that runs: one point, one item."""
    return Plan(
        event=Event(slug=event_slug, title=title, starts_at=starts_at, timezone=zone),
        points=(Point(id="diem-cau-chinh", name="Điểm cầu chính", kind="room"),),
        agenda=(AgendaItem(id="khai-mac", title="Khai mạc", planned_minutes=10),),
    )


def _zone_of_active(store: Store) -> str:
    active = store.active_event()
    return active.plan.event.timezone if active is not None else DEFAULT_TIMEZONE


def _next_morning(now: datetime, zone: str, at: time | None = None) -> datetime:
    """Return the next day at ``at`` (08:00 by default) in ``zone``, timezone-aware."""
    tz = ZoneInfo(zone)
    day = now.astimezone(tz).date() + timedelta(days=1)
    local = (at or BLANK_START).replace(tzinfo=None)
    return datetime.combine(day, local, tzinfo=tz)


def _moved_to(plan: Plan, starts_at: datetime) -> Plan:
    """Return the plan starting at ``starts_at``, its week's dates moved by as many days."""
    days = starts_at.date() - plan.event.starts_at.date()

    def shifted(day: date) -> date:
        return day + days

    return dataclasses.replace(
        plan,
        event=dataclasses.replace(plan.event, starts_at=starts_at),
        activities=tuple(
            dataclasses.replace(a, starts_on=shifted(a.starts_on), ends_on=shifted(a.ends_on))
            for a in plan.activities
        ),
        deadlines=tuple(dataclasses.replace(d, due_on=shifted(d.due_on)) for d in plan.deadlines),
    )


def _renamed(plan: Plan, event_slug: str, title: str) -> Plan:
    event = dataclasses.replace(plan.event, slug=event_slug, title=title)
    return dataclasses.replace(plan, event=event)


def _copy_title(title: str) -> str:
    return title[: MAX_LINE_LENGTH - len(COPY_SUFFIX)] + COPY_SUFFIX


def activate_event(
    store: Store, ceremony: CeremonyService, event_slug: str, actor: Actor = SYSTEM
) -> EventSummary:
    """Make an event the active one and tell every subscriber (so open pages move to it).

    Raise NotFound for an unknown slug and Conflict for an archived event. A switch is
    logged in the audit log of the event switched to, as ``activate_event`` by ``actor``.
    """
    with store.transaction() as conn:
        event = _locked(store, conn, event_slug)
        if event.is_archived:
            raise Conflict(
                f"the event {event_slug!r} is archived; restore it before making it active",
                field="slug",
            )
        switched = not event.is_active
        if switched:
            store.activate(conn, event.id)
            _log(store, conn, event_slug, actor, "activate_event", ceremony.clock())
    if switched:
        ceremony.publish(ceremony.current())
    return _summary(store, event_slug)


def archive_event(store: Store, event_slug: str, actor: Actor = SYSTEM) -> EventSummary:
    """Archive an event that is not the active one (archiving it again changes nothing).

    Logged in that event's audit log as ``archive_event`` by ``actor``.
    """
    with store.transaction() as conn:
        event = _locked(store, conn, event_slug)
        if event.is_active:
            raise Conflict(
                f"the event {event_slug!r} is the active one; make another event active first",
                field="slug",
            )
        store.set_archived(conn, event.id, True)
        if not event.is_archived:
            _log(store, conn, event_slug, actor, "archive_event", utc_now())
    return _summary(store, event_slug)


def restore_event(store: Store, event_slug: str, actor: Actor = SYSTEM) -> EventSummary:
    """Bring an archived event back to the list of events that may be made active.

    Logged in that event's audit log as ``restore_event`` by ``actor``.
    """
    with store.transaction() as conn:
        event = _locked(store, conn, event_slug)
        store.set_archived(conn, event.id, False)
        if event.is_archived:
            _log(store, conn, event_slug, actor, "restore_event", utc_now())
    return _summary(store, event_slug)


def _log(
    store: Store, conn: Any, event_slug: str, actor: Actor, action: str, now: datetime
) -> None:
    """Log an action on a whole event in its audit log, within ``conn``'s transaction."""
    stored = store.event_by_slug(event_slug, conn)
    version = stored.state.version
    entry = AuditNote.of(actor, action, {"slug": event_slug}).entry(
        stored.id, run_number_of(stored.state), now, version, version
    )
    store.add_audit_entry(conn, entry)


def _locked(store: Store, conn: Any, event_slug: str) -> EventRow:
    """Return an event's row, held until ``conn`` commits; raise NotFound if there is none."""
    found = store.event_rows(conn, slug=event_slug)
    if not found:
        raise NotFound(f"no event with slug {event_slug[:80]!r}", field="slug")
    store.lock_event(conn, found[0].id)
    # Read again under the lock: another transaction may have switched or archived it.
    return store.event_rows(conn, slug=event_slug)[0]


def _summary(store: Store, event_slug: str) -> EventSummary:
    return summary_of(store.event_rows(slug=event_slug)[0])
