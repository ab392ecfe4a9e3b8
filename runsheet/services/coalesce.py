"""Work asked for while it runs is done once more after it, once for all who asked.

A state that changes faster than its consequences can be worked out (presence refreshed,
the state sent to every screen) needs the work done for the newest state, not once per
change: ``Coalesced.request()`` starts the work in the background, or, while it runs,
marks it to run once more when it ends. Each run sees everything asked for before it
started, so nothing asked for is left undone, and N requests during one run cost one run.
Between runs the others get a turn; with ``spacing``, a run asked for during the last one
starts no sooner than ``spacing`` seconds after the last one started: work that a crowd
keeps asking for (3,500 pages connecting) is then done a few times a second, not back to
back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Coalesced:
    """Run ``task`` in the background on request, one run at a time, repeats merged."""

    def __init__(
        self,
        task: Callable[[], object],
        spawn: Callable[..., object],
        what: str,
        spacing: float = 0.0,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self._task = task
        self._spawn = spawn  # a thread or a green thread, as the caller's server runs them
        self._what = what  # for the log: "refresh presence"
        self._spacing = spacing
        self._sleep = sleep or time.sleep  # the server's, to match its threads
        self._lock = threading.Lock()
        self._running = False
        self._asked_again = False

    def request(self) -> None:
        """Run the task now in the background, or once more after the run under way."""
        with self._lock:
            if self._running:
                self._asked_again = True
                return
            self._running = True
        self._spawn(self._run)

    def _run(self) -> None:
        started: float | None = None
        while True:
            if started is not None:  # asked again: wait out the spacing, then run for all
                # Always through the sleep, if only for no time: a green thread that ran
                # again at once would take the locks its task holds before anyone waiting
                # on them had a turn (the heartbeat waited on the broadcaster's for minutes).
                self._sleep(max(0.0, started + self._spacing - time.monotonic()))
            with self._lock:
                self._asked_again = False  # what was asked until now, this run does
            started = time.monotonic()
            try:
                self._task()
            except Exception:  # the next request (or a heartbeat) tries again
                logger.exception("could not %s", self._what)
            with self._lock:
                if not self._asked_again:
                    self._running = False
                    return
