"""Engine.IO pings spread over the interval, not in step with the moment clients connected.

python-engineio pings a client ``ping_interval`` after it connected, then that long after
each pong. Clients that connect together (the screens of a hall at the doors' opening,
every page reconnecting after a restart) are then pinged together for as long as they
stay: at 1000 viewers, 1000 pings and pongs within a second or two every 10 s, each pong
starting the greenlet that will send the next ping, and the garbage collector's passes
over them fall into whichever change comes then (11.5 ms before its first frame, every
tenth change of the yardstick's run: README, Performance).

So each client's first ping comes at a moment drawn over the interval instead of at its
end; from then on its pings keep that phase, and a crowd's pings are spread over the
whole interval. A ping sooner than the interval is one a client takes as any other (it
waits for the next one ``pingInterval + pingTimeout`` from the last), and the server
notices a vanished client sooner, never later.

It relies on internals of python-engineio (the server's ``handlers`` and ``sockets``, a
socket's ``schedule_ping``, ``last_ping``, ``closing`` and ``closed``), present in the
versions pyproject.toml allows and checked once on real objects: "ping spread: first pings
drawn over the interval" is logged, or "library path — missing: ..." as a warning, and the
library pings as it does.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from engineio import packet

from .internals import missing_attributes, missing_on_engine_socket, report_path

FEATURE = "ping spread"
OWN_PATH = "first pings drawn over the interval"
ENGINE_NEEDS = ("handlers", "sockets", "ping_interval", "start_background_task", "sleep")
SOCKET_NEEDS = ("schedule_ping", "last_ping", "closing", "closed", "send")


def install(engine: Any, draw: Callable[[float, float], float] = random.uniform) -> bool:
    """Make each new client of ``engine`` get its first ping ``draw(0, interval)`` seconds
    after it connected; say whether it did (not when an internal is missing)."""
    if not report_path(FEATURE, OWN_PATH, missing_internals(engine)):
        return False
    connect = engine.handlers.get("connect")

    def on_connect(sid: str, *args: Any) -> Any:
        accepted = connect(sid, *args) if connect is not None else None
        socket = engine.sockets.get(sid)
        if socket is not None:
            _first_ping_after(engine, socket, draw(0.0, engine.ping_interval))
        return accepted

    engine.handlers["connect"] = on_connect
    return True


def missing_internals(engine: Any) -> list[str]:
    """Return the internals the spread needs that the installed python-engineio lacks."""
    missing = missing_attributes(engine, ENGINE_NEEDS, "engine")
    return missing or missing_on_engine_socket(engine, SOCKET_NEEDS)


def _first_ping_after(engine: Any, socket: Any, delay: float) -> None:
    """Make the socket's first ping cycle last ``delay`` seconds instead of the interval."""

    def schedule_first_ping() -> None:
        del socket.schedule_ping  # its later cycles: the library's own
        if not socket.last_ping:  # as the library's: only once the previous cycle ended
            return
        socket.last_ping = None
        engine.start_background_task(ping_after_delay)

    def ping_after_delay() -> None:
        engine.sleep(delay)
        if not socket.closing and not socket.closed:  # as the library pings
            socket.last_ping = time.time()
            socket.send(packet.Packet(packet.PING))

    socket.schedule_ping = schedule_first_ping
