"""Helpers for the calendar tests: changed plans, reloading them, reading and parsing files.

``icaljs`` runs Mozilla's ical.js (tests/js) in a Node subprocess; when it is not installed
the test fails and says how to install it, it never skips.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from runsheet.domain.plan import Conference, Plan
from runsheet.services.ceremony import utc_now
from runsheet.services.plans import install_plan

JS_DIR = Path(__file__).parent / "js"
MISSING_ICALJS = "ical.js is not installed: run `npm ci --prefix tests/js` (scripts/test.sh does)"
FEED_URLS = {
    "ceremony": "/calendar/ceremony.ics",
    "point": "/calendar/points/thoi-an.ics",
    "agenda": "/calendar/agenda.ics",
    "week": "/calendar/week.ics",
}


def moved(plan: Plan, minutes: int) -> Plan:
    """Return the plan with its start moved by ``minutes``."""
    event = replace(plan.event, starts_at=plan.event.starts_at + timedelta(minutes=minutes))
    return replace(plan, event=event)


def without_item(plan: Plan, item_id: str) -> Plan:
    """Return the plan without one programme item."""
    return replace(plan, agenda=tuple(i for i in plan.agenda if i.id != item_id))


def with_item_title(plan: Plan, item_id: str, title: str) -> Plan:
    """Return the plan with one programme item renamed."""
    agenda = tuple(replace(i, title=title) if i.id == item_id else i for i in plan.agenda)
    return replace(plan, agenda=agenda)


def with_contacts(plan: Plan, organizer_email: str | None = "gddt@quan12.example.org") -> Plan:
    """Return the plan with an organizer e-mail and a contact e-mail on three points only."""
    contacts = {
        "phong-hop-a": ("Nguyễn Văn An", "phonghopa@quan12.example.org"),
        "thoi-an": ("Trần Thị Bình", "thoian@quan12.example.org"),
        "thanh-loc": ("", "thanhloc@quan12.example.org"),
    }
    points = tuple(
        replace(p, contact_name=contacts[p.id][0] or None, contact_email=contacts[p.id][1])
        if p.id in contacts
        else p
        for p in plan.points
    )
    return replace(plan, event=replace(plan.event, organizer_email=organizer_email), points=points)


# A conference whose every detail is easy to find in a file's bytes.
PASSCODE = "Mk7-secret-4821"
EVENT_CONFERENCE = Conference(
    url="https://zoom.example.org/j/81401234567",
    platform="Zoom",
    meeting_id="814 0123 4567",
    passcode=PASSCODE,
)
OWN_CONFERENCE = Conference(
    url="https://meet.example.org/abc-defg-hij",
    platform="Google Meet",
    meeting_id="abc-defg-hij",
    passcode="Own-pass-9137",
)
LIVESTREAM = "https://video.example.org/live/khai-mac-2021"


def with_conference(plan: Plan, own_point: str = "phong-hop-b") -> Plan:
    """Return the plan with the event's conference, a livestream, and one point's own meeting."""
    event = replace(plan.event, conference=EVENT_CONFERENCE, livestream_url=LIVESTREAM)
    points = tuple(
        replace(p, conference=OWN_CONFERENCE) if p.id == own_point else p for p in plan.points
    )
    return replace(plan, event=event, points=points)


def reload(app, plan: Plan, now: datetime | None = None) -> None:  # noqa: ANN001
    """Install ``plan`` over the app's event, as ``runsheet load`` does (at ``now``)."""
    svc = app.extensions["runsheet"]
    install_plan(svc.store, plan, svc.secret_key, now or utc_now())


def fetch_all(client) -> dict[str, bytes]:  # noqa: ANN001
    """Return the body of each of the four published files."""
    bodies = {}
    for feed, url in FEED_URLS.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.data[:200])
        bodies[feed] = response.data
    return bodies


def vevents(body: bytes) -> list[icalendar.Event]:
    """Return the VEVENTs of a file, parsed by icalendar."""
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def by_uid(body: bytes) -> dict[str, icalendar.Event]:
    """Return a file's VEVENTs by UID."""
    return {str(event["UID"]): event for event in vevents(body)}


def sequences(body: bytes) -> dict[str, int]:
    """Return each VEVENT's SEQUENCE by UID."""
    return {uid: int(event["SEQUENCE"]) for uid, event in by_uid(body).items()}


def icaljs(paths: list[Path]) -> list[dict]:
    """Parse files strictly with ical.js and return what it read (see tests/js/check_ics.mjs)."""
    result = run_icaljs(paths)
    assert result.returncode == 0, f"ical.js refused a file: {result.stderr}"
    return json.loads(result.stdout)["files"]


def run_icaljs(paths: list[Path]) -> subprocess.CompletedProcess:
    """Run the ical.js checker on files and return the finished process."""
    if not (JS_DIR / "node_modules" / "ical.js" / "package.json").is_file():
        pytest.fail(
            "ical.js is not installed: run `npm ci --prefix tests/js` (scripts/test.sh does)"
        )
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed to run ical.js; install Node 18 or later")
    return subprocess.run(
        [node, str(JS_DIR / "check_ics.mjs"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
