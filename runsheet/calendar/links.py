""" "Add to calendar" links: the file download, a webcal:// subscription, Google Calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from ..domain.errors import NotFound
from ..domain.plan import Plan
from . import descriptions

GOOGLE_TEMPLATE = "https://calendar.google.com/calendar/render"
# Google's template link is opened by a browser; very long URLs get cut off by some
# browsers and proxies, so a long programme is left out of the details (the link stays).
MAX_GOOGLE_DETAILS = 1500


def calendar_links(
    plan: Plan, base_url: str, point_id: str | None = None, token: str | None = None
) -> dict[str, str]:
    """Return the ceremony's (or a point's) calendar links: download, webcal and google.

    With the point's ``token``, the file links carry it, and the file the conference's
    passcode; the Google link never does (Google would keep the passcode).
    """
    point = None
    if point_id is not None:
        point = plan.point(point_id)
        if point is None:
            raise NotFound(f"there is no connection point {point_id!r}", field="point_id")
    base = base_url.rstrip("/")
    path = f"/calendar/points/{quote(point.id)}.ics" if point else "/calendar/ceremony.ics"
    download = base + path
    if point is not None and token:
        download += f"?{urlencode({'token': token})}"
    return {
        "download": download,
        "webcal": webcal_url(download),
        "google": google_url(plan, base + "/", point_id),
    }


def webcal_url(url: str) -> str:
    """Return the subscription form of an http(s) URL (webcal:// is read over https or http)."""
    parts = urlsplit(url)
    return urlunsplit(("webcal", parts.netloc, parts.path, parts.query, parts.fragment))


def google_url(plan: Plan, public_url: str, point_id: str | None = None) -> str:
    """Return a Google Calendar link that fills in the ceremony's title, times and details."""
    event = plan.event
    point = plan.point(point_id) if point_id else None
    title = f"{event.title} — {point.name}" if point else event.title
    location = descriptions.point_location(point) if point else descriptions.ceremony_location(plan)
    params = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{_google_time(event.starts_at)}/{_google_time(plan.planned_end)}",
        "details": _google_details(plan, public_url, point_id),
        "location": location,
        "ctz": event.timezone,  # the zone Google shows the times in
    }
    return f"{GOOGLE_TEMPLATE}?{urlencode(params, quote_via=quote)}"


def _google_time(moment: datetime) -> str:
    # Google reads dates=...Z/...Z as UTC instants, whatever the viewer's zone.
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _google_details(plan: Plan, public_url: str, point_id: str | None) -> str:
    event = plan.event
    head = [event.theme] if event.theme else []
    point = plan.point(point_id) if point_id else None
    if point:
        head.append(f"Điểm cầu: {descriptions.point_location(point)}")
    tail = [f"Theo dõi trực tiếp: {public_url}"]
    full = "\n".join([*head, "", "Chương trình:", *descriptions.programme(plan), "", *tail])
    if len(full) <= MAX_GOOGLE_DETAILS:
        return full
    return "\n".join([*head, "", *tail])
