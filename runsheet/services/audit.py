"""The audit log: what each action becomes as an entry, and how refusals are kept in check.

Every change of the ceremony's state is logged in the same transaction that stores it
(``CeremonyService.change`` hands the entry to ``Store.save_state``), so the log holds an
action exactly when its change was kept. A refused action changes nothing; it is logged in
a write of its own, but only for token holders (a caller without a valid token is not
anyone to hold to account, and would otherwise turn a flood of requests into a flood of
writes), and repeats are collapsed: see ``RefusalGate``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.ceremony import CeremonyState
from ..storage.store import AuditEntry
from .ratelimit import TokenBucket
from .tokens import Actor

# Actions that measure rather than decide: a point page reports its link every ten seconds,
# and the measures are kept in the state's link samples; logging each would bury the log.
# Their refusals are still logged (through the gate, like every refusal).
UNLOGGED_WHEN_DONE = frozenset({"link"})

# How much of a payload a summary keeps.
SUMMARY_KEYS = 12
SUMMARY_KEY_LENGTH = 40
SUMMARY_TEXT_LENGTH = 120
ERROR_LENGTH = 500


def summarize(payload: Any) -> dict[str, Any]:
    """Return a short summary of a payload: its first keys, long text cut, nesting named.

    The parsed payload is what the action acted on; for a payload refused before it could
    be parsed, this keeps what was sent, trimmed the same way, so a refusal shows why.
    """
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        return {"payload": _trimmed(payload)}
    summary: dict[str, Any] = {}
    for index, (key, value) in enumerate(payload.items()):
        if index == SUMMARY_KEYS:
            summary["…"] = f"{len(payload) - SUMMARY_KEYS} more"
            break
        summary[_cut(str(key), SUMMARY_KEY_LENGTH)] = _trimmed(value)
    return summary


def _trimmed(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _cut(value, SUMMARY_TEXT_LENGTH)
    if isinstance(value, list | tuple):
        return f"[{len(value)} values]"
    if isinstance(value, dict):
        return f"{{{len(value)} keys}}"
    return _cut(repr(value), SUMMARY_TEXT_LENGTH)


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def run_number_of(state: CeremonyState) -> int:
    """Return the run an action on ``state`` belongs to: the one under way, else the next.

    Taken from the state before the action, so the action that ends a run (a rehearsal's
    end, a reset) belongs to that run, and check-ins before a start to the run they prepare.
    """
    return state.run.number if state.run is not None else state.runs_started + 1


@dataclass(frozen=True)
class AuditNote:
    """What an entry says apart from when, which run and which versions: who, what, how."""

    role: str
    point_id: str | None
    console: str | None
    channel: str
    action: str
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, actor: Actor, action: str, summary: dict[str, Any] | None = None) -> AuditNote:
        """Return the note of ``actor`` doing ``action`` (channel "system" if none was set)."""
        return cls(
            role=actor.role,
            point_id=actor.point_id,
            console=actor.console,
            channel=actor.channel or "system",
            action=action,
            summary=summary or {},
        )

    def entry(
        self,
        event_id: int,
        run_number: int | None,
        at: datetime,
        version_before: int | None,
        version_after: int | None,
        error: Exception | None = None,
        error_kind: str | None = None,
    ) -> AuditEntry:
        """Return the entry of this note: done, or refused with ``error`` of ``error_kind``."""
        return AuditEntry(
            event_id=event_id,
            run_number=run_number,
            at=at,
            role=self.role,
            point_id=self.point_id,
            console=self.console,
            channel=self.channel,
            action=self.action,
            summary=self.summary,
            version_before=version_before,
            version_after=version_after,
            outcome="done" if error is None else "refused",
            error=None if error is None else _cut(str(error), ERROR_LENGTH),
            error_kind=error_kind,
        )


class RefusalGate:
    """Decide which refusals reach the log, so a flood of refusals is not a flood of writes.

    The first refusal of a kind (same holder, action and error kind) is logged; repeats
    within ``window`` seconds only count, and the next refusal of that kind logged after the
    window carries ``repeated``: how many were not logged in between. On top of that, all
    refusals together are logged at most ``rate`` per second (bursts of ``burst``), so many
    holders refused at once still cost a bounded number of writes. Refusals of callers
    without a token never get here (see ``CeremonyService.perform``). Each process keeps its
    own gate; durations use the monotonic clock.
    """

    def __init__(
        self,
        window: float = 60.0,
        rate: float = 5.0,
        burst: int = 20,
        clock: Callable[[], float] = time.monotonic,
        kinds_kept: int = 10_000,
    ) -> None:
        self.window = window
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.kinds_kept = kinds_kept
        self._lock = threading.Lock()
        self._last_logged: dict[tuple, float] = {}  # kind: when its last entry was logged
        self._unlogged: dict[tuple, int] = {}  # kind: refusals not logged since then
        self._allowance = TokenBucket(rate, burst)  # of all kinds together

    def admit(self, kind: tuple) -> int | None:
        """Return how many refusals of ``kind`` went unlogged before this one, or None.

        None means: do not log this one (it is counted towards the next entry of its kind).
        """
        now = self.clock()
        with self._lock:
            last = self._last_logged.get(kind)
            if last is not None and now - last < self.window:
                self._unlogged[kind] = self._unlogged.get(kind, 0) + 1
                return None
            if not self._allowance.take(now):
                self._unlogged[kind] = self._unlogged.get(kind, 0) + 1
                return None
            if len(self._last_logged) >= self.kinds_kept:  # forget the longest quiet kinds
                for old in list(self._last_logged)[: self.kinds_kept // 2]:
                    del self._last_logged[old]
                    self._unlogged.pop(old, None)
            self._last_logged.pop(kind, None)
            self._last_logged[kind] = now
            return self._unlogged.pop(kind, 0)
