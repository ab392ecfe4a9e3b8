"""The app's live sockets: the clients, the broadcaster and the heartbeat of one app.

One ``LiveSockets`` per app (in ``app.extensions``) admits and forgets clients; the
handlers call it, the ceremony service's subscription broadcasts through it.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import Any

from flask import Flask

from ...services import Services
from ...services.presence import PresenceKeeper, heartbeat_interval
from .broadcast import Broadcaster
from .clients import Clients, wants_patches
from .heartbeat import Heartbeat
from .settings import DEFAULTS

logger = logging.getLogger(__name__)


class LiveSockets:
    """The app's sockets: who is connected, what was last broadcast, and the heartbeat."""

    def __init__(self, app: Flask, server: Any) -> None:
        self.app = app
        # The python-socketio server bound to this app; kept here rather than read from the
        # shared ``socketio`` object, which a later ``create_app`` would rebind.
        self.server = server
        self.services: Services = app.extensions["runsheet"]
        self.settings = {name: app.config.get(name, value) for name, value in DEFAULTS.items()}
        ceremony = self.services.ceremony
        process_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # Background tasks and sleeping come from the Socket.IO server (threads or green
        # threads, as its async mode); the bookkeeping is the service layer's.
        self.presence = PresenceKeeper(
            self.services, process_id, server.start_background_task, server.sleep
        )
        self.clients = Clients(self.services.store, self.settings)
        self.broadcaster = Broadcaster(server, ceremony, bool(app.config.get("MESSAGE_QUEUE")))
        self.broadcaster.on_switch = self.leave_old_event
        self.heartbeat = Heartbeat(
            server,
            ceremony,
            self.clients,
            self.broadcaster,
            self.presence,
            heartbeat_interval(ceremony.presence_grace),
        )

    def connect(self, sid: str, auth: Any) -> None:
        """Admit a client: find its role, send its session and state, record its presence."""
        current = self.services.ceremony.current()
        actor, token = self.clients.identify(current.event_id, auth)
        patches = wants_patches(auth)
        self.heartbeat.start()
        self.broadcaster.greet(sid, actor, patches)
        self.clients.add(sid, actor, token, current.event_id, patches)
        if actor.role == "point":
            try:
                self.presence.page_connected(sid, current.event_id, actor.point_id)
            except Exception:  # the heartbeat records it again; the client may stay
                logger.exception("could not record the connection of %s", actor.label)

    def leave_old_event(self, current: Any) -> None:
        """Take this process's clients of another event than ``current``'s out of every room.

        They stay connected (their page reloads on ``event_changed``; an old token is then
        refused, naming both events), but no state of the new event reaches them.
        """
        for sid in self.clients.of_other_events(current.event_id):
            try:
                rooms = self.server.rooms(sid)
            except (KeyError, ValueError):  # it left meanwhile
                continue
            for room in rooms:
                if room != sid:  # every client is in a room of its own, for direct emits
                    self.server.leave_room(sid, room)

    def disconnect(self, sid: str) -> None:
        """Forget a client; its point stays online for the grace period."""
        client = self.clients.remove(sid)
        if client is not None and client.actor.role == "point":
            self.presence.page_disconnected(sid)

    def disconnect_soon(self, sid: str) -> None:
        """Close a client's connection a moment from now, once its last ack has left."""

        def later() -> None:
            self.server.sleep(0.2)
            self.server.disconnect(sid)

        self.server.start_background_task(later)
