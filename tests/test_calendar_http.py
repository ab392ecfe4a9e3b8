"""The four calendar URLs: headers, ETag/304, content, UIDs and SEQUENCE across reloads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from runsheet.calendar.sequences import ensure_recorded
from runsheet.plans import default_plan
from runsheet.services.ceremony import utc_now

from .calendar_fixtures import (
    FEED_URLS,
    by_uid,
    fetch_all,
    moved,
    reload,
    sequences,
    vevents,
    with_item_title,
    without_item,
)
from .conftest import make_app

SLUG = "hoc-tap-suot-doi-2021-quan-12"
DOMAIN = "127.0.0.1"


@pytest.mark.parametrize("feed", FEED_URLS)
def test_each_file_is_served_as_text_calendar_with_a_file_name_and_an_etag(client, feed):
    response = client.get(FEED_URLS[feed])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.endswith('.ics"') and SLUG in disposition
    assert response.headers["ETag"].startswith('"')
    assert response.headers["Last-Modified"]
    assert response.data.startswith(b"BEGIN:VCALENDAR\r\n")


@pytest.mark.parametrize("feed", FEED_URLS)
def test_a_client_holding_the_current_etag_gets_304_without_a_body(client, feed):
    etag = client.get(FEED_URLS[feed]).headers["ETag"]
    again = client.get(FEED_URLS[feed], headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag


def test_a_client_holding_an_old_etag_gets_the_new_file(app, client):
    old = client.get("/calendar/ceremony.ics").headers["ETag"]
    reload(app, moved(default_plan(), 30))
    response = client.get("/calendar/ceremony.ics", headers={"If-None-Match": old})
    assert response.status_code == 200
    assert response.headers["ETag"] != old


def test_the_same_plan_gives_the_same_bytes_on_every_request(client):
    assert fetch_all(client) == fetch_all(client)


def test_uids_stay_the_same_across_requests_and_a_restart(app, client, database_url, clock):
    first = {feed: sorted(by_uid(body)) for feed, body in fetch_all(client).items()}
    restarted = make_app(database_url, clock).test_client()
    again = {feed: sorted(by_uid(body)) for feed, body in fetch_all(restarted).items()}
    assert again == first
    assert first["ceremony"] == [f"{SLUG}-ceremony@{DOMAIN}"]
    # a ward's file: the ceremony as seen from it, and the deadlines it delivers by
    assert first["point"] == [
        f"{SLUG}-deadline-phuong-bao-cao-ket-qua@{DOMAIN}",
        f"{SLUG}-deadline-phuong-gui-ke-hoach@{DOMAIN}",
        f"{SLUG}-point-thoi-an@{DOMAIN}",
    ]
    assert f"{SLUG}-item-dien-van-khai-mac@{DOMAIN}" in first["agenda"]
    assert f"{SLUG}-deadline-phuong-gui-ke-hoach@{DOMAIN}" in first["week"]


def test_a_restart_serves_byte_identical_files(app, client, database_url, clock):
    before = fetch_all(client)
    assert fetch_all(make_app(database_url, clock).test_client()) == before


def test_a_configured_calendar_domain_is_used_in_uids(database_url, clock):
    client = make_app(database_url, clock, CALENDAR_DOMAIN="lich.quan12.example.org").test_client()
    uids = by_uid(client.get("/calendar/ceremony.ics").data)
    assert list(uids) == [f"{SLUG}-ceremony@lich.quan12.example.org"]


def test_moving_the_start_by_half_an_hour_bumps_the_ceremony_points_and_items_only(app, client):
    before = fetch_all(client)
    reload(app, moved(default_plan(), 30))
    after = fetch_all(client)
    for feed in ("ceremony", "point", "agenda"):
        assert set(sequences(after[feed])) == set(sequences(before[feed]))  # same UIDs
        for uid, sequence in sequences(after[feed]).items():
            bump = 0 if "-deadline-" in uid else 1  # a ward's deadlines keep their dates
            assert sequence == sequences(before[feed])[uid] + bump, (feed, uid)
    assert after["week"] == before["week"]
    start = vevents(after["ceremony"])[0].DTSTART
    assert start.astimezone(UTC) == datetime(2021, 10, 1, 1, 30, tzinfo=UTC)


def test_every_point_file_is_bumped_when_the_start_moves(app, client):
    point_ids = [p.id for p in default_plan().points]
    before = {pid: client.get(f"/calendar/points/{pid}.ics").data for pid in point_ids}
    reload(app, moved(default_plan(), 30))
    for pid in point_ids:
        after = client.get(f"/calendar/points/{pid}.ics").data
        [(uid, sequence)] = [(u, s) for u, s in sequences(after).items() if "-point-" in u]
        assert sequences(before[pid])[uid] == sequence - 1


def test_renaming_one_item_bumps_only_that_item(app, client):
    before = fetch_all(client)
    reload(app, with_item_title(default_plan(), "ket-thuc", "Bế mạc Lễ khai mạc"))
    after = fetch_all(client)
    renamed = f"{SLUG}-item-ket-thuc@{DOMAIN}"
    changed = {
        uid
        for feed in FEED_URLS
        for uid, sequence in sequences(after[feed]).items()
        if sequence != sequences(before[feed])[uid]
    }
    assert changed == {renamed}
    assert str(by_uid(after["agenda"])[renamed]["SUMMARY"]) == "Bế mạc Lễ khai mạc"
    # The ceremony lists the programme: its text changed, so its DTSTAMP moved, not its SEQUENCE.
    assert after["ceremony"] != before["ceremony"]


def test_a_removed_item_stays_in_the_agenda_as_cancelled_with_a_higher_sequence(app, client):
    before = by_uid(client.get("/calendar/agenda.ics").data)
    reload(app, without_item(default_plan(), "phat-bieu-nguoi-hoc"))
    after = by_uid(client.get("/calendar/agenda.ics").data)
    uid = f"{SLUG}-item-phat-bieu-nguoi-hoc@{DOMAIN}"
    assert set(after) == set(before)
    assert str(after[uid]["STATUS"]) == "CANCELLED"
    assert int(after[uid]["SEQUENCE"]) == int(before[uid]["SEQUENCE"]) + 1
    assert str(after[uid]["SUMMARY"]) == "Phát biểu hưởng ứng của người học tập"
    assert str(after[uid]["DESCRIPTION"]).startswith("ĐÃ HỦY")
    assert not after[uid].walk("VALARM")  # no reminder for what will not happen
    others = [event for key, event in after.items() if key != uid]
    assert {str(event["STATUS"]) for event in others} == {"CONFIRMED"}


def test_the_ceremony_file_carries_what_calendar_apps_need(client):
    body = client.get("/calendar/ceremony.ics").data
    calendar_lines = body.decode().split("\r\n")
    assert "METHOD:PUBLISH" in calendar_lines
    assert "BEGIN:VTIMEZONE" in calendar_lines and "TZID:Asia/Ho_Chi_Minh" in calendar_lines
    assert not any(line.startswith("X-WR-TIMEZONE") for line in calendar_lines)
    [event] = vevents(body)
    assert event.DTSTART.tzinfo is not None
    assert event.DTSTART.astimezone(UTC) == datetime(2021, 10, 1, 1, 0, tzinfo=UTC)
    assert event["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert event["DTEND"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert event.DTSTAMP.tzinfo is not None
    assert str(event["URL"]) == "http://127.0.0.1:5000/"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert event["ORGANIZER"].params["CN"] == "Ủy ban nhân dân Quận 12"
    assert "điểm cầu trung tâm: Phòng họp A, Phòng họp B" in str(event["LOCATION"])
    assert "Chương trình:" in str(event["DESCRIPTION"])
    [alarm] = event.walk("VALARM")
    assert alarm.TRIGGER == timedelta(minutes=-15)
    assert str(alarm["ACTION"]) == "DISPLAY"


def test_the_organizer_e_mail_of_the_plan_is_used(app, client):
    plan = default_plan()
    reload(app, replace(plan, event=replace(plan.event, organizer_email="gddt@q12.example")))
    [event] = vevents(client.get("/calendar/ceremony.ics").data)
    assert str(event["ORGANIZER"]) == "mailto:gddt@q12.example"


def test_the_agenda_has_one_event_per_programme_item_at_its_planned_time(client):
    events = vevents(client.get("/calendar/agenda.ics").data)
    assert [str(e["SUMMARY"]) for e in events] == [i.title for i in default_plan().agenda]
    starts = [e.DTSTART.astimezone(UTC).strftime("%H:%M") for e in events]
    assert starts == ["01:00", "01:05", "01:20", "01:30", "01:35", "01:45", "01:55"]


def test_the_week_holds_the_activities_and_each_deadline_all_day_with_a_reminder(client):
    body = client.get("/calendar/week.ics").data
    assert b"BEGIN:VTIMEZONE" not in body  # all-day dates belong to no zone
    events = vevents(body)
    activities = [e for e in events if "-activity-" in str(e["UID"])]
    deadlines = [e for e in events if "-deadline-" in str(e["UID"])]
    assert {(e.DTSTART, e.DTEND) for e in activities} == {(date(2021, 10, 1), date(2021, 10, 8))}
    assert sorted(e.DTSTART for e in deadlines) == [
        date(2021, 9, 29),
        date(2021, 10, 10),
        date(2021, 10, 15),
    ]
    for deadline in deadlines:
        assert deadline["DTSTART"].params["VALUE"] == "DATE"
        assert len(deadline.walk("VALARM")) == 1
        assert str(deadline["TRANSP"]) == "TRANSPARENT"


def test_a_point_file_shows_its_place_and_attendee_groups(client):
    [event] = vevents(client.get("/calendar/points/phong-hop-b.ics").data)
    assert str(event["LOCATION"]).startswith("Phòng họp B")
    assert "Chủ tịch Hội Cựu chiến binh quận" in str(event["DESCRIPTION"])
    assert "Phòng họp B" in str(event["SUMMARY"])


def test_an_unknown_point_is_404(client):
    response = client.get("/calendar/points/khong-co.ics")
    assert response.status_code == 404


def test_every_line_ends_with_crlf_and_no_line_is_longer_than_75_octets(client):
    for feed, body in fetch_all(client).items():
        assert body.endswith(b"\r\n"), feed
        assert b"\n" not in body.replace(b"\r\n", b""), feed
        assert b"\r" not in body.replace(b"\r\n", b""), feed
        lines = body.split(b"\r\n")[:-1]
        assert max(len(line) for line in lines) <= 75, feed
        # Folding never splits a character: every physical line is valid UTF-8 on its own.
        for line in lines:
            line.decode("utf-8")


def test_folded_vietnamese_text_unfolds_to_the_original(client):
    body = client.get("/calendar/points/thoi-an.ics").data
    folded = [line for line in body.split(b"\r\n") if line.startswith(b" ")]
    assert folded, "the description is long enough to be folded"
    assert any(len(line) > len(line.decode()) for line in folded), "folded lines hold Vietnamese"
    unfolded = body.replace(b"\r\n ", b"")
    assert "Thành phần tham dự tại điểm cầu:".encode() in unfolded
    assert "Ủy ban nhân dân phường Thới An".encode() in unfolded


def test_dtstamp_is_when_the_component_last_changed_and_moves_with_its_text(app, client):
    svc = app.extensions["runsheet"]
    current = svc.ceremony.current()
    recorded = ensure_recorded(svc.store, current.event_id, current.plan, utc_now())
    [event] = vevents(client.get("/calendar/ceremony.ics").data)
    assert event.DTSTAMP == recorded["ceremony"].revised_at.replace(microsecond=0)
    a_second_later = recorded["ceremony"].revised_at + timedelta(seconds=1)  # whole seconds
    plan = default_plan()
    described = replace(plan, event=replace(plan.event, description="Mô tả đã sửa."))
    reload(app, described, now=a_second_later)
    [changed] = vevents(client.get("/calendar/ceremony.ics").data)
    assert changed.DTSTAMP > event.DTSTAMP
    assert changed["LAST-MODIFIED"].dt == changed.DTSTAMP
    assert int(changed["SEQUENCE"]) == int(event["SEQUENCE"])  # text only: same SEQUENCE
