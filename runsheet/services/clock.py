"""The service's clock: wall time that moves with the monotonic clock, so it never steps back.

Every time the ceremony records (a span's start, a check-in, a roll call's deadline, a page
last seen) comes from this clock, and every duration is the difference of two of its
readings. If it read the system's wall clock directly, a clock stepped back an hour (and
corrected later) would show elapsed times of -3599 s, keep a departed page "online" until
the wall clock caught up, and order the history wrongly.

So ``SteadyClock`` reads the wall clock once (its anchor) and from then on adds the
monotonic clock's progress. ``check`` compares it with the wall clock now and then (the
socket heartbeat calls it): a wall clock that jumped *ahead* of it by more than the
tolerance is taken as corrected, and the clock moves forward to it; one that fell *behind* is
logged once and ignored, since going back would undo what was recorded. ``catch_up`` does
the same with a time another process recorded (the state's last change): processes sharing
a database never record times older than what is stored, whatever their own clocks say.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

logger = logging.getLogger(__name__)

# A difference from the wall clock smaller than this is drift, not a jump.
TOLERANCE = timedelta(seconds=2)


def system_time() -> datetime:
    """Return the system's wall clock, timezone-aware."""
    return datetime.now(UTC)


class SteadyClock:
    """A timezone-aware wall clock that advances with ``time.monotonic`` and never goes back."""

    def __init__(
        self,
        wall: Callable[[], datetime] = system_time,
        monotonic: Callable[[], float] = time.monotonic,
        tolerance: timedelta = TOLERANCE,
    ) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self.tolerance = tolerance
        self._lock = threading.Lock()
        self._anchor_wall = wall()
        self._anchor_monotonic = monotonic()
        self._warned_behind = False

    def __call__(self) -> datetime:
        """Return the current time."""
        with self._lock:
            return self._now()

    def check(self) -> timedelta:
        """Compare with the wall clock; follow it forward, ignore it back. Return the gap."""
        with self._lock:
            wall, now = self._wall(), self._now()
            gap = wall - now
            if gap > self.tolerance:
                logger.warning("the system clock jumped ahead by %.1f s; following it", _s(gap))
                self._anchor(wall)
                self._warned_behind = False
            elif gap < -self.tolerance:
                if not self._warned_behind:
                    logger.warning(
                        "the system clock fell behind by %.1f s; runsheet's clock keeps time",
                        -_s(gap),
                    )
                    self._warned_behind = True
            else:
                self._warned_behind = False
            return gap

    def catch_up(self, recorded: datetime | None) -> None:
        """Move forward to a time another process recorded, if it is ahead of this clock."""
        if recorded is None:
            return
        with self._lock:
            if recorded - self._now() > self.tolerance:
                logger.warning(
                    "another process recorded a time %.1f s ahead of this one's clock; following",
                    _s(recorded - self._now()),
                )
                self._anchor(recorded)

    def _now(self) -> datetime:
        progress = self._monotonic() - self._anchor_monotonic
        return self._anchor_wall + timedelta(seconds=progress)

    def _anchor(self, wall: datetime) -> None:
        self._anchor_wall = wall
        self._anchor_monotonic = self._monotonic()


def check_clock(clock: Callable[[], datetime]) -> None:
    """Compare a service clock with the wall clock, if it is one that can (``SteadyClock``)."""
    if isinstance(clock, SteadyClock):
        clock.check()


def reading_after(clock: Callable[[], datetime], recorded: datetime | None) -> datetime:
    """Return the clock's time, never earlier than ``recorded`` (the state's last change).

    A ``SteadyClock`` far behind the recorded time first moves forward to it; any other
    clock's reading is only raised to it, so that stored times never go back.
    """
    if isinstance(clock, SteadyClock):
        clock.catch_up(recorded)
    now = clock()
    return now if recorded is None or now >= recorded else recorded


def _s(delta: timedelta) -> float:
    return delta.total_seconds()
