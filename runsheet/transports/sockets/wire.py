"""How states go on the wire: WebSocket compression only if asked, and UTF-8 JSON.

Every change is pushed to every screen, so the work per client and push counts more than
anywhere else (figures in the README's Performance section):

- permessage-deflate, which browsers offer, makes the WebSocket server compress every
  message once per client, since each connection has its own compression window: at 1000
  clients that cost more than all the rest of a broadcast. It is declined unless
  ``WEBSOCKET_COMPRESSION`` is on, by hiding the client's offer from the WebSocket server,
  which then answers without the extension (RFC 7692 lets a server decline). This holds
  for eventlet's and simple-websocket's servers alike: both read the offer from the WSGI
  environ.
- The state goes out as UTF-8 JSON, not with non-ASCII escaped as ``\\uXXXX`` (Python's
  default): a fifth fewer bytes for Vietnamese text, and less for every screen to parse.
  That costs a UTF-8 encoding (about 13 µs for the default plan's state) where ASCII
  would be a copy, but the fan-out (``fanout.py``) encodes each packet once, not once per
  client. Text that UTF-8 cannot hold (a lone surrogate, which JSON allows and payload
  checks refuse) falls back to escaped JSON, so nothing a client sends can break a push.
  HTTP answers, one per request, keep Flask's escaped JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

OFFER = "HTTP_SEC_WEBSOCKET_EXTENSIONS"
ENABLED = {"1", "on", "true", "yes"}


class SocketJSON:
    """The ``json`` module python-socketio and python-engineio encode packets with."""

    @staticmethod
    def dumps(obj: Any, **options: Any) -> str:
        """Return ``obj`` as JSON that UTF-8 can carry, non-ASCII text unescaped if it can."""
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


def configure_wire(app: Flask) -> None:
    """Make ``app`` open WebSockets uncompressed unless its settings ask for compression."""
    if not compression_enabled(app.config.get("WEBSOCKET_COMPRESSION")):
        # Outermost, so that no server below (eventlet's or simple-websocket's) sees the offer.
        app.wsgi_app = DeclineCompression(app.wsgi_app)  # type: ignore[method-assign]


def compression_enabled(setting: Any) -> bool:
    """Say whether a ``WEBSOCKET_COMPRESSION`` setting (bool or text) turns compression on."""
    if isinstance(setting, str):
        return setting.strip().lower() in ENABLED
    return bool(setting)


class DeclineCompression:
    """WSGI middleware: open WebSockets without permessage-deflate, whatever the client offers."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Drop the client's extension offer, then serve the request."""
        environ.pop(OFFER, None)
        return self.app(environ, start_response)
