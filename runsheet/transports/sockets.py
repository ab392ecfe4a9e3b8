"""Socket.IO: the live channel to every screen, and the one module that emits to it.

Contract (default namespace, default path ``/socket.io/``):

Connect with ``auth``, and the server decides the role (``auth`` may also carry
``"console": name``, the console's own name, shown to others when a move needs confirming):
    ``{"token": T}``                      the MC or a point, by its token (unknown: refused)
    ``{"page": "mc"}``                    the MC console; token from the ``runsheet_mc`` cookie
    ``{"page": "point", "point_id": P}``  a point's page; token from ``runsheet_point_<P>``
    ``{"page": "public"}``, ``{}``, none  a public viewer (public page, stage display)
    A refusal (``connect_error``) carries ``{"message": sentence, "data": {"error": sentence,
    "kind": "unauthenticated" | "invalid" | ...}}``: in socket.io-client, ``err.message``
    and ``err.data.kind``.

Server to client:
    ``session``  ``{"role", "point_id"}``, once, right after connecting.
    ``state``    the JSON of ``GET /api/v1/state`` for the client's role, with
                 ``server_time``: on connect, then after every committed change (whether
                 it came over a socket, the HTTP API or the CLI). ``version`` rises by one
                 per change; within one process states are sent in version order. With
                 several processes behind a message queue a client should ignore a state
                 whose version is lower than the one it shows.

Client to server (payloads as the HTTP API's, one JSON object or nothing), answered with
an ack ``{"ok": true, "state": ...}`` or ``{"ok": false, "error", "kind", "field"?,
"state"?}`` (``state`` when ``kind`` is ``stale``):
    ``advance``, ``back``, ``finish`` ``{expected_version?, confirm?}``, ``reset``
    ``{expected_version?}`` (MC); ``goto`` ``{item_id, expected_version?, confirm?}`` (MC);
    a move within ``MOVE_GUARD_SECONDS`` of the last one without ``confirm: true`` is
    refused with ``kind: "just_moved"``, ``moved_by`` and ``state``;
    ``extend`` ``{seconds}``, ``hold``, ``resume``, ``stage`` ``{message?, blink?, blackout?,
    screen?}`` (MC); ``ready`` ``{item_id?, by?}``, ``link`` ``{rtt_ms, clock_offset_ms?}``
    (a point, for itself); ``clock`` ``{}``: answered with ``{"ok": true, "server_time"}``,
    for measuring the round trip;
    ``checkin`` ``{by, present?, note?, point_id?, expected_version?}`` (MC, or a point for itself);
    ``trouble`` ``{kind, text?}`` or ``{clear: true}``; ``clear_trouble`` ``{}``;
    ``message`` ``{text, to?}`` (MC); ``ack_message`` ``{message_id}`` (point);
    ``roll_call`` ``{seconds}`` (MC starts one) or ``{}`` (a point answers).
    Any other event name is answered with a ``not_found`` error. The caller's token is
    checked again on every event. A client that sends too fast gets ``rate_limited``
    errors, then is disconnected (a token's connections share one allowance, so
    connecting again brings no new burst); a payload that is not an object is ``invalid``, one
    larger than ``SOCKET_MAX_PAYLOAD_BYTES`` is ``too_large``.

Every change is broadcast once per distinct variant of the state (one for all public
viewers, one shared by the MC and the points while their messages are the same), from the
``Current`` the service committed: no database read per client.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import ConnectionRefusedError

from ..domain.errors import (
    InvalidInput,
    JustMoved,
    NotFound,
    RateLimited,
    RunsheetError,
    StaleVersion,
    TooLarge,
    Unauthenticated,
)
from ..extensions import socketio
from ..services import Services
from ..services.actions import ACTIONS
from ..services.ceremony import Current
from ..services.clock import check_clock
from ..services.ratelimit import EventThrottle, TokenBucket, Verdict
from ..services.snapshot import as_seen_by, public_snapshot
from ..services.tokens import PUBLIC, Actor, identify
from . import fanout
from .api import state_body
from .auth import console_label, page_token
from .errors import error_body
from .presence import PresenceKeeper, heartbeat_interval
from .queue import RedisQueue, StateMark, is_redis_url
from .wire import SocketJSON

logger = logging.getLogger(__name__)

EXTENSION = "runsheet.sockets"

# The events a client may send: every action of the service, under the same name, and the
# clock, which a page asks to measure its round trip and its clock's offset.
CLOCK_EVENT = "clock"
EVENTS = frozenset(ACTIONS) | {CLOCK_EVENT}

# Defaults of the settings this module reads (each overridable in the app's config).
DEFAULTS = {
    "SOCKET_EVENTS_PER_SECOND": 5,  # steady rate of events accepted from one client
    "SOCKET_EVENT_BURST": 20,  # events accepted at once before the rate applies
    "SOCKET_PATIENCE": 40,  # refused events tolerated before disconnecting a flooder
    "SOCKET_MAX_PAYLOAD_BYTES": 16 * 1024,  # larger payloads are refused as too_large
    "SOCKET_PING_INTERVAL": 10,  # seconds; a vanished client is noticed within
    "SOCKET_PING_TIMEOUT": 10,  # interval + timeout, then its point's grace period runs
}

PUBLIC_ROOM = "public"
MC_ROOM = "mc"


def point_room(point_id: str) -> str:
    """Return the room of a point's pages."""
    return f"point:{point_id}"


