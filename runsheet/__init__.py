"""runsheet: run a virtual ceremony — live run-sheet, check-ins, calendar invites."""

from .app import create_app

__all__ = ["create_app"]
