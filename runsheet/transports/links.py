"""Every role's link, for the organizer: list them, and rotate one role's token.

``GET /api/v1/links`` answers what ``runsheet links --json`` prints. ``POST
/api/v1/links/rotate`` gives one role (the organizer, the MC, every point, or one point) a new
token: its old link stops working at once, over HTTP at once and on this process's open
sockets at once (they are disconnected; other processes drop theirs on their next
heartbeat), and every other link keeps working.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..domain.errors import Forbidden, InvalidInput
from ..domain.plan import MAX_ID_LENGTH
from ..services.payloads import Field, parse_payload
from ..services.plans import role_links, rotate_tokens
from ..services.tokens import Actor
from .api import json_payload
from .auth import api_actor, services
from .operations import operation
from .sockets.handlers import EXTENSION as SOCKETS

bp = Blueprint("links", __name__, url_prefix="/api/v1/links")

ROTATE_FIELDS = {
    "role": Field(
        str,
        required=True,
        max_length=20,
        choices=("organizer", "mc", "point"),
        description="Whose link gets a new token.",
    ),
    "point_id": Field(
        str,
        max_length=MAX_ID_LENGTH,
        description="With role `point`: only this point's link (left out: every point's).",
    ),
}

ROTATE_BODY = {
    "type": "object",
    "properties": {
        "role": {"enum": ["organizer", "mc", "point"], "description": "Whose link changes."},
        "point_id": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_ID_LENGTH,
            "description": "With role `point`: only this point's (left out: every point's).",
        },
    },
    "required": ["role"],
    "additionalProperties": False,
}

ORGANIZER_REFUSALS = ("Unauthenticated", "Forbidden")


def organizer_actor() -> Actor:
    """Return the caller if it is the organizer: 401 without a token, 403 with another's."""
    actor = api_actor()
    if actor.role != "organizer":
        raise Forbidden("only the organizer may do this")
    return actor


@bp.get("")
@operation(
    "service",
    "Every role's link.",
    operation_id="list_links",
    answers="RoleLinks",
    callers="token",
    refusals=ORGANIZER_REFUSALS,
)
def list_links():  # noqa: ANN201
    """List every role's link with its token (organizer).

    The organizer's, the MC's, each point's, the public page's and the stage display's, as
    `runsheet links --json` prints them.
    """
    organizer_actor()
    svc = services()
    plan = svc.ceremony.current().plan
    return jsonify(role_links(svc.store, plan, svc.secret_key, svc.base_url).as_dict())


@bp.post("/rotate")
@operation(
    "service",
    "Every role's link, the rotated one new.",
    operation_id="rotate_link",
    answers="RoleLinks",
    callers="token",
    body=ROTATE_BODY,
    refusals=("Invalid", *ORGANIZER_REFUSALS, "NotFound"),
)
def rotate_link():  # noqa: ANN201
    """Give one role's link a new token (organizer).

    That role's old link stops working at once: requests with it are refused and its open
    pages are disconnected. Every other link keeps working. `point` without `point_id`
    changes every point's link. Rotating the organizer's own link ends this caller's token
    too: use the `organizer` link in the answer from now on.
    """
    actor = organizer_actor()
    args = parse_payload(json_payload(), ROTATE_FIELDS)
    if "point_id" in args and args["role"] != "point":
        raise InvalidInput("point_id: only the point role has one", field="point_id")
    svc = services()
    current = svc.ceremony.current()
    slug = current.plan.event.slug
    now = svc.ceremony.clock()
    rotate_tokens(svc.store, slug, svc.secret_key, now, args["role"], args.get("point_id"), actor)
    _disconnect_revoked(current.event_id)
    links = role_links(svc.store, current.plan, svc.secret_key, svc.base_url)
    return jsonify(links.as_dict())


def _disconnect_revoked(event_id: int) -> None:
    """Close this process's sockets whose token no longer holds."""
    live = current_app.extensions.get(SOCKETS)
    if live is None:
        return
    for sid in live.clients.revoked(event_id):
        live.server.disconnect(sid)
