"""Presence of connection points, kept in the database so every process sees every page.

Each process records the point pages connected to it (the ``connections`` table) and, on a
heartbeat, marks them as still there. A point is online while one of its pages was seen
within the grace period, whichever process serves it; a page that disconnects keeps its
point online until the grace period after it left has passed, so a page that reloads or
reconnects at once never makes its point blink offline. Check-ins are part of the
ceremony's state, not of presence, so no disconnect ever loses one.

Presence is refreshed in the background, one refresh at a time: pages that connect while
a refresh runs are counted by the one that follows it. So 3,500 point pages connecting
within a minute are a few changes a second of the state, not 3,500 one after the other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from .coalesce import Coalesced

if TYPE_CHECKING:
    from . import Services

logger = logging.getLogger(__name__)

# Rows not seen for this many grace periods are deleted: long after they stopped counting,
# with room for clocks of different hosts that disagree a little.
PRUNE_AFTER_GRACE_PERIODS = 3


class PresenceKeeper:
    """Record the point pages connected to this process and turn that into presence."""

    def __init__(
        self,
        services: Services,
        process_id: str,
        spawn: Callable[..., object],
        sleep: Callable[[float], None],
    ) -> None:
        self.services = services
        self.process_id = process_id
        self.grace = services.ceremony.presence_grace
        # Background tasks and sleeping come from the transport (the Socket.IO server), so
        # they are threads or green threads to match its async mode.
        self._spawn = spawn
        self._sleep = sleep
        self._refreshes = Coalesced(services.ceremony.refresh_presence, spawn, "refresh presence")

    def page_connected(self, sid: str, event_id: int, point_id: str) -> None:
        """Record a point page's connection; its point turns online at the next refresh."""
        ceremony = self.services.ceremony
        self.services.store.add_connection(
            sid, event_id, point_id, self.process_id, ceremony.clock()
        )
        self.refresh_soon()

    def refresh_soon(self) -> None:
        """Refresh presence in the background now, or once more after the refresh running."""
        self._refreshes.request()

    def page_disconnected(self, sid: str) -> None:
        """Record a point page's departure; its point turns offline after the grace period."""
        self.services.store.close_connection(sid, self.services.ceremony.clock())
        # A little after the grace period, so the departed page no longer counts.
        delay = self.grace.total_seconds() + 0.1
        self._spawn(self._refresh_after, delay)

    def tick(self) -> None:
        """Mark this process's pages as still there, refresh presence, forget old rows."""
        store, ceremony = self.services.store, self.services.ceremony
        now = ceremony.clock()
        store.touch_connections(self.process_id, now)
        ceremony.refresh_presence()
        store.prune_connections(now - PRUNE_AFTER_GRACE_PERIODS * self.grace)

    def close_all(self) -> None:
        """Record that every page of this process left (the process is stopping)."""
        self.services.store.close_process_connections(
            self.process_id, self.services.ceremony.clock()
        )

    def _refresh_after(self, delay: float) -> None:
        self._sleep(delay)
        self.refresh_soon()


def heartbeat_interval(grace: timedelta) -> float:
    """Return how often, in seconds, a process should mark its pages as still there."""
    # Three beats per grace period: a live page is always seen well within it.
    return max(grace.total_seconds() / 3, 0.1)
