"""Calendar components: the events a plan puts into calendars, as plain facts.

Each component has a stable ``key`` (``ceremony``, ``point:<id>``, ``item:<id>``,
``activity:<id>``, ``deadline:<id>``) from which its UID is made, and the facts a calendar
file shows. Two hashes tell changes apart: the *fingerprint* covers time, place, title and
status (a change there raises SEQUENCE), the *content hash* covers everything (a change
there moves DTSTAMP and LAST-MODIFIED). No framework imports.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..domain.plan import Conference, Plan
from . import descriptions

CONFIRMED = "CONFIRMED"
CANCELLED = "CANCELLED"

# Deadlines are all-day; their reminder fires at 09:00 on the day before (15 hours before
# the floating midnight that starts the day), which is when people can still act on it.
DEADLINE_REMINDER = timedelta(hours=15)

# The facts whose change raises SEQUENCE (RFC 5545 3.8.7.4 names time and status; title
# and place are what people act on, so they count too).
SIGNIFICANT = ("summary", "start", "end", "timezone", "location", "status")

# Which component kinds each multi-event file holds.
FEED_KINDS = {"agenda": ("item",), "week": ("activity", "deadline")}

# RFC 7986 CONFERENCE features: a meeting to join, and a livestream to watch.
MEETING_FEATURES = ("AUDIO", "VIDEO")
STREAM_FEATURES = ("VIDEO",)
STREAM_LABEL = "Xem trực tiếp"

# Facts added since components were first recorded: left out of the stored dict while they
# hold their default, so the records of plans without them keep their hashes.
OPTIONAL_FACTS = {
    "url": "",
    "conference_url": "",
    "conference_label": "",
    "conference_features": (),
    "passcode": "",
}


@dataclass(frozen=True)
class Component:
    """One calendar event as a plan describes it."""

    key: str
    summary: str
    start: datetime | date  # aware datetime in ``timezone``, or a date for all-day events
    end: datetime | date  # exclusive, as in iCalendar
    timezone: str | None  # IANA zone of start and end; None for all-day events
    location: str = ""
    description: str = ""
    status: str = CONFIRMED
    reminder: timedelta | None = None  # how long before the start; None: no reminder
    busy: bool = True  # False: shown as free time (TRANSP:TRANSPARENT)
    url: str = ""  # the URL property; empty: the public page
    conference_url: str = ""  # RFC 7986 CONFERENCE: a meeting to join or a stream to watch
    conference_label: str = ""  # its LABEL, without the passcode
    conference_features: tuple[str, ...] = ()  # its FEATURE values
    # The meeting's passcode: recorded, but written only into files for that point's
    # token holder and its invitation (``ics.build_calendar(private=True)``).
    passcode: str = ""

    @property
    def kind(self) -> str:
        """Return the kind of component: ceremony, point, item, activity or deadline."""
        return self.key.partition(":")[0]

    @property
    def local_id(self) -> str:
        """Return the part of the UID before the event slug is added, e.g. ``item-khai-mac``."""
        return self.key.replace(":", "-")

    @property
    def all_day(self) -> bool:
        """Say whether the component spans whole days."""
        return not isinstance(self.start, datetime)

    def fingerprint(self) -> str:
        """Return a hash of what raises SEQUENCE when it changes: time, place, title, status."""
        data = self.to_dict()
        return _digest({name: data[name] for name in SIGNIFICANT})

    def content_hash(self) -> str:
        """Return a hash of every fact, so any change of the content shows."""
        return _digest(self.to_dict())

    def cancelled(self) -> Component:
        """Return this component as cancelled (no reminder for something that will not happen)."""
        return replace(self, status=CANCELLED, reminder=None)

    def to_dict(self) -> dict[str, Any]:
        """Return the component as a JSON-ready dict."""
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["end"] = self.end.isoformat()
        data["reminder"] = None if self.reminder is None else int(self.reminder.total_seconds())
        data["conference_features"] = list(self.conference_features)
        for name, default in OPTIONAL_FACTS.items():
            if data[name] == default or data[name] == list(default or ()):
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Component:
        """Return the component stored as ``data``."""
        parse = date.fromisoformat if data["timezone"] is None else datetime.fromisoformat
        reminder = data.get("reminder")
        return cls(
            key=data["key"],
            summary=data["summary"],
            start=parse(data["start"]),
            end=parse(data["end"]),
            timezone=data["timezone"],
            location=data.get("location", ""),
            description=data.get("description", ""),
            status=data.get("status", CONFIRMED),
            reminder=None if reminder is None else timedelta(seconds=reminder),
            busy=data.get("busy", True),
            url=data.get("url", ""),
            conference_url=data.get("conference_url", ""),
            conference_label=data.get("conference_label", ""),
            conference_features=tuple(data.get("conference_features", ())),
            passcode=data.get("passcode", ""),
        )


def _digest(data: dict[str, Any]) -> str:
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def plan_components(plan: Plan) -> list[Component]:
    """Return every calendar component of a plan, in a stable order."""
    event = plan.event
    zone = event.zone
    start = event.starts_at.astimezone(zone)
    end = plan.planned_end.astimezone(zone)
    reminder = timedelta(minutes=event.reminder_minutes)
    stream = _stream_facts(plan)
    components = [
        Component(
            key="ceremony",
            summary=event.title,
            start=start,
            end=end,
            timezone=event.timezone,
            location=descriptions.ceremony_location(plan),
            description=descriptions.ceremony_description(plan),
            reminder=reminder,
            **stream,
        )
    ]
    components += [
        Component(
            key=f"point:{point.id}",
            summary=f"{event.title} — {point.name}",
            start=start,
            end=end,
            timezone=event.timezone,
            location=descriptions.point_location(point),
            description=descriptions.point_description(plan, point),
            reminder=reminder,
            **_meeting_facts(plan.conference_for(point.id)),
        )
        for point in plan.points
    ]
    components += [
        Component(
            key=f"item:{slot.item.id}",
            summary=slot.item.title,
            start=slot.start.astimezone(zone),
            end=slot.end.astimezone(zone),
            timezone=event.timezone,
            location=descriptions.item_location(plan, slot.item),
            description=descriptions.item_description(plan, slot.item),
            reminder=reminder,
            **stream,
        )
        for slot in plan.schedule()
    ]
    components += [
        Component(
            key=f"activity:{activity.id}",
            summary=activity.title,
            start=activity.starts_on,
            end=max(activity.ends_on, activity.starts_on) + timedelta(days=1),
            timezone=None,
            description=descriptions.activity_description(plan, activity),
            busy=False,  # a week of activities must not block anyone's calendar
        )
        for activity in plan.activities
    ]
    components += [
        Component(
            key=f"deadline:{deadline.id}",
            summary=descriptions.deadline_summary(deadline),
            start=deadline.due_on,
            end=deadline.due_on + timedelta(days=1),
            timezone=None,
            description=descriptions.deadline_description(plan, deadline),
            reminder=DEADLINE_REMINDER,
            busy=False,
        )
        for deadline in plan.deadlines
    ]
    return components


def _meeting_facts(conference: Conference | None) -> dict[str, Any]:
    """Return a point's meeting as component facts: the link, its label, the passcode."""
    if conference is None:
        return {}
    return {
        "url": conference.url,
        "conference_url": conference.url,
        "conference_label": descriptions.conference_label(conference),
        "conference_features": MEETING_FEATURES,
        "passcode": conference.passcode,
    }


def _stream_facts(plan: Plan) -> dict[str, Any]:
    """Return the livestream as component facts of the ceremony and its items."""
    url = plan.event.livestream_url
    if not url:
        return {}
    return {
        "url": url,
        "conference_url": url,
        "conference_label": STREAM_LABEL,
        "conference_features": STREAM_FEATURES,
    }


def sort_key(component: Component) -> tuple[str, str]:
    """Return the order of components within one file: by start, then by key."""
    if component.all_day:
        start = component.start.isoformat()
    else:
        start = component.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return (start, component.key)
