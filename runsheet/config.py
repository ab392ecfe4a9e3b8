"""Configuration: every setting read from the environment in one place, with defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

ENVIRONMENT = {
    # setting name: (environment variable, default)
    "DATABASE_URL": ("RUNSHEET_DATABASE_URL", None),  # None: SQLite in the instance folder
    "MESSAGE_QUEUE": ("RUNSHEET_MESSAGE_QUEUE", None),  # e.g. redis://127.0.0.1:6379/0
    "SECRET_KEY": ("RUNSHEET_SECRET_KEY", None),  # None: generated once, kept in instance
    "BASE_URL": ("RUNSHEET_BASE_URL", None),  # None: http://127.0.0.1:$PORT (5000)
    "ASYNC_MODE": ("RUNSHEET_ASYNC_MODE", "threading"),  # `runsheet serve` uses eventlet
    "CORS_ALLOWED_ORIGINS": ("RUNSHEET_CORS_ALLOWED_ORIGINS", None),  # None: same origin
    "PRESENCE_GRACE_SECONDS": ("RUNSHEET_PRESENCE_GRACE_SECONDS", "10"),
    # A move of the run-sheet this soon after another needs "confirm": true; 0 turns it off.
    "MOVE_GUARD_SECONDS": ("RUNSHEET_MOVE_GUARD_SECONDS", "2"),
    "MAX_CONNECTIONS": ("RUNSHEET_MAX_CONNECTIONS", "4096"),
    "CALENDAR_DOMAIN": ("RUNSHEET_CALENDAR_DOMAIN", None),  # None: BASE_URL's host
    # permessage-deflate: auto (above 200 points), on or off (runsheet/transports/sockets/wire.py)
    "WEBSOCKET_COMPRESSION": ("RUNSHEET_WEBSOCKET_COMPRESSION", "auto"),
    # HTTP requests each client address and each token may send: a steady rate, after a
    # burst. A Stream Deck, a console and a page send a few a second at most; 0 turns it off.
    "HTTP_REQUESTS_PER_SECOND": ("RUNSHEET_HTTP_REQUESTS_PER_SECOND", "20"),
    "HTTP_BURST": ("RUNSHEET_HTTP_BURST", "200"),
    # Reverse proxies in front that set X-Forwarded-For (0: the peer is the client).
    "TRUSTED_PROXIES": ("RUNSHEET_TRUSTED_PROXIES", "0"),
    # What one connection of `runsheet serve` may send (runsheet/transports/server.py);
    # far above what a page or a script sends, so that only a flood meets it.
    "INBOUND_BYTES_PER_SECOND": ("RUNSHEET_INBOUND_BYTES_PER_SECOND", str(256 * 1024)),
    "INBOUND_BYTES_BURST": ("RUNSHEET_INBOUND_BYTES_BURST", str(2 * 1024 * 1024)),
    "INBOUND_PACKETS_PER_SECOND": ("RUNSHEET_INBOUND_PACKETS_PER_SECOND", "100"),
    "INBOUND_PACKETS_BURST": ("RUNSHEET_INBOUND_PACKETS_BURST", "1000"),
    "REQUEST_HEAD_TIMEOUT": ("RUNSHEET_REQUEST_HEAD_TIMEOUT", "10"),  # seconds
    "KEEPALIVE_TIMEOUT": ("RUNSHEET_KEEPALIVE_TIMEOUT", "60"),  # seconds
}

INTEGER_SETTINGS = {
    "PRESENCE_GRACE_SECONDS",
    "MAX_CONNECTIONS",
    "HTTP_BURST",
    "TRUSTED_PROXIES",
    "INBOUND_BYTES_PER_SECOND",
    "INBOUND_BYTES_BURST",
    "INBOUND_PACKETS_PER_SECOND",
    "INBOUND_PACKETS_BURST",
    "REQUEST_HEAD_TIMEOUT",
    "KEEPALIVE_TIMEOUT",
}
FLOAT_SETTINGS = {"HTTP_REQUESTS_PER_SECOND", "MOVE_GUARD_SECONDS"}

# Tokens are HMACs of the secret key: a short key is found offline from any one token.
MIN_SECRET_KEY_BYTES = 32
MAKE_A_SECRET_KEY = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'

# Largest request body or socket payload accepted, in bytes.
MAX_CONTENT_LENGTH = 64 * 1024


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the settings found in the environment, with their defaults."""
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {"MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH}
    for name, (variable, default) in ENVIRONMENT.items():
        value = environ.get(variable) or default
        if name == "BASE_URL" and not environ.get(variable):
            value = f"http://127.0.0.1:{environ.get('PORT') or 5000}"
        if value is not None and name in INTEGER_SETTINGS:
            value = int(value)
        elif value is not None and name in FLOAT_SETTINGS:
            value = float(value)
        settings[name] = value
    return settings


def secret_key_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """Return why RUNSHEET_SECRET_KEY cannot be used, or None (unset means generated)."""
    environ = os.environ if environ is None else environ
    key = environ.get("RUNSHEET_SECRET_KEY")
    if not key:
        return None  # the key generated into the instance folder is strong
    size = len(key.encode("utf-8"))
    if size >= MIN_SECRET_KEY_BYTES:
        return None
    return (
        f"RUNSHEET_SECRET_KEY is {size} bytes long; it must be at least "
        f"{MIN_SECRET_KEY_BYTES} bytes, or anyone holding one link can work out every other "
        f"token. Make one with: {MAKE_A_SECRET_KEY}"
    )
