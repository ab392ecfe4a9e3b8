"""The rooms states go to: one per variant of the state (public, the MC, each point)."""

from __future__ import annotations

from ...services.ceremony import Current
from ...services.tokens import PUBLIC, Actor

PUBLIC_ROOM = "public"
MC_ROOM = "mc"


def point_room(point_id: str) -> str:
    """Return the room of a point's pages."""
    return f"point:{point_id}"


def room_of(actor: Actor) -> str:
    """Return the room whose variant of the state ``actor`` receives."""
    if actor.runs_ceremony:  # the organizer sees what the MC sees
        return MC_ROOM
    if actor.role == "point":
        return point_room(actor.point_id)
    return PUBLIC_ROOM


def audiences(current: Current) -> list[Actor]:
    """Return one actor of each role that receives its own variant of the state."""
    actors = [PUBLIC, Actor("mc")]
    return actors + [Actor("point", point.id) for point in current.plan.points]
