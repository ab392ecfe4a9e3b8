"""Where a point stands with a deadline: days left, and submitted, late, missing or pending.

Days are counted in the event's time zone: a deadline "due on 29/9" ends at midnight that
night there, wherever the server runs. A point that delivered by then is "submitted"; one
that delivered after it is "late" (its first delivery counts: a corrected document sent
later does not make an on-time delivery late); nothing by then is "missing"; before it, a
point that has not delivered yet is "pending". No framework imports.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .plan import Deadline

STATUSES = ("submitted", "late", "missing", "pending")


def due_end(deadline: Deadline, zone: ZoneInfo) -> datetime:
    """Return the moment the deadline's due date ends in the event's zone (aware)."""
    return datetime.combine(deadline.due_on + timedelta(days=1), time(0), tzinfo=zone)


def local_today(now: datetime, zone: ZoneInfo) -> date:
    """Return today's date in the event's zone."""
    return now.astimezone(zone).date()


def days_left(deadline: Deadline, now: datetime, zone: ZoneInfo) -> int:
    """Return the days until the due date (0: today; negative: that many days over)."""
    return (deadline.due_on - local_today(now, zone)).days


def status_of(
    deadline: Deadline, first_submitted_at: datetime | None, now: datetime, zone: ZoneInfo
) -> str:
    """Return one of STATUSES for a point that first delivered at ``first_submitted_at``."""
    end = due_end(deadline, zone)
    if first_submitted_at is not None:
        return "submitted" if first_submitted_at < end else "late"
    return "missing" if now >= end else "pending"
