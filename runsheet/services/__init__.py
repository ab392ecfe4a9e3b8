"""The service layer: use cases that load, apply the ceremony's rules, store, then publish."""

from __future__ import annotations

from dataclasses import dataclass

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
