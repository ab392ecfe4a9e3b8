"""Rate limiting for clients that send events: a token bucket, and a throttle built on two.

Both take ``now`` (seconds on a monotonic clock) as an argument and read no clock, so they
are plain arithmetic that tests can drive step by step. Neither is thread-safe on its own:
the caller keeps one per client and serialises access to it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """Hold up to ``capacity`` tokens, refilled at ``rate`` tokens per second."""

    rate: float
    capacity: float
    tokens: float = field(init=False)
    updated_at: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.rate < 0 or self.capacity < 1:
            raise ValueError("a bucket needs rate >= 0 and capacity >= 1")
        self.tokens = self.capacity

    def take(self, now: float, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens if there are enough at ``now``; say whether it did."""
        self._refill(now)
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def _refill(self, now: float) -> None:
        if self.updated_at is not None and now > self.updated_at:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated_at) * self.rate)
        # A clock that stepped back must not mint tokens, only restart the count from here.
        if self.updated_at is None or now > self.updated_at:
            self.updated_at = now


class Verdict(enum.Enum):
    """What to do with one event of a client."""

    ALLOW = "allow"
    REFUSE = "refuse"  # answer it with a ``rate_limited`` error
    DISCONNECT = "disconnect"  # the client keeps flooding: drop it


class EventThrottle:
    """Allow a burst, then a steady rate; refuse beyond it; give up on a client that floods.

    Refused events use up the client's patience, which comes back at the same steady rate,
    so a client that now and then clicks too fast only sees a refusal, while one that keeps
    sending after being refused is disconnected once its patience has run out.
    """

    def __init__(self, rate: float, burst: int, patience: int) -> None:
        self.events = TokenBucket(rate, burst)
        self.patience = TokenBucket(rate, patience)
        self.gave_up = False

    def check(self, now: float) -> Verdict:
        """Return the verdict on an event that arrived at ``now``."""
        if self.gave_up:
            return Verdict.DISCONNECT
        if self.events.take(now):
            return Verdict.ALLOW
        if self.patience.take(now):
            return Verdict.REFUSE
        self.gave_up = True
        return Verdict.DISCONNECT
