"""The service layer: use cases that load, apply the ceremony's rules, store, then publish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..calendar.invites import write_event_invites
from ..storage.store import Store
from .ceremony import CeremonyService


@dataclass
class Services:
    """What transports need to serve one installation."""

    store: Store
    ceremony: CeremonyService
    secret_key: str
    base_url: str
    calendar_domain: str

    def write_invites(self, out_dir: Path, cancel: bool, now: datetime) -> list[Path]:
        """Write the active event's e-mail invites (or cancellations) to ``out_dir``."""
        current = self.ceremony.current()
        return write_event_invites(
            self.store,
            current.event_id,
            current.plan,
            out_dir,
            cancel,
            domain=self.calendar_domain,
            base_url=self.base_url,
            now=now,
        )
