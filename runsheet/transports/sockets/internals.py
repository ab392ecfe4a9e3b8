"""Checks, at start-up, that the private library attributes a patch relies on are there.

The fast fan-out, the message queue and the event-name guard reach into python-engineio,
python-socketio and eventlet (pyproject.toml bounds their versions). Each checks the real
objects once, when the app binds Socket.IO, and logs one line naming the path it takes: its
own, or the library's with a warning naming what is missing. A renamed attribute then costs
speed or a safeguard, never an exception inside every send.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)


def missing_attributes(found: Any, names: Iterable[str], shown_as: str) -> list[str]:
    """Return the dotted ``names`` that ``found`` lacks, each prefixed with ``shown_as``.

    A name may be a path (``"queue.getting"``): each step is looked up on what the
    previous one gave.
    """
    missing = []
    for name in names:
        value = found
        for step in name.split("."):
            if not hasattr(value, step):
                missing.append(f"{shown_as}.{name}")
                break
            value = getattr(value, step)
    return missing


def missing_on_engine_socket(engine: Any, names: Iterable[str]) -> list[str]:
    """Return the ``names`` a real Engine.IO socket of ``engine`` lacks (most are set by
    its constructor, so one is made for the check and thrown away)."""
    try:
        from engineio.socket import Socket

        probe = Socket(engine, "runsheet-probe")
    except Exception as error:  # noqa: BLE001 - any failure: the class changed
        return [f"engineio.socket.Socket ({error})"]
    return missing_attributes(probe, names, "socket")


def report_path(feature: str, own_path: str, missing: list[str]) -> bool:
    """Log the one line saying which path ``feature`` takes; return whether it is its own."""
    if missing:
        logger.warning("%s: library path — missing: %s", feature, ", ".join(missing))
        return False
    logger.info("%s: %s", feature, own_path)
    return True
