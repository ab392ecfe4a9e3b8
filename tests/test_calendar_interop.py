"""Every file the service produces parses cleanly with icalendar, vobject and ical.js.

ical.js is Mozilla's parser (Thunderbird's), run in strict mode by tests/js/check_ics.mjs;
install it with ``npm ci --prefix tests/js``. Without it these tests fail; they never skip.
"""

from __future__ import annotations

from pathlib import Path

import icalendar
import pytest
import vobject

from runsheet.calendar.invites import write_event_invites
from runsheet.plans import default_plan
from runsheet.services.ceremony import utc_now

from .calendar_fixtures import (
    FEED_URLS,
    fetch_all,
    icaljs,
    moved,
    reload,
    run_icaljs,
    with_conference,
    with_contacts,
    without_item,
)
from .conftest import tokens_of


@pytest.fixture
def produced(app, client, tmp_path) -> dict[str, Path]:
    """Write every kind of file the service makes: the four feeds before and after a reload
    that moves the start and removes an item, and the invites and their cancellations."""
    files: dict[str, Path] = {}

    def keep(name: str, body: bytes) -> None:
        path = tmp_path / f"{name}.ics"
        path.write_bytes(body)
        files[name] = path

    for feed, body in fetch_all(client).items():
        keep(feed, body)
    changed = with_contacts(without_item(moved(default_plan(), 30), "phat-bieu-nguoi-hoc"))
    reload(app, with_conference(changed))
    for feed, body in fetch_all(client).items():
        keep(f"{feed}-after-reload", body)
    # The point's own file, with the conference's passcode (its page's link).
    token = tokens_of(app)["thoi-an"]
    private = client.get(f"/calendar/points/thoi-an.ics?token={token}")
    assert private.status_code == 200
    keep("point-private", private.data)
    svc = app.extensions["runsheet"]
    current = svc.ceremony.current()
    for cancel in (False, True):
        for path in write_event_invites(
            svc.store,
            current.event_id,
            current.plan,
            tmp_path / "invites",
            cancel,
            domain=svc.calendar_domain,
            base_url=svc.base_url,
            now=utc_now(),
        ):
            files[path.stem] = path
    return files


def test_the_produced_files_cover_feeds_cancellations_and_invites(produced):
    assert set(FEED_URLS) <= set(produced)
    assert b"CONFERENCE;" in produced["point-private"].read_bytes()
    assert b"CONFERENCE;" in produced["ceremony-after-reload"].read_bytes()
    assert b"STATUS:CANCELLED" in produced["agenda-after-reload"].read_bytes()
    assert {"invite-thoi-an", "cancel-thoi-an"} <= set(produced)


def test_icalendar_parses_every_file_without_errors(produced):
    for name, path in produced.items():
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        for component in calendar.walk():
            assert component.errors == [], (name, component.name, component.errors)
        assert calendar.walk("VEVENT"), name


def test_vobject_parses_and_validates_every_file(produced):
    for name, path in produced.items():
        calendar = vobject.readOne(path.read_text(encoding="utf-8"), validate=True)
        calendar.validate(raiseException=True)
        assert calendar.vevent_list, name
        for event in calendar.vevent_list:
            start = event.dtstart.value
            if hasattr(start, "tzinfo"):
                assert start.tzinfo is not None, (name, "floating start")


def test_icaljs_parses_every_file_in_strict_mode(produced):
    names = sorted(produced)
    parsed = dict(zip(names, icaljs([produced[n] for n in names]), strict=True))
    for name, result in parsed.items():
        expected = icalendar.Calendar.from_ical(produced[name].read_bytes())
        assert result["version"] == "2.0"
        assert result["method"] == str(expected["METHOD"])
        uids = [str(event["UID"]) for event in expected.walk("VEVENT")]
        assert [event["uid"] for event in result["events"]] == uids, name
        timed = [event for event in result["events"] if not event["all_day"]]
        if timed:
            assert result["timezones"] == ["Asia/Ho_Chi_Minh"], name
            assert {event["start_tzid"] for event in timed} == {"Asia/Ho_Chi_Minh"}


def test_icaljs_reads_eight_in_ho_chi_minh_as_one_utc(produced):
    before, after = icaljs([produced["ceremony"], produced["ceremony-after-reload"]])
    assert before["events"][0]["start"] == "2021-10-01T01:00:00.000Z"
    assert before["events"][0]["end"] == "2021-10-01T02:00:00.000Z"
    assert after["events"][0]["start"] == "2021-10-01T01:30:00.000Z"
    assert after["events"][0]["sequence"] == before["events"][0]["sequence"] + 1
    assert after["events"][0]["uid"] == before["events"][0]["uid"]


def test_icaljs_sees_the_cancelled_item_and_the_reminders(produced):
    [agenda] = icaljs([produced["agenda-after-reload"]])
    statuses = {event["summary"]: event["status"] for event in agenda["events"]}
    assert statuses["Phát biểu hưởng ứng của người học tập"] == "CANCELLED"
    assert list(statuses.values()).count("CONFIRMED") == 6
    for event in agenda["events"]:
        triggers = [alarm["trigger"] for alarm in event["alarms"]]
        assert triggers == ([] if event["status"] == "CANCELLED" else ["-PT15M"])


def test_icaljs_sees_the_invite_and_its_cancellation_as_one_event(produced):
    invite, cancel = icaljs([produced["invite-thoi-an"], produced["cancel-thoi-an"]])
    assert (invite["method"], cancel["method"]) == ("REQUEST", "CANCEL")
    [request_event], [cancel_event] = invite["events"], cancel["events"]
    assert request_event["uid"] == cancel_event["uid"]
    assert cancel_event["sequence"] == request_event["sequence"] + 1
    assert cancel_event["status"] == "CANCELLED"
    [attendee] = request_event["attendees"]
    assert attendee["value"] == "mailto:thoian@quan12.example.org"
    assert attendee["params"]["rsvp"] == "TRUE"
    assert request_event["organizer"]["value"] == "mailto:gddt@quan12.example.org"


def test_the_icaljs_check_refuses_a_malformed_file(tmp_path):
    # Proves the strict check can fail: a date-time written in ISO 8601 extended form.
    bad = tmp_path / "bad.ics"
    bad.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
        b"UID:x@y\r\nDTSTAMP:20210101T000000Z\r\nDTSTART:2021-10-01T08:00:00\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = run_icaljs([bad])
    assert result.returncode != 0
    assert "bad.ics" in result.stderr


def test_the_icaljs_check_refuses_a_tzid_without_its_vtimezone(tmp_path):
    floating = tmp_path / "floating.ics"
    floating.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
        b"UID:x@y\r\nDTSTAMP:20210101T000000Z\r\n"
        b"DTSTART;TZID=Asia/Ho_Chi_Minh:20211001T080000\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = run_icaljs([floating])
    assert result.returncode != 0
    assert "no known time zone" in result.stderr


def test_icaljs_sees_a_wards_own_deadlines_as_all_day_events_in_its_file(produced):
    [point] = icaljs([produced["point"]])
    deadlines = [event for event in point["events"] if "-deadline-" in event["uid"]]
    assert [(event["start"], event["end"]) for event in deadlines] == [
        ("2021-09-29", "2021-09-30"),
        ("2021-10-10", "2021-10-11"),
    ]
    assert all(event["status"] == "CONFIRMED" for event in deadlines)
    # the same events as in the week's file: one UID each, whichever file a ward subscribes to
    [week] = icaljs([produced["week"]])
    week_uids = {event["uid"]: event["sequence"] for event in week["events"]}
    assert all(week_uids[event["uid"]] == event["sequence"] for event in deadlines)
