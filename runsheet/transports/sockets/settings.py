"""The sockets' settings: their defaults, and the origins Socket.IO accepts."""

from __future__ import annotations

from collections.abc import Iterable

# Defaults of the settings the sockets read (each overridable in the app's config).
DEFAULTS = {
    "SOCKET_EVENTS_PER_SECOND": 5,  # steady rate of events accepted from one client
    "SOCKET_EVENT_BURST": 20,  # events accepted at once before the rate applies
    "SOCKET_PATIENCE": 40,  # refused events tolerated before disconnecting a flooder
    "SOCKET_MAX_PAYLOAD_BYTES": 16 * 1024,  # larger payloads are refused as too_large
    "SOCKET_PING_INTERVAL": 10,  # seconds; a vanished client is noticed within
    "SOCKET_PING_TIMEOUT": 10,  # interval + timeout, then its point's grace period runs
}


def allowed_origins(setting: str | Iterable[str] | None) -> str | list[str] | None:
    """Return the origins Socket.IO accepts: None means the service's own origin only."""
    if setting is None or setting == "":
        return None
    if isinstance(setting, str):
        if setting.strip() == "*":
            return "*"
        return [origin.strip() for origin in setting.split(",") if origin.strip()]
    return list(setting)
