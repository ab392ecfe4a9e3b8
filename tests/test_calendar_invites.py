"""E-mail invites: one METHOD:REQUEST per point contact, and the matching METHOD:CANCEL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from runsheet.calendar.invites import write_invites
from runsheet.domain.errors import InvalidInput
from runsheet.plans import default_plan, dump_plan
from runsheet.services.ceremony import utc_now

from .calendar_fixtures import by_uid, moved, reload, vevents, with_contacts


def _write(app, out_dir, cancel=False):  # noqa: ANN001, ANN202
    return app.extensions["runsheet"].write_invites(out_dir, cancel, utc_now())


def test_one_request_is_written_per_point_contact_with_an_e_mail(app, tmp_path):
    reload(app, with_contacts(default_plan()))
    paths = _write(app, tmp_path / "out")
    assert sorted(p.name for p in paths) == [
        "invite-phong-hop-a.ics",
        "invite-thanh-loc.ics",
        "invite-thoi-an.ics",
    ]
    for path in paths:
        body = path.read_bytes()
        assert b"\r\nMETHOD:REQUEST\r\n" in body
        assert len(vevents(body)) == 1


def test_a_request_names_the_organizer_and_asks_the_contact_to_reply(app, tmp_path):
    reload(app, with_contacts(default_plan()))
    _write(app, tmp_path)
    [event] = vevents((tmp_path / "invite-thoi-an.ics").read_bytes())
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:gddt@quan12.example.org"
    assert organizer.params["CN"] == "Ủy ban nhân dân Quận 12"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:thoian@quan12.example.org"
    assert attendee.params["RSVP"] == "TRUE"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["CN"] == "Trần Thị Bình"
    assert "Ủy ban nhân dân phường Thới An" in str(event["LOCATION"])


def test_a_contact_without_a_name_is_invited_by_address_alone(app, tmp_path):
    reload(app, with_contacts(default_plan()))
    _write(app, tmp_path)
    [event] = vevents((tmp_path / "invite-thanh-loc.ics").read_bytes())
    assert "CN" not in event["ATTENDEE"].params


def test_an_invite_is_the_same_event_as_the_point_file(app, client, tmp_path):
    reload(app, with_contacts(moved(default_plan(), 30)))
    _write(app, tmp_path)
    [invite] = vevents((tmp_path / "invite-thoi-an.ics").read_bytes())
    # the point's file also holds the ward's deadlines; the invite is its ceremony event
    [published] = [
        e for e in vevents(client.get("/calendar/points/thoi-an.ics").data) if "-point-" in e["UID"]
    ]
    assert str(invite["UID"]) == str(published["UID"])
    assert int(invite["SEQUENCE"]) == int(published["SEQUENCE"]) == 1
    assert invite.DTSTART == published.DTSTART


def test_the_cancellations_match_the_invites_with_a_higher_sequence(app, tmp_path):
    reload(app, with_contacts(default_plan()))
    invites = {p.name.removeprefix("invite-"): p for p in _write(app, tmp_path)}
    cancels = {p.name.removeprefix("cancel-"): p for p in _write(app, tmp_path, cancel=True)}
    assert set(cancels) == set(invites)
    for name in invites:
        invite_body, cancel_body = invites[name].read_bytes(), cancels[name].read_bytes()
        assert b"\r\nMETHOD:CANCEL\r\n" in cancel_body
        [(uid, invite)] = by_uid(invite_body).items()
        [(cancel_uid, cancel)] = by_uid(cancel_body).items()
        assert cancel_uid == uid
        assert int(cancel["SEQUENCE"]) == int(invite["SEQUENCE"]) + 1
        assert str(cancel["STATUS"]) == "CANCELLED"
        assert str(cancel["ATTENDEE"]) == str(invite["ATTENDEE"])
        assert str(cancel["ORGANIZER"]) == str(invite["ORGANIZER"])
        assert not cancel.walk("VALARM")


def test_writing_cancellations_does_not_cancel_the_published_event(app, client, tmp_path):
    reload(app, with_contacts(default_plan()))
    before = client.get("/calendar/points/thoi-an.ics").data
    _write(app, tmp_path, cancel=True)
    assert client.get("/calendar/points/thoi-an.ics").data == before


def test_invites_need_the_organizer_s_e_mail_for_the_replies(app, tmp_path):
    reload(app, with_contacts(default_plan(), organizer_email=None))
    with pytest.raises(InvalidInput, match="organizer_email"):
        _write(app, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_plan_without_contact_e_mails_has_nobody_to_invite(tmp_path):
    plan = default_plan()
    plan = replace(plan, event=replace(plan.event, organizer_email="gddt@quan12.example.org"))
    with pytest.raises(InvalidInput, match="contact_email"):
        write_invites(plan, {}, tmp_path, domain="x.example", base_url="http://x.example")


def test_the_invites_command_writes_the_files_and_names_them(runner, tmp_path):
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(dump_plan(with_contacts(default_plan())), encoding="utf-8")
    assert runner.invoke("load", str(plan_file)).exit_code == 0
    result = runner.invoke("invites", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "invite-thoi-an.ics" in result.output
    assert (tmp_path / "out" / "invite-thoi-an.ics").is_file()
    result = runner.invoke("invites", "--out", str(tmp_path / "out"), "--cancel")
    assert result.exit_code == 0, result.output
    assert b"METHOD:CANCEL" in (tmp_path / "out" / "cancel-thoi-an.ics").read_bytes()


def test_the_invites_command_explains_a_missing_organizer_e_mail(runner, tmp_path):
    runner.invoke("init")
    result = runner.invoke("invites", "--out", str(tmp_path / "out"))
    assert result.exit_code != 0
    assert "organizer_email" in result.output
