"""One version's states for every room, and the patches from the version before.

An ``Edition`` holds the state JSON of every room at one version, built once per change:
the public body, the MC's, and the points'. Up to ``FULL_POINTS_LIMIT`` points those are a
handful of distinct bodies shared by rooms (``variants``). Above it each point's state is
the public one plus its own parts (``snapshot.own_parts``), so an edition keeps only the
public and the MC's bodies and composes a point's when it is asked for.

``patches(before, after)`` returns each distinct patch with the rooms it goes to. Above
the limit a change touches few points (a check-in: one), so the points whose own parts are
unchanged share one patch (sent to ``SHARED_POINTS_ROOM``, which every point page asking
for patches joins), and a point whose own parts changed is sent its own patch first; it
then ignores the shared one, whose version it already holds. So a check-in at 3,500
points is two patches in all for every point, not 3,500.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from ...services.ceremony import Current
from ...services.snapshot import (
    as_seen_by,
    own_parts,
    public_state_body,
    trims_points,
)
from ...services.state_patch import Operation, json_patch, state_patch
from ...services.tokens import Actor
from .rooms import MC_ROOM, PUBLIC_ROOM, audiences, point_room, room_of

PATCH_SUFFIX = "#patches"
SHARED_POINTS_ROOM = "points" + PATCH_SUFFIX
OWN_KEYS = ("points", "messages", "roll_call")


def patch_room(room: str) -> str:
    """Return the room of the clients of ``room`` that receive patches instead of states."""
    return room + PATCH_SUFFIX


@dataclass
class Edition:
    """Every room's state at one version.

    The public state is built with the edition; the MC's and the points' when first asked
    for, so that a change can reach the viewers (most of the clients) before they are.
    """

    current: Current
    trimmed: bool  # above FULL_POINTS_LIMIT: points' bodies are composed on demand
    public: dict[str, Any]
    point_ids: tuple[str, ...] = ()
    as_sent: bool = True  # False: built again for a version sent before, at another time

    @classmethod
    def build(cls, current: Current, now: datetime, state: Any = None) -> Edition:
        """Build the edition of ``current`` (or of ``state``, another version of its plan)."""
        plan = current.plan
        current = Current(current.event_id, plan, state if state is not None else current.state)
        return cls(
            current,
            trims_points(plan),
            public_state_body(current, now),
            point_ids=tuple(p.id for p in plan.points),
            as_sent=state is None,
        )

    @property
    def event_id(self) -> int:
        """Return the id of the event whose state this is."""
        return self.current.event_id

    @property
    def version(self) -> int:
        """Return the version of the state."""
        return self.current.version

    @cached_property
    def mc(self) -> dict[str, Any]:
        """Return the MC's state (the organizer's too)."""
        return as_seen_by(Actor("mc"), self.public, self.current.plan, self.current.state)

    @cached_property
    def variants(self) -> list[tuple[dict[str, Any], list[str]]]:
        """Return each distinct body and its rooms, the public one first (up to the limit;
        above it, none: points' bodies are composed on demand)."""
        return [] if self.trimmed else _variants(self.current, self.public, self.mc)

    def others(self) -> list[tuple[dict[str, Any], list[str]]]:
        """Return every distinct body but the public one, with its rooms (up to the limit)."""
        first, *rest = self.variants
        assert first[1] == [PUBLIC_ROOM]  # no other role's state is ever the public one
        return rest

    def follows(self, other: Edition | None) -> bool:
        """Say whether ``other`` is the version just before this one, of the same event."""
        return (
            other is not None
            and other.event_id == self.event_id
            and other.version == self.version - 1
        )

    def body_of(self, room: str) -> dict[str, Any]:
        """Return the state JSON the clients of ``room`` receive."""
        if room == PUBLIC_ROOM:
            return self.public
        if room == MC_ROOM:
            return self.mc
        if not self.trimmed:
            return next(body for body, rooms in self.variants if room in rooms)
        point_id = room.removeprefix(point_room(""))
        index = self.point_ids.index(point_id)  # greeting one client: a scan is fine
        return {**self.public, **own_parts(self.mc, index, point_id)}

    def states(self, local_rooms: set[str] | None) -> list[tuple[dict[str, Any], list[str]]]:
        """Return each distinct full state with the rooms it goes to.

        Above the limit a point's state differs from every other's, so points' states go
        only to the rooms in ``local_rooms`` (this process's, when it knows them; an empty
        set: the public and the MC's states only). A point's state names its state room;
        the caller adds the patch room when patch clients need the state whole.
        """
        if not self.trimmed:
            return self.variants
        found = [(self.public, [PUBLIC_ROOM]), (self.mc, [MC_ROOM])]
        if local_rooms is not None and not local_rooms:
            return found
        for index, point_id in enumerate(self.point_ids):
            room = point_room(point_id)
            if local_rooms is None or room in local_rooms or patch_room(room) in local_rooms:
                found.append(({**self.public, **own_parts(self.mc, index, point_id)}, [room]))
        return found


def _variants(
    current: Current, public: dict[str, Any], mc: dict[str, Any]
) -> list[tuple[dict[str, Any], list[str]]]:
    """Return each distinct state of a plan within the limit, with the rooms it goes to.

    Rooms whose states are equal (the MC and every point while no message is addressed to
    one of them) share one body, so a change is encoded two or three times, not 15.
    """
    found: list[tuple[dict[str, Any], list[str]]] = []
    for actor in audiences(current):
        if actor.role == "public":
            body = public
        elif actor.runs_ceremony:
            body = mc
        else:
            body = as_seen_by(actor, public, current.plan, current.state)
        same = next((rooms for seen, rooms in found if seen == body), None)
        if same is not None:
            same.append(room_of(actor))
        else:
            found.append((body, [room_of(actor)]))
    return found


def patches(before: Edition, after: Edition) -> list[tuple[list[Operation], list[str]]] | None:
    """Return each distinct patch from ``before`` to ``after``, with the rooms it goes to.

    The rooms are patch rooms (``patch_room``); points' own patches come before the
    shared one, which the points that received their own then ignore. None when the plan
    changed which points there are: then every page gets the new state whole.
    """
    if before.trimmed != after.trimmed or before.point_ids != after.point_ids:
        return None
    found: dict[str, tuple[list[Operation], list[str]]] = {}

    def add(ops: list[Operation], room: str) -> None:
        key = json.dumps(ops, sort_keys=True, default=str)
        found.setdefault(key, (ops, []))[1].append(patch_room(room))

    exact = before.as_sent
    add(state_patch(before.public, after.public, exact), PUBLIC_ROOM)
    add(state_patch(before.mc, after.mc, exact), MC_ROOM)
    if not after.trimmed:
        made: dict[tuple[int, int], list[Operation]] = {}
        for body, rooms in after.variants:
            for room in rooms:
                if room in (PUBLIC_ROOM, MC_ROOM):
                    continue
                old = before.body_of(room)
                pair = (id(old), id(body))
                if pair not in made:
                    made[pair] = state_patch(old, body, exact)
                add(made[pair], room)
        return list(found.values())
    shared = _shared_point_ops(before, after)
    for index, point_id in _points_with_own_changes(before, after):
        mine = own_parts(after.mc, index, point_id)
        theirs = own_parts(before.mc, index, point_id)
        own = [op for key in OWN_KEYS for op in json_patch_at(key, theirs[key], mine[key])]
        add(shared + own, point_room(point_id))
    found.setdefault("shared", (shared, [SHARED_POINTS_ROOM]))
    return list(found.values())


def json_patch_at(key: str, before: Any, after: Any) -> list[Operation]:
    """Return the operations turning the value at ``/key`` from ``before`` to ``after``."""
    return [{**op, "path": f"/{key}{op['path']}"} for op in json_patch(before, after)]


def _shared_point_ops(before: Edition, after: Edition) -> list[Operation]:
    """Return the patch of the public part of every point's state (their own parts aside)."""
    strip = {key: None for key in OWN_KEYS}  # both sides: the own keys compare equal
    return state_patch({**before.public, **strip}, {**after.public, **strip}, before.as_sent)


def _points_with_own_changes(before: Edition, after: Edition) -> list[tuple[int, str]]:
    """Return (index, id) of each point whose own parts differ between the two editions."""
    old, new = before.mc, after.mc
    everyone = old["messages"] != new["messages"]
    roll_old, roll_new = old["roll_call"], new["roll_call"]
    if roll_old is None or roll_new is None:
        everyone = everyone or roll_old is not roll_new
        answers_old = answers_new = {}
    else:
        answers_old, answers_new = roll_old["answers"], roll_new["answers"]
        bare = {"answers": None}
        everyone = everyone or {**roll_old, **bare} != {**roll_new, **bare}
    old_points, new_points = old["points"], new["points"]
    return [
        (index, point_id)
        for index, point_id in enumerate(after.point_ids)
        if everyone
        or (old_points[index] is not new_points[index] and old_points[index] != new_points[index])
        or answers_old.get(point_id) != answers_new.get(point_id)
    ]
