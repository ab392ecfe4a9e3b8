"""Patches of python-socketio's server: odd event names rerouted, garbled packets closed.

Both wrap private methods of ``socketio.Server`` (``_handle_event``, the entry point of
client events, and ``_handle_eio_message``, that of every Engine.IO message), which
pyproject.toml's version range of python-socketio keeps. python-socketio has no public hook
before its dispatch, so these internals stay. ``install_patches`` checks them on the real
server and logs one line; when one is missing, that patch is left out with a warning and
the library's own behaviour applies.
"""

from __future__ import annotations

import logging
from typing import Any

from .internals import missing_attributes, report_path

logger = logging.getLogger(__name__)

# A client event named "connect" or "disconnect" would reach the handlers of the connection
# itself (registering the client again under another role, or forgetting it while it stays
# connected), one named "*" reaches the catch-all handler with its arguments shifted, and one
# whose name is not text can break python-socketio's lookup of a handler. Such events are
# passed on under this name instead, with their own name as the first argument.
ODD_EVENT = "runsheet:odd-event"
HOOK_NAMES = frozenset({"connect", "disconnect", "*", ODD_EVENT})

FEATURE = "socket patches"
OWN_PATH = "odd event names rerouted, garbled packets closed (python-socketio 5.x internals)"
SERVER_NEEDS = ("_handle_event", "_handle_eio_message", "eio.on", "eio.disconnect")


def install_patches(server: Any) -> bool:
    """Apply both patches to ``server`` if its internals are there; say whether they were."""
    if not report_path(FEATURE, OWN_PATH, missing_attributes(server, SERVER_NEEDS, "server")):
        return False
    guard_event_names(server)
    close_on_garbled_packets(server)
    return True


def guard_event_names(server: Any) -> None:
    """Make ``server`` hand events named like its hooks to the ``ODD_EVENT`` handler instead."""
    dispatch = server._handle_event  # python-socketio's entry point for client events

    def handle_event(eio_sid: str, namespace: str, ack_id: Any, data: Any) -> Any:
        if not isinstance(data, list) or not data:
            data = [ODD_EVENT, None]
        elif not isinstance(data[0], str) or data[0] in HOOK_NAMES:
            data = [ODD_EVENT, *data]
        return dispatch(eio_sid, namespace, ack_id, data)

    server._handle_event = handle_event


def close_on_garbled_packets(server: Any) -> None:
    """Make ``server`` close a connection whose packet it cannot decode.

    python-socketio raises on such a packet (broken JSON, nesting deeper than the parser's
    stack, an unknown packet type) and the exception is logged with its traceback, once per
    packet, while the connection stays open: a client could fill the log at will. The
    Socket.IO reference server closes such a connection; so does this one, with one line.
    """
    receive = server._handle_eio_message

    def handle_message(eio_sid: str, data: Any) -> None:
        try:
            receive(eio_sid, data)
        except (ValueError, RecursionError) as error:
            logger.warning("closing a connection that sent a garbled packet: %.80s", error)
            server.eio.disconnect(eio_sid)

    server._handle_eio_message = handle_message
    server.eio.on("message", handle_message)  # Engine.IO keeps the handler it was given
