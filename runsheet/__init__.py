"""runsheet: run a virtual ceremony — live run-sheet, check-ins, calendar invites."""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str):  # noqa: ANN202
    # Imported lazily so that `runsheet serve` can let eventlet patch the standard
    # library before Flask, SQLAlchemy or Socket.IO are imported.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
