"""How states go on the wire: WebSocket frames compressed once per push, and UTF-8 JSON.

Every change is pushed to every screen, so the work per client and push counts more than
anywhere else (figures in the README's Performance section):

- permessage-deflate, which browsers offer, lets the server compress what it sends: an
  advance's patch at 3,500 points is 1.6 KB of JSON and 0.45 KB compressed. Accepted as
  browsers offer it, each connection keeps its own compression window, so the server
  would compress every message once per client: at 1000 clients that cost more than all
  the rest of a broadcast. So the server answers every offer it accepts with
  ``server_no_context_takeover`` (RFC 7692 section 7.1.1.1 lets a server add it to any
  offer): each message is compressed on its own, its frame is the same for every
  connection, and the fan-out (``fanout.py``) compresses a push once for them all.
  Compressing costs every receiver an inflate, though, and where one process holds many
  connections (a script, a load client, a display wall) that costs more than the bytes
  save: the Node yardstick's 1000 clients took 2.5 times as long to have a 7.9 KB state
  compressed as plain. So ``WEBSOCKET_COMPRESSION`` is ``auto`` by default: accepted while
  the active plan has more than ``FULL_POINTS_LIMIT`` points (a national conference, where
  thousands of screens get every change and the uplink carries the bytes), declined up to
  it (a few hundred screens, a few KB each); ``on`` accepts always, ``off`` never (RFC
  7692 lets a server decline). The decision is made when a WebSocket opens, from the plan
  this process last saw; a page reloads on another event, so it opens again. It works by
  rewriting or hiding the client's offer before the WebSocket server reads it from the
  WSGI environ, eventlet's and simple-websocket's alike.
- The state goes out as UTF-8 JSON, not with non-ASCII escaped as ``\\uXXXX`` (Python's
  default): a fifth fewer bytes for Vietnamese text, and less for every screen to parse.
  That costs a UTF-8 encoding (about 13 µs for the default plan's state) where ASCII
  would be a copy, but the fan-out (``fanout.py``) encodes each packet once, not once per
  client. Packets are written by orjson (``jsontext``: 9 µs for that state where the
  standard library took 50, and python-socketio's search for binary data, which
  ``TextPacket`` skips, another 110). Text that UTF-8 cannot hold (a lone surrogate, which
  JSON allows and payload checks refuse) falls back to escaped JSON, so nothing a client
  sends can break a push. HTTP answers, one per request, keep Flask's escaped JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from socketio.packet import Packet

from ... import jsontext
from ...domain.plan import Plan
from ...services.snapshot import trims_points

OFFER = "HTTP_SEC_WEBSOCKET_EXTENSIONS"
ENABLED = {"1", "on", "true", "yes"}
DISABLED = {"0", "off", "false", "no"}
ON, OFF, AUTO = "on", "off", "auto"  # the modes of WEBSOCKET_COMPRESSION
COMPACT = (",", ":")
DEFLATE = "permessage-deflate"
NO_SERVER_CONTEXT = "server_no_context_takeover"


class SocketJSON:
    """The ``json`` module python-socketio and python-engineio encode packets with."""

    @staticmethod
    def dumps(obj: Any, **options: Any) -> str:
        """Return ``obj`` as JSON that UTF-8 can carry, non-ASCII text unescaped if it can."""
        if options.get("separators", COMPACT) == COMPACT and set(options) <= {"separators"}:
            return jsontext.dumps(obj)  # every packet python-socketio encodes
        text = json.dumps(obj, **{**options, "ensure_ascii": False})
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: only escaped JSON holds it
                return json.dumps(obj, **{**options, "ensure_ascii": True})
        return text

    @staticmethod
    def loads(text: str | bytes, **options: Any) -> Any:
        """Return the value a JSON text holds."""
        return json.loads(text, **options)


class TextPacket(Packet):
    """python-socketio's packet, for a server that sends JSON only, never binary data.

    python-socketio looks through everything it sends for bytes, to send them as binary
    attachments: 110 µs of every 170 it took to encode the 13-point plan's state. runsheet
    sends none, so its packets skip the search (``uses_binary_events``, as
    python-socketio's own msgpack packets do); what clients send is read as before.
    """

    uses_binary_events = False


def configure_wire(app: Flask) -> None:
    """Make ``app`` compress each message on its own, always, never or for large plans."""
    mode = compression_mode(app.config.get("WEBSOCKET_COMPRESSION"))
    if mode == ON:
        rewrite: Callable[[str], str | None] = without_server_context
    elif mode == OFF:
        rewrite = decline
    else:
        rewrite = ForLargePlans(app.extensions["runsheet"].ceremony.known_plan)
    # Outermost, so that no server below (eventlet's or simple-websocket's) sees the offer.
    app.wsgi_app = RewriteOffer(app.wsgi_app, rewrite)  # type: ignore[method-assign]


def compression_mode(setting: Any) -> str:
    """Return ``"on"``, ``"off"`` or ``"auto"`` for a ``WEBSOCKET_COMPRESSION`` setting.

    A bool, or text: ``auto`` (also unset), or one of the usual words for on and off.
    Anything else is refused, naming the setting, rather than read as one of them.
    """
    if setting is None:
        return AUTO
    if isinstance(setting, bool):
        return ON if setting else OFF
    word = str(setting).strip().lower()
    if word in ("", AUTO):
        return AUTO
    if word in ENABLED:
        return ON
    if word in DISABLED:
        return OFF
    raise ValueError(f"RUNSHEET_WEBSOCKET_COMPRESSION must be auto, on or off, not {setting!r}")


class ForLargePlans:
    """The ``auto`` rewrite: compress (each message alone) above the points limit only."""

    def __init__(self, plan_of: Callable[[], Plan | None]) -> None:
        self.plan_of = plan_of  # the active plan as this process knows it, or None

    def __call__(self, offer: str) -> str | None:
        """Return the offer asking for messages compressed alone, or None to decline."""
        plan = self.plan_of()
        if plan is not None and trims_points(plan):
            return without_server_context(offer)
        return None


class RewriteOffer:
    """WSGI middleware: the client's WebSocket extension offer rewritten before it is read."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], rewrite: Callable[[str], str | None]
    ) -> None:
        self.app = app
        self.rewrite = rewrite  # the offer to pass on, or None to offer nothing

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Rewrite the offer, if there is one, then serve the request."""
        offer = environ.pop(OFFER, None)
        if offer:
            rewritten = self.rewrite(offer)
            if rewritten is not None:
                environ[OFFER] = rewritten
        return self.app(environ, start_response)


def decline(offer: str) -> None:  # noqa: ARG001 - every offer is declined alike
    """Offer nothing: the WebSocket opens without any extension."""
    return None


def without_server_context(offer: str) -> str:
    """Return a ``Sec-WebSocket-Extensions`` offer whose permessage-deflate offers all ask
    for ``server_no_context_takeover`` (the other extensions and parameters as they were)."""
    extensions = []
    for extension in offer.split(","):
        name, *params = (part.strip() for part in extension.split(";"))
        names = {param.partition("=")[0].strip().lower() for param in params}
        if name.lower() == DEFLATE and NO_SERVER_CONTEXT not in names:
            params.append(NO_SERVER_CONTEXT)
        extensions.append("; ".join([name, *params]))
    return ", ".join(extensions)
