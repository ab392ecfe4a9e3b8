"""Engine.IO pings spread over time, not in step with the moment clients connected.

python-engineio pings a client ``ping_interval`` after it connected, then that long after
each pong. Clients that connect together (the screens of a hall at the doors' opening,
every page reconnecting after a restart) are then pinged together for as long as they
stay: at 1000 viewers, 1000 pings and pongs within a second or two every 10 s, each pong
starting the greenlet that will send the next ping, and the garbage collector's passes
over them fall into whichever change comes then (11.5 ms before its first frame, every
tenth change of the yardstick's run: README, Performance).

So each client's first ping waits a random part of ``spread`` seconds more, a delay the
handshake tells the client to allow (python-engineio announces ``pingInterval`` as the
interval plus its grace period, which the app sets to ``spread``); from then on its pings
keep the phase they drew. The server notices a vanished client as before, ``ping_timeout``
after a ping it sent.

It relies on internals of python-engineio (the server's ``handlers`` and ``sockets``, a
socket's ``schedule_ping``, ``_send_ping`` and ``last_ping``), present in the versions
pyproject.toml allows and checked once on real objects: "ping spread: first pings drawn
over N s" is logged, or "library path — missing: ..." as a warning, and the library pings
as it does.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from .internals import missing_attributes, report_path

FEATURE = "ping spread"
ENGINE_NEEDS = ("handlers", "sockets", "start_background_task", "sleep")
SOCKET_NEEDS = ("schedule_ping", "_send_ping", "last_ping")


def install(
    engine: Any, spread: float, draw: Callable[[float, float], float] = random.uniform
) -> bool:
    """Make each new client of ``engine`` wait ``draw(0, spread)`` s more for its first ping.

    Say whether it did (not when ``spread`` is 0 or an internal is missing).
    """
    if spread <= 0:
        return False
    if not report_path(FEATURE, f"first pings drawn over {spread:g} s", missing_internals(engine)):
        return False
    connect = engine.handlers.get("connect")

    def on_connect(sid: str, *args: Any) -> Any:
        accepted = connect(sid, *args) if connect is not None else None
        socket = engine.sockets.get(sid)
        if socket is not None:
            _delay_first_ping(engine, socket, draw(0.0, spread))
        return accepted

    engine.handlers["connect"] = on_connect
    return True


def missing_internals(engine: Any) -> list[str]:
    """Return the internals the spread needs that the installed python-engineio lacks."""
    missing = missing_attributes(engine, ENGINE_NEEDS, "engine")
    if missing:
        return missing
    try:
        from engineio.socket import Socket

        probe = Socket(engine, "runsheet-ping-probe")
    except Exception as error:  # noqa: BLE001 - any failure: the class changed
        return [f"engineio.socket.Socket ({error})"]
    return missing_attributes(probe, SOCKET_NEEDS, "socket")


def _delay_first_ping(engine: Any, socket: Any, delay: float) -> None:
    """Make the socket's next ping cycle, its first, begin ``delay`` seconds late."""

    def schedule_first_ping() -> None:
        del socket.schedule_ping  # its later cycles: the library's own
        if not socket.last_ping:  # as the library's: only once the previous cycle ended
            return
        socket.last_ping = None
        engine.start_background_task(ping_later)

    def ping_later() -> None:
        engine.sleep(delay)
        socket._send_ping()  # sleeps the interval, then pings (unless the socket closed)

    socket.schedule_ping = schedule_first_ping
