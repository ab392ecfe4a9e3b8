"""Calendar SEQUENCE numbers, raised when a component's time, place, title or status changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from ..domain.plan import Plan


def record_plan(conn: Connection, event_id: int, plan: Plan, now: datetime) -> None:
    """Raise the SEQUENCE of every calendar component the new plan changes."""
    # The calendar engineer fills this in; installing a plan already calls it.
