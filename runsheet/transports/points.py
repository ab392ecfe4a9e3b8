"""The points of a group over HTTP (``GET /api/v1/points?group=``), for big plans' pages.

Above 200 points a viewer's state carries the groups' counts, not the points
(``services.snapshot``); the public page fetches a group's points when someone opens it.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..domain.errors import InvalidInput
from ..plans.schema import Invalid, group_path
from ..services.snapshot import points_seen_by, server_time
from ..services.tokens import PUBLIC
from .auth import PAGE_HEADER, api_actor, services
from .operations import operation

bp = Blueprint("points", __name__, url_prefix="/api/v1")


@bp.get("/points")
@operation(
    "state",
    "The points asked for.",
    answers="PointList",
    callers="anyone_or_token",
    refusals=("Invalid", "Unauthenticated", "NotFound"),
)
def get_points():  # noqa: ANN201
    """List the points of one group, or every point.

    `?group=Tỉnh Lâm Đồng` gives that group's points, its sub-groups' too (spaces around
    each `/` do not matter); without it, every point. With the MC's or the organizer's
    token each point carries its link health. An unknown group is refused with 404.
    """
    asks_as_holder = request.headers.get("Authorization") or request.headers.get(PAGE_HEADER)
    actor = api_actor(required=False) if asks_as_holder else PUBLIC
    group = request.args.get("group")
    if group is not None:
        try:
            group = group_path(group)
        except Invalid as error:
            raise InvalidInput(f"group: {error}", field="group") from None
    ceremony = services().ceremony
    current = ceremony.current()
    points = points_seen_by(actor, current.plan, current.state, group)
    return jsonify(
        {
            "version": current.version,
            "server_time": server_time(current.plan, ceremony.clock()),
            "group": group,
            "points": points,
        }
    )