def room_of(actor: Actor) -> str:
    """Return the room whose variant of the state ``actor`` receives."""
    if actor.role == "mc":
        return MC_ROOM
    if actor.role == "point":
        return point_room(actor.point_id)
    return PUBLIC_ROOM


def allowed_origins(setting: str | Iterable[str] | None) -> str | list[str] | None:
    """Return the origins Socket.IO accepts: None means the service's own origin only."""
    if setting is None or setting == "":
        return None
    if isinstance(setting, str):
        if setting.strip() == "*":
            return "*"
        return [origin.strip() for origin in setting.split(",") if origin.strip()]
    return list(setting)


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


@dataclass
class Client:
    """One connected socket: who it is, the token it showed, and how fast it sends."""

    actor: Actor
    token: str | None
    throttle: EventThrottle
    lock: threading.Lock = field(default_factory=threading.Lock)


class LiveSockets:
    """The app's sockets: who is connected, what was last broadcast, and the heartbeat."""

    def __init__(self, app: Flask, server: Any) -> None:
        self.app = app
        # The python-socketio server bound to this app; kept here rather than read from the
        # shared ``socketio`` object, which a later ``create_app`` would rebind.
        self.server = server
        self.services: Services = app.extensions["runsheet"]
        self.settings = {name: app.config.get(name, value) for name, value in DEFAULTS.items()}
        self.queued = bool(app.config.get("MESSAGE_QUEUE"))
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.presence = PresenceKeeper(
            self.services, self.process_id, server.start_background_task, server.sleep
        )
        self.interval = heartbeat_interval(self.services.ceremony.presence_grace)
        self.clients: dict[str, Client] = {}
        self._clients_lock = threading.Lock()
        # The sending allowance of each token holder, shared by all its connections, so that
        # connecting again does not bring a fresh burst: (events, patience, their lock).
        self._allowances: dict[Actor, tuple[TokenBucket, TokenBucket, threading.Lock]] = {}
        # Held while states are sent, so that they leave this process in version order and
        # a client joins its room only after its first state.
        self._send_lock = threading.RLock()
        self._sent: tuple[int, int] | None = None  # (event id, version) last broadcast
        self._started = False
        self._stopped = False
        self._start_lock = threading.Lock()

    # -- connecting ----------------------------------------------------------------------

    def connect(self, sid: str, auth: Any) -> None:
        """Admit a client: find its role, send its session and state, record its presence."""
        current = self.services.ceremony.current()
        token, expected = _credentials(auth)
        actor = identify(self.services.store, current.event_id, token)
        if expected is not None and actor != expected:
            raise Unauthenticated("this page's link is not valid; ask the organizer for a new one")
        actor = actor.at_console(console_label(auth.get("console")) if auth else None)
        throttle, lock = self._throttle_for(actor)
        self.start()
        self._greet(sid, actor)
        with self._clients_lock:
            self.clients[sid] = Client(actor, token, throttle, lock)
        if actor.role == "point":
            try:
                self.presence.page_connected(sid, current.event_id, actor.point_id)
            except Exception:  # the heartbeat records it again; the client may stay
                logger.exception("could not record the connection of %s", actor.label)

    def _throttle_for(self, actor: Actor) -> tuple[EventThrottle, threading.Lock]:
        """Return a new connection's throttle, and the lock that guards it.

        A public viewer's connection has an allowance of its own. A token's connections
        share one: a client dropped for flooding that connects again finds the allowance it
        used up, not a new burst (each accepted event may change the state for everyone).
        Whether to give up on a client is decided per connection.
        """
        settings = self.settings
        throttle = EventThrottle(
            settings["SOCKET_EVENTS_PER_SECOND"],
            settings["SOCKET_EVENT_BURST"],
            settings["SOCKET_PATIENCE"],
        )
        if actor.role == "public":
            return throttle, threading.Lock()
        with self._clients_lock:
            shared = self._allowances.setdefault(
                actor, (throttle.events, throttle.patience, threading.Lock())
            )
        throttle.events, throttle.patience, lock = shared
        return throttle, lock

    def disconnect(self, sid: str) -> None:
        """Forget a client; its point stays online for the grace period."""
        with self._clients_lock:
            client = self.clients.pop(sid, None)
        if client is not None and client.actor.role == "point":
            self.presence.page_disconnected(sid)

    def _greet(self, sid: str, actor: Actor) -> None:
        with self._send_lock:
            current = self.services.ceremony.current()
            if not self.queued:
                # Bring everyone to this version first, so that no older state (still on
                # its way from another thread) can reach this client after its first one.
                self._broadcast(current)
            self.server.emit("session", {"role": actor.role, "point_id": actor.point_id}, to=sid)
            self.server.emit("state", self.body(actor, current), to=sid)
            self.server.enter_room(sid, room_of(actor))
            if isinstance(self.server.manager, RedisQueue):
                self.server.manager.greeted(room_of(actor), _mark(current))

    # -- events --------------------------------------------------------------------------

    def handle(self, sid: str, name: Any, args: tuple[Any, ...]) -> dict[str, Any]:
        """Run one client event through the service and return its ack."""
        client = self.clients.get(sid)
        if client is None:
            return ack_error(Unauthenticated("this connection is closing; connect again"))
        ceremony = self.services.ceremony
        actor = None
        try:
            self._throttle(sid, client)
            if not isinstance(name, str) or name not in EVENTS:
                shown = str(name)[:40]
                raise NotFound(f"there is no event named {shown!r}", field="event")
            payload = event_payload(args, self.settings["SOCKET_MAX_PAYLOAD_BYTES"])
            if name == CLOCK_EVENT:
                return {"ok": True, "server_time": ceremony.clock().isoformat()}
            actor = self._identify(sid, client)
            current = ceremony.perform(actor, name, payload)
            return {"ok": True, "state": self.body(actor, current)}
        except (StaleVersion, JustMoved) as refused:  # acked with the state as it is now
            ack = ack_error(refused)
            ack["state"] = self.body(actor or client.actor, ceremony.current())
            return ack
        except RunsheetError as error:
            return ack_error(error)
        except Exception:
            logger.exception("socket event %r of %s failed", name, client.actor.label)
            return {
                "ok": False,
                "error": "the service failed to handle this event",
                "kind": "internal",
            }

    def _throttle(self, sid: str, client: Client) -> None:
        with client.lock:
            verdict = client.throttle.check(time.monotonic())
        if verdict is Verdict.ALLOW:
            return
        if verdict is Verdict.DISCONNECT:
            self._disconnect_soon(sid)
            raise RateLimited("too many events; this connection is being closed")
        raise RateLimited("too many events; slow down")

    def _identify(self, sid: str, client: Client) -> Actor:
        # The token is checked again on every event: rotated tokens or a newly loaded
        # event end what an earlier connection was allowed to do.
        try:
            actor = identify(
                self.services.store, self.services.ceremony.current().event_id, client.token
            )
        except Unauthenticated:
            self._disconnect_soon(sid)
            raise
        if actor != client.actor:
            self._disconnect_soon(sid)
            raise Unauthenticated("this connection's token changed hands; connect again")
        return client.actor  # the same holder, with the console it named on connecting

    def _disconnect_soon(self, sid: str) -> None:
        # Let the ack of the current event leave first.
        def later() -> None:
            self.server.sleep(0.2)
            self.server.disconnect(sid)

        self.server.start_background_task(later)

    # -- broadcasting --------------------------------------------------------------------

    def body(self, actor: Actor, current: Current) -> dict[str, Any]:
        """Return the state JSON for ``actor``, as the HTTP API returns it."""
        with self.app.app_context():
            return state_body(actor, current)

    def broadcast(self, current: Current) -> None:
        """Send a committed state to every client, each role its own variant."""
        with self._send_lock:
            self._broadcast(current)

    def _broadcast(self, current: Current) -> None:
        sent = self._sent
        if sent is not None and sent[0] == current.event_id and sent[1] >= current.version:
            return  # this version, or a later one, has gone out already
        self._sent = (current.event_id, current.version)
        # The Socket.IO server encodes an emit once for all its rooms' clients.
        for body, rooms in self.variants(current):
            self.server.emit("state", body, to=rooms)

    def variants(self, current: Current) -> list[tuple[dict[str, Any], list[str]]]:
        """Return each distinct state JSON a change sends, with the rooms it goes to.

        The public snapshot is built once and every role's variant derived from it; rooms
        whose variants are equal (the MC and every point while no message is addressed to
        one of them) share one emit, so a change is encoded two or three times, not 15.
        """
        plan, state = current.plan, current.state
        now = self.services.ceremony.clock()
        public = public_snapshot(plan, state, now)
        public["server_time"] = now.astimezone(plan.event.zone).isoformat()
        found: list[tuple[dict[str, Any], list[str]]] = []
        for actor in _audiences(current):
            body = as_seen_by(actor, public, plan, state)
            same = next((rooms for seen, rooms in found if seen == body), None)
            if same is not None:
                same.append(room_of(actor))
            else:
                found.append((body, [room_of(actor)]))
        return found

    # -- the heartbeat -------------------------------------------------------------------

    def start(self) -> None:
        """Start the heartbeat, once (it starts with the first connection)."""
        with self._start_lock:
            if self._started or self._stopped:
                return
            self._started = True
        self.server.start_background_task(self._beat)

    def stop(self) -> None:
        """Stop the heartbeat and record that this process's pages have left."""
        self._stopped = True
        try:
            self.presence.close_all()
        except Exception:
            logger.exception("could not record that this process's pages left")

    def _beat(self) -> None:
        while not self._stopped:
            self.server.sleep(self.interval)
            if self._stopped:
                break
            try:
                self.tick()
            except Exception:  # a database hiccup must not end the heartbeat
                logger.exception("the socket heartbeat failed; trying again")

    def tick(self) -> None:
        """Refresh presence, drop clients whose token no longer holds, send missed changes."""
        check_clock(self.services.ceremony.clock)  # a wall clock that jumped is logged here
        self.presence.tick()
        current = self.services.ceremony.current()
        self._drop_revoked(current.event_id)
        if not self.queued:
            # Changes committed by another process (the CLI, a second server sharing the
            # database without a queue) reach this process's clients here. With a message
            # queue every process publishes its own changes, so nothing is missed.
            with self._send_lock:
                self._broadcast(current)
        elif isinstance(self.server.manager, RedisQueue):
            # A change the queue lost (Redis restarting) reaches this process's clients here.
            self._catch_up(self.server.manager, current)

    def _catch_up(self, queue: RedisQueue, current: Current) -> None:
        audiences = {room_of(actor): actor for actor in _audiences(current)}

        def send(room: str) -> None:
            body = self.body(audiences[room], current)
            self.server.emit("state", body, to=room, ignore_queue=True)

        with self._send_lock:
            queue.catch_up(_mark(current), audiences, send)

    def _drop_revoked(self, event_id: int) -> None:
        with self._clients_lock:
            clients = list(self.clients.items())
        verdicts: dict[str | None, bool] = {}
        for sid, client in clients:
            if client.token is None:
                continue
            if client.token not in verdicts:
                try:
                    actor = identify(self.services.store, event_id, client.token)
                    verdicts[client.token] = actor == client.actor
                except Unauthenticated:
                    verdicts[client.token] = False
            if not verdicts[client.token]:
                self.server.disconnect(sid)


