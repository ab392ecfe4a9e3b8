"""The four published calendar files: ceremony, one per point, the programme, the week.

A point's file also holds the deadlines that point must deliver by (``deadlines[].points``).

Each file is rendered from the components recorded for the event (see ``sequences``), not
from the plan alone, so a programme item that left the plan still appears, cancelled.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from ..domain.errors import NotFound
from ..domain.plan import Plan
from ..storage.store import Store
from .components import FEED_KINDS, sort_key
from .ics import build_calendar, publisher_for
from .sequences import Revision, Revisions, ensure_recorded

FEEDS = ("ceremony", "point", "agenda", "week")


@dataclass(frozen=True)
class CalendarFile:
    """A rendered calendar file and what an HTTP response needs to describe it."""

    filename: str
    body: bytes
    last_modified: datetime


def feed_revisions(
    revisions: Revisions, feed: str, point_id: str | None = None, plan: Plan | None = None
) -> list[Revision]:
    """Return the components a feed holds, in order; raise NotFound for an unknown point.

    A point's file holds the ceremony as seen from it and the deadlines it must deliver
    by: the same all-day events (same UID, same SEQUENCE) as in the week's file, since
    Google, Outlook and Apple Calendar import VEVENTs from a subscription but not VTODOs.
    """
    if feed == "ceremony":
        chosen = [revisions["ceremony"]] if "ceremony" in revisions else []
    elif feed == "point":
        key = f"point:{point_id}"
        if key not in revisions:
            raise NotFound(f"there is no connection point {point_id!r}", field="point_id")
        chosen = [revisions[key]]
        if plan is not None and point_id is not None:
            owed = (f"deadline:{d.id}" for d in plan.deadlines_of(point_id))
            chosen += [revisions[k] for k in owed if k in revisions]
    elif feed in FEED_KINDS:
        chosen = [r for r in revisions.values() if r.component.kind in FEED_KINDS[feed]]
    else:
        raise NotFound(f"there is no calendar named {feed!r}")
    return sorted(chosen, key=lambda r: sort_key(r.component))


def feed_name(plan: Plan, feed: str, revisions: list[Revision]) -> str:
    """Return the name a subscribed calendar shows for this feed."""
    title = plan.event.title
    if feed == "point" and revisions:
        point = next(r for r in revisions if r.component.kind == "point")
        return point.component.summary
    if feed == "agenda":
        return f"Chương trình — {title}"
    if feed == "week":
        return f"Hoạt động và thời hạn — {title}"
    return title


def feed_filename(plan: Plan, feed: str, point_id: str | None = None) -> str:
    """Return the file name offered for download, e.g. ``<slug>-agenda.ics``."""
    parts = [plan.event.slug]
    if feed == "point":
        parts.append(str(point_id))
    elif feed != "ceremony":
        parts.append(feed)
    # Ids are ASCII slugs already; this keeps the header safe whatever a stored id holds.
    return re.sub(r"[^A-Za-z0-9._-]", "_", "-".join(parts)) + ".ics"


def calendar_file(
    plan: Plan,
    revisions: Revisions,
    feed: str,
    point_id: str | None,
    domain: str,
    base_url: str,
    private: bool = False,
) -> CalendarFile:
    """Render one feed as a METHOD:PUBLISH file (``private``: with the point's passcode)."""
    chosen = feed_revisions(revisions, feed, point_id, plan)
    if not chosen:
        raise NotFound(f"the plan has nothing for the {feed} calendar")
    return _render(plan, tuple(chosen), feed, point_id, domain, base_url, private)


@functools.lru_cache(maxsize=64)
def _render(
    plan: Plan,
    chosen: tuple[Revision, ...],
    feed: str,
    point_id: str | None,
    domain: str,
    base_url: str,
    private: bool,
) -> CalendarFile:
    # The bytes depend only on these arguments, and subscribed apps poll the same few
    # files again and again, so the last renderings are kept (icalendar's output is slow).
    body = build_calendar(
        publisher_for(plan, domain, base_url),
        chosen,
        method="PUBLISH",
        name=feed_name(plan, feed, list(chosen)),
        private=private,
    )
    return CalendarFile(
        filename=feed_filename(plan, feed, point_id),
        body=body,
        last_modified=max(r.revised_at for r in chosen),
    )


def published_file(
    store: Store,
    event_id: int,
    plan: Plan,
    feed: str,
    point_id: str | None,
    domain: str,
    base_url: str,
    now: datetime,
    private: bool = False,
) -> CalendarFile:
    """Return an event's feed as published now (``private``: a point's, with its passcode)."""
    revisions = ensure_recorded(store, event_id, plan, now)
    return calendar_file(plan, revisions, feed, point_id, domain, base_url, private)
