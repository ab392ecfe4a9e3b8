"""The Socket.IO handlers: each parses what a client sent, calls the service, and acks.

They are registered on the shared ``socketio`` extension when this module is imported and
reach the app's ``LiveSockets`` through ``current_app``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import current_app, request
from flask_socketio import ConnectionRefusedError

from ...domain.errors import (
    InvalidInput,
    JustMoved,
    NotFound,
    RunsheetError,
    StaleVersion,
    TooLarge,
    Unauthenticated,
)
from ...extensions import socketio
from ...services.actions import ACTIONS
from ...services.ceremony import Current
from ...services.tokens import Actor
from ..errors import error_body
from .clients import Client, TokenLost, TooFast
from .live import LiveSockets
from .patches import ODD_EVENT

logger = logging.getLogger(__name__)

EXTENSION = "runsheet.sockets"

# The events a client may send: every action of the service, under the same name, the
# clock, which a page asks to measure its round trip and its clock's offset, and resync,
# with which a client that takes patches and missed one asks for the whole state.
CLOCK_EVENT = "clock"
RESYNC_EVENT = "resync"
EVENTS = frozenset(ACTIONS) | {CLOCK_EVENT, RESYNC_EVENT}


def event_payload(args: tuple[Any, ...], limit: int) -> dict[str, Any]:
    """Return the one JSON object an event carries ({} for none); raise if it is unfit."""
    if len(args) > 1:
        raise InvalidInput("send one JSON object with each event")
    payload = args[0] if args else None
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise InvalidInput("the payload must be a JSON object")
    try:
        size = len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    except (TypeError, ValueError, RecursionError):
        # e.g. binary attachments: nothing an action accepts
        raise InvalidInput("the payload must hold only JSON text, numbers and booleans") from None
    if size > limit:
        raise TooLarge(f"the payload is larger than the {limit} bytes accepted")
    return payload


def ack_error(error: RunsheetError) -> dict[str, Any]:
    """Return the ack that reports ``error``."""
    return {"ok": False, **error_body(error)}


def performed_on_claim(
    live: LiveSockets, client: Client, name: str, payload: Any
) -> tuple[Actor, Current] | None:
    """Perform a client's action on its token's claim; None: do it the checked way.

    See ``CeremonyService.claim``: without a query before the change's transaction, and
    stored only if the token still holds; whatever else happens, the checked way decides
    what the client hears.
    """
    ceremony = live.services.ceremony
    claim = ceremony.claim(client.token)
    if claim is None or claim.actor != client.actor:
        return None
    actor = client.actor.via("socket")
    current = ceremony.perform_on_claim(claim, actor, name, payload)
    return None if current is None else (actor, current)


def handle_event(live: LiveSockets, sid: str, name: Any, args: tuple[Any, ...]) -> dict[str, Any]:
    """Run one client event through the service and return its ack."""
    client = live.clients.get(sid)
    if client is None:
        return ack_error(Unauthenticated("this connection is closing; connect again"))
    ceremony = live.services.ceremony
    actor = None
    try:
        live.clients.check_rate(client)
        if not isinstance(name, str) or name not in EVENTS:
            shown = str(name)[:40]
            raise NotFound(f"there is no event named {shown!r}", field="event")
        payload = event_payload(args, live.settings["SOCKET_MAX_PAYLOAD_BYTES"])
        if name == CLOCK_EVENT:
            return {"ok": True, "server_time": ceremony.clock().isoformat()}
        claimed = None if name == RESYNC_EVENT else performed_on_claim(live, client, name, payload)
        if claimed is not None:
            actor, current = claimed
        else:
            actor, seen = live.clients.confirm(ceremony, client)
            actor = actor.via("socket")
            if name == RESYNC_EVENT:
                return {"ok": True, "state": live.broadcaster.body(actor, seen)}
            current = ceremony.perform(actor, name, payload, seen)
        if client.patches:  # the change reaches it as a patch; the ack says which version
            return {"ok": True, "version": current.version}
        return {"ok": True, "state": live.broadcaster.body(actor, current)}
    except (StaleVersion, JustMoved) as refused:  # acked with the state as it is now
        ack = ack_error(refused)
        ack["state"] = live.broadcaster.body(actor or client.actor, ceremony.current())
        return ack
    except (TooFast, TokenLost) as error:
        if not isinstance(error, TooFast) or error.give_up:
            live.disconnect_soon(sid)  # after this ack has left
        return ack_error(error)
    except RunsheetError as error:
        return ack_error(error)
    except Exception:
        logger.exception("socket event %r of %s failed", name, client.actor.label)
        return {"ok": False, "error": "the service failed to handle this event", "kind": "internal"}


def _live() -> LiveSockets:
    return current_app.extensions[EXTENSION]


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    """Admit a client or refuse it with the reason."""
    try:
        _live().connect(request.sid, auth)
    except RunsheetError as error:
        raise ConnectionRefusedError(error.message, error_body(error)) from None
    except Exception:
        logger.exception("a socket connection failed")
        message = "the service could not accept this connection"
        raise ConnectionRefusedError(message, {"error": message, "kind": "internal"}) from None


@socketio.on("disconnect")
def on_disconnect(reason: Any = None) -> None:
    """Forget a client that left."""
    _live().disconnect(request.sid)


def _action_handler(name: str):  # noqa: ANN202
    def handler(*args: Any) -> dict[str, Any]:
        return handle_event(_live(), request.sid, name, args)

    handler.__name__ = f"on_{name}"
    handler.__doc__ = f"Perform {name!r} for the client and answer with an ack."
    return handler


for _name in sorted(EVENTS):
    socketio.on_event(_name, _action_handler(_name))


@socketio.on("*")
def on_unknown_event(name: Any, *args: Any) -> dict[str, Any]:
    """Answer an event nobody handles with an error (it still counts against the rate)."""
    return handle_event(_live(), request.sid, name, args)


@socketio.on(ODD_EVENT)
def on_odd_event(name: Any = None, *args: Any) -> dict[str, Any]:
    """Answer an event named like a hook, or not named by text, as an unknown event."""
    return handle_event(_live(), request.sid, name, args)
