"""The broadcaster: every committed state goes out once per distinct variant, in order.

Every change is broadcast once per distinct variant of the state (one for all public
viewers, one shared by the MC and the points while their messages are the same), from the
``Current`` the service committed: no database read per client. Clients that asked for
patches (``auth.patches: true``, in the rooms ``editions.patch_room`` names) get instead
the RFC 6902 patch from the version before, built once per distinct variant
(``editions.patches``), as ``patch`` ``{"from_version", "version", "ops"}``.

The patch needs the version before's states. The broadcaster keeps the last edition it
sent; when the change was made from another version (another process made the ones in
between), it builds that version's edition from the stored state the change started from
(``Current.previous``). Without either, patch clients get the state whole.

Up to ``FULL_POINTS_LIMIT`` points every change goes to every client, in order, through
the message queue when there is one. Above it (a national conference) changes that come
faster than they can be sent are merged, one send for all of them:

- with a message queue (several processes), states and patches do not go through the
  queue: each process sends its own clients the newest committed state, whichever process
  committed it (a change made here asks for it at once; ``Heartbeat`` watches the stored
  version for the others'), in the background, once for all the changes committed while
  its last send ran (``Coalesced``). Its clients hold the version it last sent, so its
  patches start from there. A check-in storm at 3,500 points on two processes is then a
  send every few dozen milliseconds per process, not one per check-in through Redis to
  every screen;
- without a queue, a change waiting for the one being sent sends, when its turn comes, the
  newest state handed to this process (the others find it sent and return). The patch
  then goes from the last version sent, provided every version in between was this
  process's and skipped (nobody sent it); otherwise from the version before.

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
from ...services.coalesce import Coalesced
from ...services.snapshot import state_body, trims_points
from ...services.tokens import Actor
from .editions import PATCH_SUFFIX, SHARED_POINTS_ROOM, Edition, patch_room, patches
from .rooms import PUBLIC_ROOM, room_of

STATE_EVENT = "state"
PATCH_EVENT = "patch"

# Above the points limit, a process sends its clients the newest state at most this often
# while changes keep coming (each send writes to every one of its clients).
SEND_SPACING_SECONDS = 0.05

# Sent to every client when the active event changes: {"slug", "title"} of the new one.
EVENT_CHANGED = "event_changed"


class Broadcaster:
    """Send states to this process's clients: a newcomer's first one, then every change."""

    def __init__(
        self,
        server: Any,
        ceremony: CeremonyService,
        queued: bool,
        spawn: Callable[..., object] | None = None,
    ) -> None:
        self.server = server
        self.ceremony = ceremony
        self.queued = queued
        # Held while states are sent, so that they leave this process in version order and
        # a client joins its room only after its first state.
        self.send_lock = threading.RLock()
        self._sent_current: Current | None = None  # the state last broadcast
        self._edition: Edition | None = None  # the last version's states sent
        self._announced: int | None = None  # the event whose states this process sends
        self._newest: Current | None = None  # the newest change handed to this process
        self._skipped: set[tuple[int, int]] = set()  # (event id, version) handed, not sent
        self._newest_lock = threading.Lock()
        # Every room this broadcaster has put a client in: the rooms a send may reach are
        # found among these, not among every client's own room (1000 clients, 1000 rooms).
        self._rooms_used: set[str] = set()
        # Called (under the send lock) when the event changes, before its first state goes out.
        self.on_switch: Callable[[Current], None] = lambda current: None
        self._sends_here = Coalesced(
            self._send_newest_here,
            spawn or server.start_background_task,
            "send the newest state",
            spacing=SEND_SPACING_SECONDS,
            sleep=getattr(server, "sleep", None),
        )

    def body(self, actor: Actor, current: Current) -> dict[str, Any]:
        """Return the state JSON for ``actor``, as the HTTP API returns it."""
        return state_body(actor, current, self.ceremony.clock())

    def greet(self, sid: str, actor: Actor, wants_patches: bool = False) -> None:
        """Send a new client its session and its first state, then let it join its room.

        A client that asked for patches joins its role's patch room (and a point's page
        the room of the patches points share) instead of its role's room.
        """
        with self.send_lock:
            current = self.ceremony.current()
            if self._sent_current is None:
                # Nothing sent yet (the process just started): its clients hold the state
                # they were greeted with, so the next send patches from it rather than
                # sending the whole state again to every page that reconnected.
                self._sent_current = current
                self._edition = Edition.build(current, self.ceremony.clock(), current.state)
            if trims_points(current.plan):
                current = self._greeting(current)
            elif not self.queued:
                # Bring everyone to this version first, so that no older state (still on
                # its way from another thread) can reach this client after its first one.
                self._broadcast(current)
            # The client is this process's: its first messages need not cross the queue.
            session = {"role": actor.role, "point_id": actor.point_id}
            self.server.emit("session", session, to=sid, ignore_queue=True)
            self.server.emit(STATE_EVENT, self.body(actor, current), to=sid, ignore_queue=True)
            room = room_of(actor)
            if not wants_patches:
                self._enter(sid, room)
                return
            self._enter(sid, patch_room(room))
            if actor.role == "point":
                self._enter(sid, SHARED_POINTS_ROOM)

    def _enter(self, sid: str, room: str) -> None:
        self._rooms_used.add(room)
        self.server.enter_room(sid, room)

    def _greeting(self, current: Current) -> Current:
        """Return the state to greet a client with above the points limit.

        The state this process last sent, which its rooms' clients hold, so that the next
        send's patches apply to the newcomer's too; a newer one follows with that send.
        (Sending everyone the newest state first, as up to the limit, would make a crowd
        of pages connecting one whole send each.)
        """
        sent = self._sent_current
        if sent is None or sent.event_id != current.event_id or sent.version >= current.version:
            return current
        if self.queued:
            self.send_soon()
        return sent

    def broadcast(self, current: Current) -> None:
        """Send a committed state to every client, each role its own variant.

        Up to ``FULL_POINTS_LIMIT`` points every change goes out, in order (through the
        queue when there is one). Above it changes that come faster than they can be sent
        are merged (see the module's docstring): with a queue, this process sends its own
        clients the newest state in the background (``send_soon``); without, the change
        waiting its turn sends the newest state handed to this process.
        """
        if not trims_points(current.plan):
            with self.send_lock:
                self._broadcast(current)
            return
        if self.queued:
            self.send_soon()
            return
        with self._newest_lock:
            newest = self._newest
            if (
                newest is None
                or newest.event_id != current.event_id
                or (current.version > newest.version)
            ):
                self._newest = current
            self._skipped.add((current.event_id, current.version))
        with self.send_lock:
            with self._newest_lock:
                newest = self._newest
            self._broadcast(newest if newest is not None else current)

    def send_soon(self) -> None:
        """Send this process's clients the newest committed state, in the background.

        Once more after the send under way, if one is: every change committed before a
        send starts is in it.
        """
        self._sends_here.request()

    def _send_newest_here(self) -> None:
        with self.send_lock:
            current = self.ceremony.current()
            if trims_points(current.plan):  # up to the limit, the queue carries every change
                self._send_here(current)

    def _send_here(self, current: Current) -> bool:
        """Send ``current`` to this process's own clients unless they have it; say if sent.

        Under the send lock. Patches go from the last version this process sent, which its
        patch clients hold.
        """
        if _reached(self._sent_current, current):
            return False
        self._sent_current = current
        self.announce(current, through_queue=False)
        edition = Edition.build(current, self.ceremony.clock())
        self._send(edition, self._edition, ignore_queue=True)
        return True

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
        if _reached(self._sent_current, current):
            return  # this version, or a later one, has gone out already
        self.announce(current)
        self._sent_current = current
        edition = Edition.build(current, self.ceremony.clock())
        before = self._edition
        if (
            not edition.follows(before)
            and not self._only_skipped_since(before, current)
            and self._patches_wanted(self._reach(ignore_queue=False))
        ):
            previous = current.previous_state()
            if previous is not None:
                before = Edition.build(current, self.ceremony.clock(), previous)
        self._send(edition, before)

    def _only_skipped_since(self, before: Edition | None, current: Current) -> bool:
        """Say whether every version after ``before`` up to ``current`` was handed here.

        Then nobody sent those versions (this process made them, and skipped them to send
        ``current``): its clients hold ``before``, and the patch goes from it. Forget the
        versions up to ``current``.
        """
        with self._newest_lock:
            skipped = self._skipped
            self._skipped = {
                (event_id, version)
                for event_id, version in skipped
                if event_id == current.event_id and version > current.version
            }
        if before is None or before.event_id != current.event_id:
            return False
        return all(
            (current.event_id, version) in skipped
            for version in range(before.version + 1, current.version)
        )

    def _send(self, edition: Edition, before: Edition | None, **options: Any) -> None:
        """Send ``edition`` to every room: states to state rooms, patches to patch rooms.

        Above the points limit every point's state is its own, so points' states go only to
        this process's rooms that have clients, past the queue: the other processes' point
        pages that take whole states get theirs at their next heartbeat (``catch_up``).
        What goes only to this process's clients goes only to the rooms that have some: an
        emit builds its packet (the MC's state is 757 KB at 3,500 points) even for a room
        nobody is in.
        """
        local = self._local_rooms()
        reach = self._reach(options.get("ignore_queue", False), local)
        found = None
        if _same_event(before, edition) and self._patches_wanted(reach):
            found = patches(before, edition)
        if edition.trimmed:
            own_options = {**options, "ignore_queue": True} if self.queued else options
            shared = edition.states(set())  # the public and the MC's states
            self._send_states(shared, found is None, options, reach)
            point_rooms = local
            if found is not None and local is not None:  # patch rooms get patches
                point_rooms = {room for room in local if not room.endswith(PATCH_SUFFIX)}
            points = edition.states(point_rooms)[len(shared) :]
            self._send_states(points, found is None, own_options, local)
        else:  # the viewers first: the others' states are built meanwhile, not before
            self._send_states([(edition.public, [PUBLIC_ROOM])], found is None, options, reach)
            self._send_states(edition.others(), found is None, options, reach)
        if found is not None:
            for ops, rooms in found:
                rooms = _within(rooms, reach)
                if rooms:
                    message = {"from_version": before.version, "version": edition.version}
                    message["ops"] = ops
                    self.server.emit(PATCH_EVENT, message, to=rooms, **options)
        self._edition = edition

    def _send_states(
        self,
        states: list[tuple[dict[str, Any], list[str]]],
        to_patch_rooms: bool,
        options: Any,
        reach: set[str] | None,
    ) -> None:
        # The Socket.IO server encodes an emit once for all its rooms' clients.
        for body, rooms in states:
            if to_patch_rooms:  # no patch to make: patch clients get the state whole too
                rooms = rooms + [patch_room(room) for room in rooms]
            rooms = _within(rooms, reach)
            if rooms:
                self.server.emit(STATE_EVENT, body, to=rooms, **options)

    def _reach(self, ignore_queue: bool, local: set[str] | None = None) -> set[str] | None:
        """Return the rooms a send reaches: this process's (``local``, found if not given)
        when it bypasses the queue or there is none, else None (every process's)."""
        if ignore_queue or not self.queued:
            return local if local is not None else self._local_rooms()
        return None

    @staticmethod
    def _patches_wanted(reach: set[str] | None) -> bool:
        """Say whether a patch could reach anyone: a client in reach asked for patches.

        Patches are built only then (at 13 points, a fifth of a change's work in this
        process): with every client in reach taking whole states, none is made. Through
        the message queue (``reach`` None) other processes' clients may want them.
        """
        return reach is None or any(room.endswith(PATCH_SUFFIX) for room in reach)

    def _local_rooms(self) -> set[str] | None:
        """Return the rooms of states and patches that have clients of this process in them
        (None if the server cannot tell)."""
        rooms = getattr(getattr(self.server, "manager", None), "rooms", None)
        if not isinstance(rooms, dict):
            return None
        here = rooms.get("/", {})
        return {room for room in self._rooms_used if here.get(room)}

    def catch_up(self) -> bool:
        """Send this process's clients the database's state if they lack it; say if sent.

        The heartbeat's safety net: a change this process was not told of in time (the
        watch missed it, a send failed) reaches its clients at the next beat.
        """
        with self.send_lock:
            return self._send_here(self.ceremony.current())

    def variants(self, current: Current) -> list[tuple[dict[str, Any], list[str]]]:
        """Return each distinct state JSON a change sends, with the rooms it goes to."""
        return Edition.build(current, self.ceremony.clock()).states(None)


def _within(rooms: list[str], reach: set[str] | None) -> list[str]:
    """Return the rooms of ``rooms`` in ``reach`` (every one when ``reach`` is None)."""
    return rooms if reach is None else [room for room in rooms if room in reach]


def _same_event(before: Edition | None, after: Edition) -> bool:
    return (
        before is not None and before.event_id == after.event_id and before.version < after.version
    )


def _reached(sent: Current | None, current: Current) -> bool:
    """Say whether ``sent`` is ``current``'s version, or a later one, of the same event."""
    return (
        sent is not None and sent.event_id == current.event_id and sent.version >= current.version
    )
