"""The video conference: how the plan holds it, and where its passcode may and may not appear.

The passcode is the points' secret. Each test searches a whole body (page, JSON, calendar
file, invitation) for it: it must appear in a point's own page, its calendar file fetched
with its token, its invitation and the organizer's plan; nowhere else.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import icalendar
import pytest

from runsheet.calendar.invites import write_event_invites
from runsheet.domain.plan import Conference
from runsheet.plans import (
    PlanError,
    default_plan,
    dump_plan,
    parse_plan,
    plan_from_dict,
    plan_to_dict,
)
from runsheet.services.ceremony import utc_now
from runsheet.services.conference import without_passcodes
from tests.calendar_fixtures import (
    EVENT_CONFERENCE,
    LIVESTREAM,
    OWN_CONFERENCE,
    PASSCODE,
    reload,
    vevents,
    with_conference,
    with_contacts,
)
from tests.conftest import Caller, tokens_of

OWN_PASSCODE = OWN_CONFERENCE.passcode
PASSCODES = (PASSCODE.encode(), OWN_PASSCODE.encode())
POINT = "thoi-an"  # joins the event's conference
OWN_POINT = "phong-hop-b"  # has a meeting of its own


@pytest.fixture
def conference_app(app):
    """Return the app whose plan has a conference, a livestream and one point's own meeting."""
    reload(app, with_contacts(with_conference(default_plan())))
    return app


def holds_no_passcode(body: bytes) -> bool:
    return not any(passcode in body for passcode in PASSCODES)


def open_point_page(client, point_id: str, token: str):  # noqa: ANN001, ANN201
    """Open a point's link as its technician would (the redirect sets the cookie)."""
    assert client.get(f"/points/{point_id}?token={token}").status_code == 303
    return client.get(f"/points/{point_id}")


# -- the plan ----------------------------------------------------------------------------------


def plan_data_with(event_extra: dict | None = None, point_extra: dict | None = None) -> dict:
    data = plan_to_dict(default_plan())
    data["event"].update(event_extra or {})
    data["points"][0].update(point_extra or {})
    return data


def problems_of(data: dict) -> dict[str, str]:
    with pytest.raises(PlanError) as error:
        plan_from_dict(data)
    return {problem.path: problem.message for problem in error.value.problems}


def ceremony_events(body: bytes) -> list[icalendar.Event]:
    """Return a calendar file's timed events: the ceremony, without a point's deadlines."""
    return [event for event in vevents(body) if isinstance(event.decoded("DTSTART"), datetime)]


def test_a_plan_round_trips_its_conference_its_livestream_and_a_points_own_meeting():
    plan = with_conference(default_plan())

    assert parse_plan(dump_plan(plan)) == plan
    assert plan_from_dict(plan_to_dict(plan)) == plan
    assert plan_to_dict(plan)["event"]["conference"] == {
        "platform": "Zoom",
        "url": EVENT_CONFERENCE.url,
        "meeting_id": EVENT_CONFERENCE.meeting_id,
        "passcode": PASSCODE,
    }


def test_a_points_own_conference_replaces_the_events_for_that_point_only():
    plan = with_conference(default_plan())

    assert plan.conference_for(OWN_POINT) == OWN_CONFERENCE
    assert plan.conference_for(POINT) == EVENT_CONFERENCE
    assert default_plan().conference_for(POINT) is None


def test_a_conference_needs_an_http_link_and_names_each_wrong_field():
    problems = problems_of(
        plan_data_with(
            {"conference": {"url": "javascript:alert(1)", "room": "A", "passcode": 123456}},
            {"conference": {"platform": "Zoom"}},
        )
    )

    assert "must start with https://" in problems["event.conference.url"]
    assert "unknown key 'room'" in problems["event.conference.room"]
    assert "put it in quotes" in problems["event.conference.passcode"]
    assert problems["points[0].conference.url"] == "is required but missing"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://", "must name a host"),
        ("ftp://files.example.org/x", "must start with https://"),
        ("https://meet.example.org/a b", "without spaces"),
        ("https://example.org/" + "x" * 2000, "at most 2,000 characters"),
        (42, "must be a web address"),
    ],
)
def test_a_livestream_link_must_be_a_web_address(url, says):
    assert says in problems_of(plan_data_with({"livestream_url": url}))["event.livestream_url"]


def test_a_meeting_id_and_a_passcode_are_short_single_lines():
    conference = {"url": "https://meet.example.org/x", "meeting_id": "1" * 101, "passcode": "a\nb"}
    problems = problems_of(plan_data_with({"conference": conference}))

    assert "at most 100 characters" in problems["event.conference.meeting_id"]
    assert "one line" in problems["event.conference.passcode"]


