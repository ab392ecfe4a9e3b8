"""The broadcaster: every committed state goes out once per distinct variant, in order.

Every change is broadcast once per distinct variant of the state (one for all public
viewers, one shared by the MC and the points while their messages are the same), from the
``Current`` the service committed: no database read per client.

When the state to send belongs to another event than the one this broadcaster last spoke
of (another event was made active, here or in another process), every client first hears
``event_changed`` ``{slug, title}``: its page reloads, whole, on the new event. Then
``on_switch`` takes this process's clients of the old event out of their rooms (they stay
connected, to reload or be told their token is another event's), so the new event's states
reach none of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ...services.ceremony import CeremonyService, Current
from ...services.snapshot import as_seen_by, public_state_body, state_body
from ...services.tokens import Actor
from .rooms import audiences, room_of

# Sent to every client when the active event changes: {"slug", "title"} of the new one.
EVENT_CHANGED = "event_changed"


class Broadcaster:
    """Send states to this process's clients: a newcomer's first one, then every change."""

    def __init__(self, server: Any, ceremony: CeremonyService, queued: bool) -> None:
        self.server = server
        self.ceremony = ceremony
        self.queued = queued
        # Held while states are sent, so that they leave this process in version order and
        # a client joins its room only after its first state.
        self.send_lock = threading.RLock()
        self._sent: tuple[int, int] | None = None  # (event id, version) last broadcast
        self._caught_up: tuple[int, int] | None = None  # (event id, version) last caught up
        self._announced: int | None = None  # the event whose states this process sends
        # Called (under the send lock) when the event changes, before its first state goes out.
        self.on_switch: Callable[[Current], None] = lambda current: None

    def body(self, actor: Actor, current: Current) -> dict[str, Any]:
        """Return the state JSON for ``actor``, as the HTTP API returns it."""
        return state_body(actor, current, self.ceremony.clock())

    def greet(self, sid: str, actor: Actor) -> None:
        """Send a new client its session and its first state, then let it join its room."""
        with self.send_lock:
            current = self.ceremony.current()
            if not self.queued:
                # Bring everyone to this version first, so that no older state (still on
                # its way from another thread) can reach this client after its first one.
                self._broadcast(current)
            self.server.emit("session", {"role": actor.role, "point_id": actor.point_id}, to=sid)
            self.server.emit("state", self.body(actor, current), to=sid)
            self.server.enter_room(sid, room_of(actor))

    def broadcast(self, current: Current) -> None:
        """Send a committed state to every client, each role its own variant."""
        with self.send_lock:
            self._broadcast(current)

    def announce(self, current: Current, through_queue: bool = True) -> bool:
        """Tell every client ``event_changed`` if ``current`` is of another event; say if so.

        Sent to everyone, through the message queue unless ``through_queue`` is False (a
        process catching up tells only its own clients). A page already on this event
        ignores it, so a repeat (from another process, or after a restart) does no harm.
        """
        with self.send_lock:
            if self._announced == current.event_id:
                return False
            self._announced = current.event_id
            event = current.plan.event
            body = {"slug": event.slug, "title": event.title}
            self.server.emit(EVENT_CHANGED, body, ignore_queue=not through_queue)
            self.on_switch(current)
        return True

    def _broadcast(self, current: Current) -> None:
        if _reached(self._sent, current):
            return  # this version, or a later one, has gone out already
        self.announce(current)
        self._sent = (current.event_id, current.version)
        # The Socket.IO server encodes an emit once for all its rooms' clients.
        for body, rooms in self.variants(current):
            self.server.emit("state", body, to=rooms)

    def catch_up(self) -> bool:
        """Send this process's clients the database's state if the queue may have missed it.

        With a message queue, a change reaches the clients of the process that made it
        directly and the others' through the queue, which loses what it carries while Redis
        restarts. So the database's current state, when this process neither broadcast it
        nor caught up with it already, goes to this process's own rooms only (every process
        catches up its own clients). Say whether it was sent.
        """
        with self.send_lock:
            current = self.ceremony.current()  # under the lock: nothing newer went out since
            if _reached(self._sent, current) or _reached(self._caught_up, current):
                return False
            self._caught_up = (current.event_id, current.version)
            self.announce(current, through_queue=False)
            for body, rooms in self.variants(current):
                self.server.emit("state", body, to=rooms, ignore_queue=True)
        return True

    def variants(self, current: Current) -> list[tuple[dict[str, Any], list[str]]]:
        """Return each distinct state JSON a change sends, with the rooms it goes to.

        The public body is built once and every role's variant derived from it; rooms whose
        variants are equal (the MC and every point while no message is addressed to one of
        them) share one emit, so a change is encoded two or three times, not 15.
        """
        public = public_state_body(current, self.ceremony.clock())
        found: list[tuple[dict[str, Any], list[str]]] = []
        for actor in audiences(current):
            body = as_seen_by(actor, public, current.plan, current.state)
            same = next((rooms for seen, rooms in found if seen == body), None)
            if same is not None:
                same.append(room_of(actor))
            else:
                found.append((body, [room_of(actor)]))
        return found


def _reached(sent: tuple[int, int] | None, current: Current) -> bool:
    """Say whether ``sent`` (event id, version) is ``current``'s version or a later one."""
    return sent is not None and sent[0] == current.event_id and sent[1] >= current.version
