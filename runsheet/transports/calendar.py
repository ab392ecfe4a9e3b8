"""Calendar files over HTTP: ``/calendar/*.ics`` for downloads and subscriptions.

Each response carries an ETag (a hash of the bytes) and Last-Modified, so calendar apps
that poll a subscription get ``304 Not Modified`` until something really changed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, request

from ..calendar.feeds import published_file
from ..domain.errors import Forbidden
from ..services.actions import POINT_ID
from ..services.tokens import ORGANIZER_ROLE
from .auth import services, token_actor
from .operations import operation

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

CONTENT_TYPE = "text/calendar; charset=utf-8"


def feed(operation_id: str, **details: Any):  # noqa: ANN201
    """Record for the API document that a route serves a calendar file."""
    return operation(
        "calendar",
        "The calendar file.",
        operation_id=operation_id,
        media_type="text/calendar",
        refusals=details.pop("refusals", ("NotModified", "NotFound")),
        note=(
            "An iCalendar file. It carries an ETag and Last-Modified, so a subscribed calendar "
            "app that sends If-None-Match or If-Modified-Since gets 304 until it changed."
        ),
        **details,
    )


@bp.get("/ceremony.ics")
@feed("get_ceremony_calendar")
def ceremony() -> Response:
    """Serve the ceremony as one event."""
    return _serve("ceremony")


@bp.get("/points/<point_id>.ics")
@feed(
    "get_point_calendar",
    parameters={"point_id": POINT_ID},
    refusals=("NotModified", "Unauthenticated", "Forbidden", "NotFound"),
)
def point(point_id: str) -> Response:
    """Serve the ceremony as seen from one connection point.

    With `?token=` (the point's own token, as the link on its page carries, or the
    organizer's) the file also holds the video conference's passcode; any other token is
    refused (401 unknown, 403 another role's or point's). Without a token it is public and
    holds no passcode.
    """
    token = request.args.get("token")
    if token is None:
        return _serve("point", point_id)
    actor = token_actor(token)
    holder = actor.role == ORGANIZER_ROLE or (actor.role == "point" and actor.point_id == point_id)
    if not holder:
        raise Forbidden("this token is not this point's; open the link on the point's page")
    return _serve("point", point_id, private=True)


@bp.get("/agenda.ics")
@feed("get_agenda_calendar")
def agenda() -> Response:
    """Serve one event per programme item (removed items stay, cancelled)."""
    return _serve("agenda")


@bp.get("/week.ics")
@feed("get_week_calendar")
def week() -> Response:
    """Serve the week's activities and deadlines as all-day events."""
    return _serve("week")


def _serve(feed: str, point_id: str | None = None, private: bool = False) -> Response:
    svc = services()
    current = svc.ceremony.current()
    file = published_file(
        svc.store,
        current.event_id,
        current.plan,
        feed,
        point_id,
        svc.calendar_domain,
        svc.base_url,
        svc.ceremony.clock(),
        private=private,
    )
    response = Response(file.body, status=200, content_type=CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    # Always revalidated: a moved start must reach subscribers on their next poll. A file
    # with a passcode is for its holder only: no shared cache may keep it.
    response.headers["Cache-Control"] = "private, no-cache" if private else "public, no-cache"
    response.set_etag(hashlib.sha256(file.body).hexdigest()[:32])
    response.last_modified = file.last_modified
    return response.make_conditional(request)