def test_without_passcodes_leaves_everything_else_of_the_plan():
    data = plan_to_dict(with_conference(default_plan()))
    seen = without_passcodes(data)

    assert "passcode" not in seen["event"]["conference"]
    assert seen["event"]["conference"]["meeting_id"] == EVENT_CONFERENCE.meeting_id
    assert data["event"]["conference"]["passcode"] == PASSCODE  # the original is untouched
    assert seen["agenda"] == data["agenda"]


# -- where the passcode must not appear -------------------------------------------------------


def test_the_public_state_and_page_show_no_passcode_but_the_livestream(conference_app, client):
    state = client.get("/api/v1/state")
    page = client.get("/")

    assert holds_no_passcode(state.data)
    assert holds_no_passcode(page.data)
    html = page.get_data(as_text=True)
    assert f'href="{LIVESTREAM}"' in html
    assert "Xem trực tiếp" in html


def test_a_public_page_without_a_livestream_offers_none(client):
    assert 'id="watch-live"' not in client.get("/").get_data(as_text=True)


def test_the_plan_shows_the_passcode_to_the_organizer_only(conference_app, client):
    tokens = tokens_of(conference_app)
    for role in (None, "mc", POINT):
        caller = Caller(client, tokens[role] if role else None)
        response = client.get("/api/v1/plan", headers=caller.headers)
        assert response.status_code == 200
        assert holds_no_passcode(response.data), role
        assert response.get_json()["event"]["conference"]["url"] == EVENT_CONFERENCE.url

    organizer = Caller(client, tokens["organizer"])
    plan = client.get("/api/v1/plan", headers=organizer.headers).get_json()
    assert plan["event"]["conference"]["passcode"] == PASSCODE
    assert plan["points"][1]["conference"]["passcode"] == OWN_PASSCODE


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/ceremony.ics",
        "/calendar/agenda.ics",
        "/calendar/week.ics",
        f"/calendar/points/{POINT}.ics",
        f"/calendar/points/{OWN_POINT}.ics",
    ],
)
def test_no_calendar_file_served_without_a_token_holds_a_passcode(conference_app, client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert holds_no_passcode(response.data)
    assert response.headers["Cache-Control"] == "public, no-cache"


def test_the_mc_console_and_another_points_page_show_no_passcode(conference_app, client):
    tokens = tokens_of(conference_app)
    assert client.get(f"/mc?token={tokens['mc']}").status_code == 303
    assert holds_no_passcode(client.get("/mc").data)

    other = open_point_page(client, "an-phu-dong", tokens["an-phu-dong"])
    assert other.status_code == 200
    # It joins the event's meeting: the event's passcode is its own, the other point's is not.
    assert OWN_PASSCODE.encode() not in other.data


@pytest.mark.parametrize("role", ["mc", "an-phu-dong"])
def test_a_points_calendar_with_another_roles_token_is_refused(conference_app, client, role):
    token = tokens_of(conference_app)[role]
    response = client.get(f"/calendar/points/{POINT}.ics?token={token}")

    assert response.status_code == 403
    assert response.get_json()["kind"] == "forbidden"
    assert holds_no_passcode(response.data)


def test_a_points_calendar_with_an_unknown_token_is_refused(conference_app, client):
    response = client.get(f"/calendar/points/{POINT}.ics?token=not-a-token")

    assert response.status_code == 401
    assert holds_no_passcode(response.data)


# -- where it must appear ---------------------------------------------------------------------


def test_a_points_page_shows_how_to_join_with_the_passcode_and_copy_buttons(conference_app, client):
    token = tokens_of(conference_app)[POINT]
    html = open_point_page(client, POINT, token).get_data(as_text=True)

    assert "Vào phòng họp" in html
    assert f'href="{EVENT_CONFERENCE.url}"' in html
    assert EVENT_CONFERENCE.meeting_id in html
    assert PASSCODE in html
    assert OWN_PASSCODE not in html
    assert 'data-copy="conference-passcode"' in html
    assert 'data-copy="conference-meeting-id"' in html


def test_a_point_with_its_own_meeting_shows_that_one(conference_app, client):
    token = tokens_of(conference_app)[OWN_POINT]
    html = open_point_page(client, OWN_POINT, token).get_data(as_text=True)

    assert OWN_PASSCODE in html
    assert OWN_CONFERENCE.url in html
    assert PASSCODE not in html


def test_a_points_page_offers_its_calendar_with_its_token_and_that_file_has_the_passcode(
    conference_app, client
):
    token = tokens_of(conference_app)[POINT]
    html = open_point_page(client, POINT, token).get_data(as_text=True)
    link = f"/calendar/points/{POINT}.ics?token={token}"
    assert f'href="http://127.0.0.1:5000{link}"' in html
    assert f'href="webcal://127.0.0.1:5000{link}"' in html

    response = client.get(link)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-cache"
    (event,) = ceremony_events(response.data)
    assert PASSCODE in str(event["DESCRIPTION"])
    conference = event["CONFERENCE"]
    assert str(conference) == EVENT_CONFERENCE.url
    assert conference.params["VALUE"] == "URI"
    assert b"CONFERENCE;FEATURE=AUDIO,VIDEO;" in response.data
    assert PASSCODE in conference.params["LABEL"]
    assert str(event["URL"]) == EVENT_CONFERENCE.url


def test_the_organizer_may_fetch_a_points_private_calendar(conference_app, client):
    token = tokens_of(conference_app)["organizer"]
    response = client.get(f"/calendar/points/{OWN_POINT}.ics?token={token}")

    assert response.status_code == 200
    assert OWN_PASSCODE.encode() in response.data


def test_the_public_point_file_carries_the_meeting_link_and_id_without_the_passcode(
    conference_app, client
):
    (event,) = ceremony_events(client.get(f"/calendar/points/{POINT}.ics").data)

    assert str(event["CONFERENCE"]) == EVENT_CONFERENCE.url
    assert EVENT_CONFERENCE.meeting_id in event["CONFERENCE"].params["LABEL"]
    assert EVENT_CONFERENCE.url in str(event["DESCRIPTION"])


def test_the_ceremony_and_its_items_carry_the_livestream(conference_app, client):
    (ceremony,) = vevents(client.get("/calendar/ceremony.ics").data)
    items = vevents(client.get("/calendar/agenda.ics").data)

    assert str(ceremony["URL"]) == LIVESTREAM
    assert str(ceremony["CONFERENCE"]) == LIVESTREAM
    assert ceremony["CONFERENCE"].params["FEATURE"] in ("VIDEO", ["VIDEO"])
    assert LIVESTREAM in str(ceremony["DESCRIPTION"])
    assert all(str(item["URL"]) == LIVESTREAM for item in items)


def test_files_of_a_plan_without_conference_keep_the_public_page_as_url(client):
    (event,) = ceremony_events(client.get(f"/calendar/points/{POINT}.ics").data)

    assert str(event["URL"]) == "http://127.0.0.1:5000/"
    assert "CONFERENCE" not in event


def test_a_points_invitation_holds_its_passcode(conference_app, tmp_path):
    svc = conference_app.extensions["runsheet"]
    current = svc.ceremony.current()
    written = write_event_invites(
        svc.store,
        current.event_id,
        current.plan,
        tmp_path,
        False,
        domain=svc.calendar_domain,
        base_url=svc.base_url,
        now=utc_now(),
    )
    bodies = {path.stem: path.read_bytes() for path in written}

    assert PASSCODE.encode() in bodies[f"invite-{POINT}"]
    invite = icalendar.Calendar.from_ical(bodies[f"invite-{POINT}"])
    assert PASSCODE in str(invite.walk("VEVENT")[0]["DESCRIPTION"])
    # Phòng họp A joins the event's meeting: its invitation never holds B's own passcode.
    assert OWN_PASSCODE.encode() not in bodies["invite-phong-hop-a"]


def test_a_changed_passcode_reaches_the_private_file_without_raising_sequence(
    conference_app, client
):
    token = tokens_of(conference_app)[POINT]
    before = ceremony_events(client.get(f"/calendar/points/{POINT}.ics?token={token}").data)[0]
    plan = conference_app.extensions["runsheet"].ceremony.current().plan
    changed = replace(EVENT_CONFERENCE, passcode="Changed-5512")
    reload(conference_app, replace(plan, event=replace(plan.event, conference=changed)))

    after = ceremony_events(client.get(f"/calendar/points/{POINT}.ics?token={token}").data)[0]
    assert "Changed-5512" in str(after["DESCRIPTION"])
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"])


def test_a_conference_in_a_plan_file_is_read_with_its_line():
    text = dump_plan(default_plan()).replace(
        "  timezone: Asia/Ho_Chi_Minh\n",
        "  timezone: Asia/Ho_Chi_Minh\n  conference:\n    url: zoom.us/j/1\n",
        1,
    )
    with pytest.raises(PlanError) as error:
        parse_plan(text, "plan.yaml")

    (problem,) = error.value.problems
    assert problem.path == "event.conference.url"
    assert problem.line is not None


def test_a_conference_as_anyone_may_see_it_has_no_passcode():
    assert EVENT_CONFERENCE.without_passcode() == Conference(
        EVENT_CONFERENCE.url, "Zoom", EVENT_CONFERENCE.meeting_id
    )
