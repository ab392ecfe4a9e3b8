"""How states go on the wire: WebSocket compression only if asked, and ASCII JSON.

Every change is pushed to every screen, so the work per client and push counts more than
anywhere else (figures in the README's Performance section):

- permessage-deflate, which browsers offer, makes the WebSocket server compress every
  message once per client, since each connection has its own compression window: at 1000
  clients that cost more than all the rest of a broadcast. It is declined unless
  ``WEBSOCKET_COMPRESSION`` is on, by hiding the client's offer from the WebSocket server,
  which then answers without the extension (RFC 7692 lets a server decline). This holds
  for eventlet's and simple-websocket's servers alike: both read the offer from the WSGI
  environ.
- JSON stays ASCII (non-ASCII as ``\\uXXXX``, the default of Python's ``json``, Flask and
  python-socketio). Written as UTF-8 the state would be a fifth smaller, but eventlet
  encodes every frame to bytes once per client, and that is a plain copy for ASCII text
  but a character-by-character encoding (about 13 µs for the default plan's state) for
  Vietnamese text; and escaped JSON can carry any string a client sent, even a lone
  surrogate, which UTF-8 cannot encode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

OFFER = "HTTP_SEC_WEBSOCKET_EXTENSIONS"
ENABLED = {"1", "on", "true", "yes"}


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