def _audiences(current: Current) -> list[Actor]:
    """Return one actor of each role that receives its own variant of the state."""
    actors = [PUBLIC, Actor("mc")]
    return actors + [Actor("point", point.id) for point in current.plan.points]


def _mark(current: Current) -> StateMark:
    return StateMark(current.plan.event.slug, current.version)


def _credentials(auth: Any) -> tuple[str | None, Actor | None]:
    """Return the token a client shows and, for a page, the role its cookie must hold."""
    if auth is None:
        return None, None
    if not isinstance(auth, dict):
        raise InvalidInput("auth must be a JSON object", field="auth")
    if "token" in auth:
        return auth["token"], None
    page = auth.get("page", "public")
    if page == "public":
        return None, PUBLIC
    if page == "mc":
        expected = Actor("mc")
    elif page == "point":
        point_id = auth.get("point_id")
        if not isinstance(point_id, str) or not point_id:
            raise InvalidInput("point_id: is required for a point's page", field="point_id")
        expected = Actor("point", point_id)
    else:
        raise InvalidInput(
            f"page: must be mc, point or public, not {str(page)[:20]!r}", field="page"
        )
    token = page_token(page, expected.point_id)
    if token is None:
        raise Unauthenticated("this page's link is not valid; ask the organizer for a new one")
    return token, expected


