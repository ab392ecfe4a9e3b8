"""Keep Python's garbage collector from stopping a busy server for a second at a time.

CPython frees most objects by reference counting; its cyclic collector also walks, now
and then, every object the process holds ("a full collection"). A process serving a
national conference holds millions (each connection's sockets, queues and green threads;
every point's records), and while the collector walks them nothing else runs: in
``bench.national`` (3,500 points, 4,250 connections per process) full collections took
0.4-1.4 s, every 3-15 s, and every screen of the process waited that long.

So the serving process moves what has lived a while out of the collector's sight: at the
start and every ``FREEZE_SECONDS`` it freezes every object alive (``gc.freeze``), and the
automatic collections then walk only what was made since. A frozen object that becomes
cyclic garbage (a closed connection's sockets and green threads that refer to each other)
is not freed until the next full pass: every ``FULL_PASS_SECONDS`` the collector unfreezes
everything, collects it all once and freezes again. That pass costs what a full
collection costs (about a second at 8,500 connections, milliseconds at a district's 13
points), once in that long instead of every few seconds.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

logger = logging.getLogger(__name__)

FREEZE_SECONDS = 5.0
FULL_PASS_SECONDS = 600.0


class Collector:
    """Freeze long-lived objects often, collect everything rarely, in a background task."""

    def __init__(
        self,
        server: Any,
        freeze_seconds: float = FREEZE_SECONDS,
        full_pass_seconds: float = FULL_PASS_SECONDS,
    ) -> None:
        self.server = server
        self.freeze_seconds = freeze_seconds
        self.full_pass_seconds = full_pass_seconds
        self._stopped = False
        self.full_passes = 0

    def start(self) -> None:
        """Freeze what the process holds now (the app, the plan) and start the task."""
        gc.collect()
        gc.freeze()
        self.server.start_background_task(self._run)

    def stop(self) -> None:
        """Stop the task and hand every object back to the collector."""
        self._stopped = True
        gc.unfreeze()

    def _run(self) -> None:
        last_full = time.monotonic()
        while not self._stopped:
            self.server.sleep(self.freeze_seconds)
            if self._stopped:
                break
            if time.monotonic() - last_full >= self.full_pass_seconds:
                self.full_pass()
                last_full = time.monotonic()
            else:
                gc.freeze()

    def full_pass(self) -> int:
        """Collect every object once, frozen ones too, then freeze; return what was freed."""
        started = time.monotonic()
        gc.unfreeze()
        freed = gc.collect()
        gc.freeze()
        self.full_passes += 1
        logger.info(
            "full garbage collection: %d objects freed in %.0f ms",
            freed,
            (time.monotonic() - started) * 1000,
        )
        return freed
