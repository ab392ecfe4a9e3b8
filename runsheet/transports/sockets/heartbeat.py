"""The sockets' heartbeat: presence refreshed, revoked tokens dropped, missed changes sent.

With a message queue (several processes) it also watches the stored version of the active
event, every ``WATCH_SECONDS``, and asks the broadcaster to send its clients a state that
another process committed (``Broadcaster.send_soon``): a cheap read of two numbers.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ...services.ceremony import CeremonyService
from ...services.clock import check_clock
from ...services.presence import PresenceKeeper
from .broadcast import Broadcaster
from .clients import Clients

logger = logging.getLogger(__name__)

# How often a process with a message queue looks for changes other processes committed:
# what a screen of this process waits, at most, beyond the other's send.
WATCH_SECONDS = 0.05


class Heartbeat:
    """Beat every ``interval`` seconds in a background task of the Socket.IO server."""

    def __init__(
        self,
        server: Any,
        ceremony: CeremonyService,
        clients: Clients,
        broadcaster: Broadcaster,
        presence: PresenceKeeper,
        interval: float,
    ) -> None:
        self.server = server
        self.ceremony = ceremony
        self.clients = clients
        self.broadcaster = broadcaster
        self.presence = presence
        self.interval = interval
        self._started = False
        self._stopped = False
        self._start_lock = threading.Lock()

    def start(self) -> None:
        """Start beating, once (it starts with the first connection, or when serving)."""
        with self._start_lock:
            if self._started or self._stopped:
                return
            self._started = True
        self.server.start_background_task(self._beat)
        if self.broadcaster.queued:
            self.server.start_background_task(self._watch)

    def stop(self) -> None:
        """Stop beating and record that this process's pages have left."""
        self._stopped = True
        try:
            self.presence.close_all()
        except Exception:
            logger.exception("could not record that this process's pages left")

    def _beat(self) -> None:
        while not self._stopped:
            self.server.sleep(self.interval)
            if self._stopped:
                break
            try:
                self.tick()
            except Exception:  # a database hiccup must not end the heartbeat
                logger.exception("the socket heartbeat failed; trying again")

    def _watch(self) -> None:
        seen = None
        while not self._stopped:
            self.server.sleep(WATCH_SECONDS)
            try:
                stored = self.ceremony.store.active_event_version()
            except Exception:  # a database hiccup: the heartbeat logs what is wrong
                continue
            if stored != seen:
                seen = stored
                self.broadcaster.send_soon()

    def tick(self) -> None:
        """Refresh presence, drop clients whose token no longer holds, send missed changes."""
        check_clock(self.ceremony.clock)  # a wall clock that jumped is logged (and followed)
        self.presence.tick()
        current = self.ceremony.current()
        # Another event made active elsewhere: every page hears it before the ones whose
        # token held only for the old event are dropped (they reload and explain).
        self.broadcaster.announce(current, through_queue=False)
        for sid in self.clients.revoked(current.event_id):
            self.server.disconnect(sid)
        if not self.broadcaster.queued:
            # Changes committed by another process (the CLI, a second server sharing the
            # database without a queue) reach this process's clients here.
            self.broadcaster.broadcast(current)
        else:
            # A change the watch did not hand on in time reaches this process's clients here.
            self.broadcaster.catch_up()