def _live() -> LiveSockets:
    return current_app.extensions[EXTENSION]


# -- handlers (bound to every app in ``init_sockets``) -----------------------------------


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
        return _live().handle(request.sid, name, args)

    handler.__name__ = f"on_{name}"
    handler.__doc__ = f"Perform {name!r} for the client and answer with an ack."
    return handler


for _name in sorted(EVENTS):
    socketio.on_event(_name, _action_handler(_name))


@socketio.on("*")
def on_unknown_event(name: Any, *args: Any) -> dict[str, Any]:
    """Answer an event nobody handles with an error (it still counts against the rate)."""
    return _live().handle(request.sid, name, args)


# A client event named "connect" or "disconnect" would reach the handlers of the connection
# itself (registering the client again under another role, or forgetting it while it stays
# connected), one named "*" reaches the catch-all handler with its arguments shifted, and one
# whose name is not text can break python-socketio's lookup of a handler. Such events are
# passed on under this name instead, with their own name as the first argument.
ODD_EVENT = "runsheet:odd-event"
HOOK_NAMES = frozenset({"connect", "disconnect", "*", ODD_EVENT})


@socketio.on(ODD_EVENT)
def on_odd_event(name: Any = None, *args: Any) -> dict[str, Any]:
    """Answer an event named like a hook, or not named by text, as an unknown event."""
    return _live().handle(request.sid, name, args)


