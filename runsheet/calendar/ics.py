"""Build iCalendar files (RFC 5545) from recorded components, with icalendar.

One function, ``build_calendar``, writes every file the service produces: downloads and
subscriptions (``METHOD:PUBLISH``) and e-mail invites (``METHOD:REQUEST`` / ``CANCEL``).
The output depends only on its inputs, so the same plan gives the same bytes (and ETag)
in every process and after every restart. ``docs/calendar.md`` says which rule each
property follows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vDuration

from ..domain.plan import Plan
from . import descriptions
from .components import CANCELLED, Component
from .descriptions import CANCELLED_NOTE
from .sequences import Revision

try:
    _VERSION = version("runsheet")
except PackageNotFoundError:  # running from a source tree that was never installed
    _VERSION = "0"

PRODID = f"-//runsheet//runsheet {_VERSION}//VI"
# How often subscribers should fetch a feed again (RFC 7986 REFRESH-INTERVAL and the
# older X-PUBLISHED-TTL that Outlook reads): often enough to see a moved start the same day.
REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class Publisher:
    """What every file of one event shares: UID domain, public page, organizer."""

    slug: str
    domain: str  # right-hand side of UIDs
    public_url: str
    organizer_name: str
    organizer_email: str | None

    def uid(self, component: Component) -> str:
        """Return a component's UID: event slug, component id and the domain; never changes."""
        return f"{self.slug}-{component.local_id}@{self.domain}"

    def organizer(self) -> vCalAddress:
        """Return the ORGANIZER; without an e-mail in the plan, a no-reply address."""
        address = vCalAddress(f"mailto:{self.organizer_email or f'noreply@{self.domain}'}")
        if self.organizer_name:
            address.params["CN"] = _parameter_text(self.organizer_name)
        return address


def publisher_for(plan: Plan, domain: str, base_url: str) -> Publisher:
    """Return the publisher of an event's files; the plan's own UID domain wins."""
    event = plan.event
    return Publisher(
        slug=event.slug,
        domain=event.calendar_domain or domain,
        public_url=base_url.rstrip("/") + "/",
        organizer_name=event.organizer or event.standing_body,
        organizer_email=event.organizer_email,
    )


@dataclass(frozen=True)
class Attendee:
    """Who an invite is addressed to."""

    email: str
    name: str = ""

    def address(self) -> vCalAddress:
        """Return the ATTENDEE, asked to reply (RSVP=TRUE)."""
        address = vCalAddress(f"mailto:{self.email}")
        if self.name:
            address.params["CN"] = _parameter_text(self.name)
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE"
        return address


def build_calendar(
    publisher: Publisher,
    revisions: Sequence[Revision],
    *,
    method: str = "PUBLISH",
    name: str | None = None,
    attendee: Attendee | None = None,
    stamp: datetime | None = None,
    private: bool = False,
) -> bytes:
    """Return an iCalendar file holding ``revisions``, one VEVENT each, with its VTIMEZONEs.

    ``name`` marks a feed meant for subscription; ``stamp`` overrides DTSTAMP (a message
    sent by e-mail is stamped when it is made, a published feed when its component last
    changed). Only a ``private`` file (a point's, for its token holder or its invitation)
    carries the meeting's passcode.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(REFRESH).to_ical().decode())
    for revision in revisions:
        calendar.add_component(_event(publisher, revision, attendee, stamp, private))
    span = _timed_span(revisions)
    if span:
        # Only zones that DTSTART/DTEND name get a VTIMEZONE (all-day dates need none),
        # placed before the events, in a fixed order so the bytes never vary.
        for index, tzid in enumerate(sorted(calendar.get_missing_tzids())):
            calendar.subcomponents.insert(index, _vtimezone(tzid, *span))
    return calendar.to_ical()


@functools.lru_cache(maxsize=32)
def _vtimezone(tzid: str, first: date, last: date) -> Timezone:
    # Building a VTIMEZONE walks the zone's rules hour by hour (~0.1 s); the result for a
    # zone and span never changes, and it is only read afterwards, so it is shared.
    return Timezone.from_tzid(tzid, first_date=first, last_date=last)


def _event(
    publisher: Publisher,
    revision: Revision,
    attendee: Attendee | None,
    stamp: datetime | None,
    private: bool,
) -> Event:
    component = revision.component
    event = Event()
    event.add("uid", publisher.uid(component))
    event.add("dtstamp", _utc_seconds(stamp or revision.revised_at))
    event.add("created", _utc_seconds(revision.created_at))
    event.add("last-modified", _utc_seconds(revision.revised_at))
    event.add("sequence", revision.sequence)
    event.add("dtstart", _in_zone(component.start, component.timezone))
    event.add("dtend", _in_zone(component.end, component.timezone))
    event.add("summary", component.summary)
    if component.location:
        event.add("location", component.location)
    passcode = component.passcode if private else ""
    event.add("description", _description(publisher, component, passcode))
    event.add("url", component.url or publisher.public_url)
    if component.conference_url:
        # RFC 7986 5.11; Apple Calendar and Thunderbird show it as a join button.
        label = component.conference_label
        if passcode:
            label += f" · {descriptions.passcode_line(passcode)}"
        parameters = {
            "VALUE": "URI",
            "FEATURE": list(component.conference_features),
            "LABEL": _parameter_text(label),
        }
        event.add("conference", component.conference_url, parameters=parameters)
    event.add("organizer", publisher.organizer())
    if attendee is not None:
        event.add("attendee", attendee.address())
    event.add("status", component.status)
    event.add("transp", "OPAQUE" if component.busy else "TRANSPARENT")
    if component.reminder is not None and component.status != CANCELLED:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", component.summary)
        alarm.add("trigger", -component.reminder)
        event.add_component(alarm)
    return event


def _description(publisher: Publisher, component: Component, passcode: str) -> str:
    text = component.description
    if passcode:  # after the meeting's lines, which end the point's description
        text = f"{text}\n{descriptions.passcode_line(passcode)}"
    if component.status == CANCELLED:
        text = f"{CANCELLED_NOTE}\n\n{text}"
    # Several apps hide the URL property, so the public page is in the text too.
    return f"{text}\n\nTheo dõi trực tiếp: {publisher.public_url}"


def _in_zone(value: datetime | date, timezone: str | None) -> datetime | date:
    if isinstance(value, datetime) and timezone:
        return value.astimezone(ZoneInfo(timezone))
    return value


def _utc_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _timed_span(revisions: Sequence[Revision]) -> tuple[date, date] | None:
    """Return whole years around the timed components, for their VTIMEZONE's transitions."""
    timed = [r.component for r in revisions if not r.component.all_day]
    if not timed:
        return None
    first = min(c.start for c in timed)
    last = max(c.end for c in timed)
    return date(first.year, 1, 1), date(last.year + 1, 1, 1)


def _parameter_text(value: str) -> str:
    # A parameter value may not hold a double quote (RFC 5545 3.1), even when quoted.
    return value.replace('"', "'")
