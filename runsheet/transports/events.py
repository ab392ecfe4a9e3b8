"""The organizer's events over HTTP: list, create, switch the active one, archive, restore.

Routes under ``/api/v1/events``, for the organizer only (another token: 403; none: 401).
Each translates to ``services.events``; a switch reaches every open page through the
sockets' ``event_changed``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..domain.errors import Forbidden, InvalidInput
from ..domain.plan import MAX_ID_LENGTH
from ..plans.schema import ID, TEXT
from ..services import events
from ..services.payloads import Field
from ..services.tokens import ORGANIZER_ROLE, Actor
from .api import json_payload
from .auth import api_actor, services
from .operations import operation

bp = Blueprint("events", __name__, url_prefix="/api/v1/events")

SLUG = Field(
    str,
    max_length=MAX_ID_LENGTH,
    description="The event's slug (`event.slug` of its plan).",
)

CREATE_BODY = {
    "type": "object",
    "properties": {
        "slug": {**ID, "description": "The new event's slug: a new one, not taken."},
        "title": {**TEXT, "description": "Its title; left out: from what it starts from."},
        "from": {
            "enum": list(events.SOURCES),
            "description": (
                "`blank`: one point and one item, tomorrow at 08:00; `template`: the built-in "
                "plan, moved to tomorrow; `duplicate`: a copy of the plan of `source`. "
                "Left out: `blank`."
            ),
        },
        "source": {**ID, "description": 'The event to copy (only with "from": "duplicate").'},
    },
    "required": ["slug"],
    "additionalProperties": False,
}

ORGANIZER_REFUSALS = ("Unauthenticated", "Forbidden", "NotFound", "Conflict")


def _organizer() -> Actor:
    """Refuse anyone but the organizer: 401 without a token, 403 with another role's."""
    actor = api_actor()
    if actor.role != ORGANIZER_ROLE:
        raise Forbidden("only the organizer may list, create or switch events")
    return actor


def _no_body() -> None:
    """Refuse a body a route does not read (it may be left out, or be ``{}``)."""
    if json_payload():
        raise InvalidInput("this request takes no body; send none, or {}")


@bp.get("")
@operation(
    "events",
    "Every event.",
    operation_id="list_events",
    answers="EventList",
    callers="token",
    refusals=("Unauthenticated", "Forbidden"),
)
def list_events():  # noqa: ANN201
    """List the events of the installation (organizer).

    Oldest first, each with its slug, title, start, and whether it is the active one or
    archived.
    """
    _organizer()
    listed = events.list_events(services().store)
    return jsonify({"events": [event.as_dict() for event in listed]})


@bp.post("")
@operation(
    "events",
    "The new event (not active).",
    operation_id="create_event",
    answers="EventEntry",
    callers="token",
    status=201,
    body=CREATE_BODY,
    refusals=("Invalid", *ORGANIZER_REFUSALS, "InvalidEvent"),
)
def create_event():  # noqa: ANN201
    """Create an event (organizer).

    Blank, from the built-in template plan, or as a copy of another event's plan; with its
    own slug, fresh tokens and a clean state. It is not made active: activate it when it is
    ready. A slug already taken is refused with 409; a slug, title or source that cannot be
    used with 422, naming the field.
    """
    actor = _organizer()
    request = events.parse_new_event(json_payload())
    svc = services()
    created = events.create_event(svc.store, svc.secret_key, request, svc.ceremony.clock(), actor)
    response = jsonify(created.as_dict())
    response.status_code = 201
    return response


@bp.post("/<slug>/activate")
@operation(
    "events",
    "The event, now the active one.",
    operation_id="activate_event",
    answers="EventEntry",
    callers="token",
    parameters={"slug": SLUG},
    refusals=("Invalid", *ORGANIZER_REFUSALS),
)
def activate_event(slug: str):  # noqa: ANN201
    """Make an event the active one (organizer).

    Every open page moves to it at once: the sockets send `event_changed` `{slug, title}`
    and the pages reload; the MC's and the points' links of the event before say that they
    belong to it. An archived event is refused with 409 until it is restored. The organizer's
    own link keeps working (an organizer token holds for every event).
    """
    actor = _organizer()
    _no_body()
    svc = services()
    return jsonify(events.activate_event(svc.store, svc.ceremony, slug, actor).as_dict())


@bp.post("/<slug>/archive")
@operation(
    "events",
    "The event, archived.",
    operation_id="archive_event",
    answers="EventEntry",
    callers="token",
    parameters={"slug": SLUG},
    refusals=("Invalid", *ORGANIZER_REFUSALS),
)
def archive_event(slug: str):  # noqa: ANN201
    """Archive an event (organizer).

    It stays listed, as archived, with its runs and calendar; it cannot be made active
    until restored. The active event cannot be archived (409).
    """
    actor = _organizer()
    _no_body()
    return jsonify(events.archive_event(services().store, slug, actor).as_dict())


@bp.post("/<slug>/restore")
@operation(
    "events",
    "The event, no longer archived.",
    operation_id="restore_event",
    answers="EventEntry",
    callers="token",
    parameters={"slug": SLUG},
    refusals=("Invalid", "Unauthenticated", "Forbidden", "NotFound"),
)
def restore_event(slug: str):  # noqa: ANN201
    """Restore an archived event (organizer), so that it may be made active again."""
    actor = _organizer()
    _no_body()
    return jsonify(events.restore_event(services().store, slug, actor).as_dict())
