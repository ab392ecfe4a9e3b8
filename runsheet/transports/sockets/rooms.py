"""The rooms states go to: one per event and variant of the state (public, the MC, each point).

A room belongs to one event: when another event is made active, the clients still in the
old event's rooms (pages that have not reloaded yet, a client that ignores
``event_changed``) receive none of the new event's states, so no screen mixes two events.
"""

from __future__ import annotations

from ...services.ceremony import Current
from ...services.tokens import PUBLIC, Actor

PUBLIC_ROOM = "public"
MC_ROOM = "mc"


def point_room(point_id: str) -> str:
    """Return the variant room of a point's pages."""
    return f"point:{point_id}"


def room_of(actor: Actor, event_id: int) -> str:
    """Return the room whose variant of the event's state ``actor`` receives."""
    if actor.runs_ceremony:  # the organizer sees what the MC sees
        variant = MC_ROOM
    elif actor.role == "point":
        variant = point_room(actor.point_id)
    else:
        variant = PUBLIC_ROOM
    return f"event:{event_id}:{variant}"


def audiences(current: Current) -> list[Actor]:
    """Return one actor of each role that receives its own variant of the state."""
    actors = [PUBLIC, Actor("mc")]
    return actors + [Actor("point", point.id) for point in current.plan.points]