def guard_event_names(server: Any) -> None:
    """Make ``server`` hand events named like its hooks to ``on_odd_event`` instead."""
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


def init_sockets(app: Flask) -> None:
    """Bind Socket.IO to ``app`` and broadcast every committed change of its ceremony."""
    # The extension keeps options between ``init_app`` calls; a client manager made for an
    # earlier app's message queue must not carry over to an app without one.
    socketio.server_options.pop("client_manager", None)
    socketio.server_options.pop("message_queue", None)
    config = app.config
    queue = config.get("MESSAGE_QUEUE")
    # Redis gets a manager that knows what each room was sent, to catch up after an outage.
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
    )
    guard_event_names(socketio.server)
    close_on_garbled_packets(socketio.server)
    fanout.install(socketio.server)  # under eventlet: write to idle WebSockets directly
    live = LiveSockets(app, socketio.server)
    app.extensions[EXTENSION] = live
    live.services.ceremony.subscribe(live.broadcast)


def start_sockets(app: Flask) -> None:
    """Start the app's socket heartbeat now rather than at the first connection (serving)."""
    app.extensions[EXTENSION].start()


def stop_sockets(app: Flask) -> None:
    """Stop the app's socket heartbeat and record that its pages left (at shutdown)."""
    live = app.extensions.get(EXTENSION)
    if live is not None:
        live.stop()
