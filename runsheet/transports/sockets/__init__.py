"""Socket.IO: the live channel to every screen; this package is the one that emits to it.

Contract (default namespace, default path ``/socket.io/``):

Connect with ``auth``, and the server decides the role (``auth`` may also carry
``"console": name``, the console's own name, shown to others when a move needs confirming):
    ``{"token": T}``                      the MC or a point, by its token (unknown: refused)
    ``{"page": "mc"}``                    the MC console; token from the ``runsheet_mc`` cookie
    ``{"page": "point", "point_id": P}``  a point's page; token from ``runsheet_point_<P>``
    ``{"page": "public"}``, ``{}``, none  a public viewer (public page, stage display)
    A refusal (``connect_error``) carries ``{"message": sentence, "data": {"error": sentence,
    "kind": "unauthenticated" | "other_event" | "invalid" | ...}}``: in socket.io-client,
    ``err.message`` and ``err.data.kind``. ``other_event``: the token belongs to an event
    that is not the active one (the sentence names both); an organizer token holds for
    every event.

Server to client:
    ``session``  ``{"role", "point_id"}``, once, right after connecting.
    ``state``    the JSON of ``GET /api/v1/state`` for the client's role, with
                 ``server_time``: on connect, then after every committed change (whether
                 it came over a socket, the HTTP API or the CLI). ``version`` rises by one
                 per change; within one process states are sent in version order. With
                 several processes behind a message queue a client should ignore a state
                 whose version is lower than the one it shows.
    ``event_changed`` ``{"slug", "title"}``: another event was made active; sent to every
                 client (a page reloads unless it already shows that event). States go to
                 the rooms of their own event only: a client still on the old event gets
                 none of the new one's.

    ``patch``    for a client that connected with ``auth: {..., "patches": true}``, instead
                 of every ``state`` after the first: ``{"from_version": a, "version": b,
                 "ops": [...]}``, an RFC 6902 JSON Patch turning that role's state at
                 version ``a`` into the one at ``b``. A client that holds ``b`` or a later
                 version ignores it; one that holds another version than ``a`` missed one
                 and sends ``resync``, answered with ``{"ok": true, "state": ...}``. A state
                 may still come whole (when the plan changed its points, or no patch could
                 be made); the client takes it as before. Its actions' acks carry
                 ``{"ok": true, "version": n}`` instead of the state (the patch follows).

Client to server (payloads as the HTTP API's, one JSON object or nothing), answered with
an ack ``{"ok": true, "state": ...}`` or ``{"ok": false, "error", "kind", "field"?,
"state"?}`` (``state`` when ``kind`` is ``stale`` or ``just_moved``):
    ``advance``, ``back``, ``finish`` ``{expected_version?, confirm?}``, ``reset``
    ``{expected_version?}`` (MC); ``goto`` ``{item_id, expected_version?, confirm?}`` (MC);
    a move within ``MOVE_GUARD_SECONDS`` of the last one without ``confirm: true`` is
    refused with ``kind: "just_moved"``, ``moved_by`` and ``state``;
    ``extend`` ``{seconds}``, ``hold``, ``resume``, ``stage`` ``{message?, blink?, blackout?,
    screen?}`` (MC); ``ready`` ``{item_id?, by?}``, ``link`` ``{rtt_ms, clock_offset_ms?}``
    (a point, for itself); ``clock`` ``{}``, answered with ``{"ok": true, "server_time"}``
    (a page measures its round trip with it);
    ``checkin`` ``{by, present?, note?, point_id?, expected_version?}`` (MC, or a point for itself);
    ``trouble`` ``{kind, text?}`` or ``{clear: true}``; ``clear_trouble`` ``{}``;
    ``message`` ``{text, to?}`` (MC); ``ack_message`` ``{message_id}`` (point);
    ``roll_call`` ``{seconds}`` (MC starts one) or ``{}`` (a point answers);
    ``resync`` ``{}``: the whole state for the client's role, in the ack.
    Any other event name is answered with a ``not_found`` error. The caller's token is
    checked again on every event. A client that sends too fast gets ``rate_limited``
    errors, then is disconnected (a token's connections share one allowance, so
    connecting again brings no new burst); a payload that is not an object is ``invalid``, one
    larger than ``SOCKET_MAX_PAYLOAD_BYTES`` is ``too_large``.

Every change is broadcast once per distinct variant of the state (``broadcast.py``).

The package, one job per module: ``handlers`` (parse, call the service, ack), ``live``
(one app's clients, broadcaster and heartbeat together), ``clients`` (the registry,
credentials and sending allowances), ``broadcast``, ``heartbeat`` (presence, revoked
tokens, catch-up), ``rooms``, ``editions`` (one version's states and the JSON patches
from the version before), ``settings``, ``patches`` (python-socketio's dispatch),
``fanout`` (direct frames under eventlet), ``queue`` (Redis), ``wire`` (JSON and
compression) and ``internals`` (the start-up checks of the libraries' private parts).
"""

from __future__ import annotations

import logging

from flask import Flask

from ...extensions import socketio
from . import fanout, pings
from .handlers import EXTENSION
from .live import LiveSockets
from .patches import install_patches
from .queue import RedisQueue, is_redis_url
from .settings import DEFAULTS, allowed_origins
from .wire import SocketJSON, TextPacket

logger = logging.getLogger(__name__)


def init_sockets(app: Flask) -> None:
    """Bind Socket.IO to ``app`` and broadcast every committed change of its ceremony."""
    # The extension keeps options between ``init_app`` calls (in ``server_options``, an
    # undocumented attribute of Flask-SocketIO); a client manager made for an earlier app's
    # message queue must not carry over to an app without one.
    kept = getattr(socketio, "server_options", None)
    if isinstance(kept, dict):
        kept.pop("client_manager", None)
        kept.pop("message_queue", None)
    else:
        logger.warning("Flask-SocketIO keeps no server_options: nothing to clear between apps")
    config = app.config
    queue = config.get("MESSAGE_QUEUE")
    # Redis gets a manager that publishes with a timeout and subscribes again each second.
    queue_option = {"client_manager": RedisQueue(queue)} if is_redis_url(queue) else {}
    if queue and not queue_option:
        queue_option = {"message_queue": queue}
    socketio.init_app(
        app,
        async_mode=config["ASYNC_MODE"],
        **queue_option,
        cors_allowed_origins=allowed_origins(config.get("CORS_ALLOWED_ORIGINS")),
        max_http_buffer_size=config["MAX_CONTENT_LENGTH"],
        ping_interval=config.get("SOCKET_PING_INTERVAL", DEFAULTS["SOCKET_PING_INTERVAL"]),
        ping_timeout=config.get("SOCKET_PING_TIMEOUT", DEFAULTS["SOCKET_PING_TIMEOUT"]),
        json=SocketJSON,
        serializer=TextPacket,
    )
    install_patches(socketio.server)
    fanout.install(socketio.server)  # under eventlet: write to idle WebSockets directly
    pings.install(socketio.server.eio)  # a crowd's pings spread over the interval
    live = LiveSockets(app, socketio.server)
    app.extensions[EXTENSION] = live
    live.services.ceremony.subscribe(live.broadcaster.broadcast)


def start_sockets(app: Flask) -> None:
    """Start the app's socket heartbeat now rather than at the first connection (serving)."""
    app.extensions[EXTENSION].heartbeat.start()


def stop_sockets(app: Flask) -> None:
    """Stop the app's socket heartbeat and record that its pages left (at shutdown)."""
    live = app.extensions.get(EXTENSION)
    if live is not None:
        live.heartbeat.stop()
