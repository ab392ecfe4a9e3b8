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
    "MAX_CONNECTIONS": ("RUNSHEET_MAX_CONNECTIONS", "4096"),
    "CALENDAR_DOMAIN": ("RUNSHEET_CALENDAR_DOMAIN", None),  # None: BASE_URL's host
    "WEBSOCKET_COMPRESSION": ("RUNSHEET_WEBSOCKET_COMPRESSION", "off"),  # permessage-deflate
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
    "INBOUND_BYTES_PER_SECOND",
    "INBOUND_BYTES_BURST",
    "INBOUND_PACKETS_PER_SECOND",
    "INBOUND_PACKETS_BURST",
    "REQUEST_HEAD_TIMEOUT",
    "KEEPALIVE_TIMEOUT",
}

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
        settings[name] = int(value) if name in INTEGER_SETTINGS and value is not None else value
    return settings
