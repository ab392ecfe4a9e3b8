"""Several events: the organizer lists, creates, switches, archives and restores them.

Through the HTTP API (roles, refusals that leave everything as it was), the service, the CLI
and the database (SQLite and PostgreSQL); and what an old event's links say after a switch.
"""

from __future__ import annotations

import pytest

from runsheet.i18n import catalog
from runsheet.plans import default_plan, dump_plan
from runsheet.services import events as events_service
from runsheet.services.plans import install_plan
from runsheet.services.tokens import Actor, identify
from runsheet.transports.auth import token_cookie_name
from tests.conftest import SECRET, Caller, make_app, open_store, tokens_of

BUILT_IN = "hoc-tap-suot-doi-2021-quan-12"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_database_url(request, tmp_path):
    """Return a fresh database URL on SQLite, then on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'events.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def listed(caller: Caller) -> dict[str, dict]:
    response = caller.client.get("/api/v1/events", headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    return {event["slug"]: event for event in response.get_json()["events"]}


def create(caller: Caller, **body):  # noqa: ANN201
    return caller.post("/events", body)


# -- listing and creating ----------------------------------------------------------------------


def test_the_organizer_lists_the_events_with_the_active_one(organizer):
    events = listed(organizer)

    assert events == {
        BUILT_IN: {
            "slug": BUILT_IN,
            "title": default_plan().event.title,
            "starts_at": "2021-10-01T08:00:00+07:00",
            "active": True,
            "archived": False,
        }
    }


@pytest.mark.parametrize("role", ["mc", "thoi-an"])
def test_only_the_organizer_may_see_or_change_events(client, tokens, role):
    caller = Caller(client, tokens[role])

    assert client.get("/api/v1/events", headers=caller.headers).status_code == 403
    assert create(caller, slug="moi").status_code == 403
    assert caller.post(f"/events/{BUILT_IN}/activate").status_code == 403
    assert caller.post(f"/events/{BUILT_IN}/archive").status_code == 403
    assert caller.post(f"/events/{BUILT_IN}/restore").status_code == 403


def test_without_a_token_the_events_api_asks_for_one(anonymous):
    assert anonymous.client.get("/api/v1/events").status_code == 401
    response = create(anonymous, slug="moi")
    assert response.status_code == 401
    assert response.get_json()["kind"] == "unauthenticated"


def test_a_blank_event_is_created_inactive_with_one_point_one_item_tomorrow(app, organizer):
    response = create(organizer, slug="hop-mat-2021", title="Họp mặt", **{"from": "blank"})

    assert response.status_code == 201
    assert response.get_json() == {
        "slug": "hop-mat-2021",
        "title": "Họp mặt",
        "starts_at": "2021-10-02T08:00:00+07:00",  # the next morning in the active event's zone
        "active": False,
        "archived": False,
    }
    stored = app.extensions["runsheet"].store.event_by_slug("hop-mat-2021")
    assert [p.id for p in stored.plan.points] == ["diem-cau-chinh"]
    assert len(stored.plan.agenda) == 1
    assert stored.state.version == 1 and stored.state.phase == "not_started"
    assert organizer.state()["event"]["slug"] == BUILT_IN  # still the active one


def test_an_event_from_the_template_moves_its_week_with_its_start(app, organizer):
    assert create(organizer, slug="tuan-le-2022", **{"from": "template"}).status_code == 201

    plan = app.extensions["runsheet"].store.event_by_slug("tuan-le-2022").plan
    template = default_plan()
    assert plan.event.title == template.event.title
    assert plan.event.starts_at.isoformat() == "2021-10-02T08:00:00+07:00"
    moved = plan.activities[0].starts_on - template.activities[0].starts_on
    assert moved.days == 1
    assert [d.due_on - t.due_on for d, t in zip(plan.deadlines, template.deadlines, strict=True)]
    assert [i.id for i in plan.agenda] == [i.id for i in template.agenda]


def test_a_duplicate_copies_the_plan_with_fresh_tokens_and_a_clean_state(app, organizer, mc):
    assert mc.advance().status_code == 200  # the source has started
    response = create(organizer, slug="ban-sao", **{"from": "duplicate", "source": BUILT_IN})

    assert response.status_code == 201
    assert response.get_json()["title"] == default_plan().event.title + " (bản sao)"
    svc = app.extensions["runsheet"]
    copy = svc.store.event_by_slug("ban-sao")
    assert copy.plan.agenda == default_plan().agenda
    assert copy.plan.points == default_plan().points
    assert copy.state.phase == "not_started" and copy.state.version == 1
    old_tokens = tokens_of(app)
    assert organizer.post("/events/ban-sao/activate").status_code == 200
    new_tokens = tokens_of(app)
    assert new_tokens["thoi-an"] != old_tokens["thoi-an"]
    assert new_tokens["mc"] != old_tokens["mc"]


def test_a_taken_slug_is_refused_with_409_and_changes_nothing(app, organizer):
    before = listed(organizer)
    response = create(organizer, slug=BUILT_IN, **{"from": "blank"})

    assert response.status_code == 409
    assert response.get_json()["field"] == "slug"
    assert listed(organizer) == before
    assert app.extensions["runsheet"].store.event_by_slug(BUILT_IN).plan == default_plan()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "Chữ Hoa"}, "slug"),
        ({"slug": "a" * 65}, "slug"),
        ({}, "slug"),
        ({"slug": "moi", "title": "   "}, "title"),
        ({"slug": "moi", "title": "a\nb"}, "title"),
        ({"slug": "moi", "from": "excel"}, "from"),
        ({"slug": "moi", "from": "duplicate"}, "source"),
        ({"slug": "moi", "from": "duplicate", "source": "khong-co"}, "source"),
        ({"slug": "moi", "from": "blank", "source": BUILT_IN}, "source"),
    ],
)
def test_a_new_event_that_cannot_be_used_is_refused_with_422_naming_the_field(
    organizer, body, field
):
    before = listed(organizer)
    response = organizer.post("/events", body)

    assert response.status_code == 422, response.get_json()
    assert response.get_json()["kind"] == "invalid_event"
    assert response.get_json()["field"] == field
    assert listed(organizer) == before


@pytest.mark.parametrize(
    "raw", [b"not json", b"[1, 2]", b'{"slug": "moi", "colour": "red"}', b'{"slug": 7}']
)
def test_a_malformed_body_is_refused_and_changes_nothing(organizer, raw):
    before = listed(organizer)
    response = organizer.client.post(
        "/api/v1/events",
        data=raw,
        headers={**organizer.headers, "Content-Type": "application/json"},
    )

    assert response.status_code in (400, 422)
    assert response.get_json()["kind"] in ("invalid", "invalid_event")
    assert listed(organizer) == before


# -- switching, archiving, restoring ---------------------------------------------------------


def test_activating_an_event_switches_everything_the_public_sees(organizer, anonymous):
    create(organizer, slug="hop-mat", title="Họp mặt cuối năm")
    response = organizer.post("/events/hop-mat/activate")

    assert response.status_code == 200
    assert response.get_json()["active"] is True
    assert anonymous.state()["event"]["slug"] == "hop-mat"
    assert [e["slug"] for e in listed(organizer).values() if e["active"]] == ["hop-mat"]
    assert "Họp mặt cuối năm" in anonymous.client.get("/").get_data(as_text=True)
    assert "hop-mat" in anonymous.client.get("/calendar/ceremony.ics").get_data(as_text=True)


def test_the_organizers_link_keeps_working_across_a_switch(client, tokens, organizer):
    create(organizer, slug="hop-mat")
    assert organizer.post("/events/hop-mat/activate").status_code == 200

    assert listed(organizer)["hop-mat"]["active"]
    assert client.get(f"/organizer?token={tokens['organizer']}").status_code == 303
    assert client.get("/organizer").status_code == 200
    assert organizer.post(f"/events/{BUILT_IN}/activate").status_code == 200


def test_an_old_events_mc_and_point_tokens_are_refused_naming_both_events(
    client, tokens, organizer, mc, ward
):
    create(organizer, slug="hop-mat", title="Họp mặt cuối năm")
    organizer.post("/events/hop-mat/activate")

    for caller in (mc, ward):
        response = caller.advance()
        assert response.status_code == 401
        body = response.get_json()
        assert body["kind"] == "other_event"
        assert default_plan().event.title in body["error"]
        assert "Họp mặt cuối năm" in body["error"]


def test_an_old_events_links_show_a_notice_naming_the_event_active_now(client, tokens, organizer):
    for page, token in (("/mc", tokens["mc"]), ("/points/thoi-an", tokens["thoi-an"])):
        assert client.get(f"{page}?token={token}").status_code == 303  # the cookie is set
    create(
        organizer,
        slug="hop-mat",
        title="Họp mặt cuối năm",
        **{"from": "duplicate", "source": BUILT_IN},
    )
    create(organizer, slug="le-khac", title="Lễ khác")  # has no point thoi-an
    texts = catalog("vi")

    for slug in ("hop-mat", "le-khac"):
        organizer.post(f"/events/{slug}/activate")
        for page in ("/mc", "/points/thoi-an"):
            response = client.get(page)
            html = response.get_data(as_text=True)
            assert response.status_code == 409, (slug, page)
            assert texts["notice.link_other_event.title"] in html
            assert default_plan().event.title.replace('"', "&#34;") in html
            assert ("Họp mặt cuối năm" if slug == "hop-mat" else "Lễ khác") in html
            # The cookie is kept: the link works again when its event is active again.
            assert "Set-Cookie" not in response.headers

    organizer.post(f"/events/{BUILT_IN}/activate")
    assert client.get("/mc").status_code == 200
    assert client.get("/points/thoi-an").status_code == 200


def test_an_old_events_link_opened_fresh_says_the_same_in_english(client, tokens, organizer):
    create(organizer, slug="hop-mat", title="Year-end meeting")
    organizer.post("/events/hop-mat/activate")

    response = client.get(f"/points/thoi-an?token={tokens['thoi-an']}&lang=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert catalog("en")["notice.link_other_event.title"] in html
    assert "Year-end meeting" in html
    assert token_cookie_name("point", "thoi-an") not in response.headers.get("Set-Cookie", "")


def test_an_archived_event_is_listed_and_cannot_be_activated_until_restored(organizer):
    create(organizer, slug="cu")
    assert organizer.post("/events/cu/archive").get_json()["archived"] is True
    assert listed(organizer)["cu"]["archived"] is True

    refused = organizer.post("/events/cu/activate")
    assert refused.status_code == 409
    assert "restore" in refused.get_json()["error"]
    assert listed(organizer)[BUILT_IN]["active"] is True

    assert organizer.post("/events/cu/restore").get_json()["archived"] is False
    assert organizer.post("/events/cu/activate").status_code == 200


def test_the_active_event_cannot_be_archived(organizer):
    response = organizer.post(f"/events/{BUILT_IN}/archive")

    assert response.status_code == 409
    assert listed(organizer)[BUILT_IN]["archived"] is False


@pytest.mark.parametrize("action", ["activate", "archive", "restore"])
def test_an_unknown_event_is_not_found(organizer, action):
    response = organizer.post(f"/events/khong-co/{action}")

    assert response.status_code == 404
    assert response.get_json()["kind"] == "not_found"


def test_activating_the_active_event_again_changes_nothing(organizer, anonymous):
    version = anonymous.state()["version"]

    assert organizer.post(f"/events/{BUILT_IN}/activate").status_code == 200
    assert anonymous.state()["version"] == version


# -- the service, the database and the CLI -----------------------------------------------------


def test_an_organizer_token_of_any_event_is_the_organizer_another_roles_is_not(app):
    svc = app.extensions["runsheet"]
    first = svc.ceremony.current().event_id
    old = tokens_of(app)
    events_service.create_event(
        svc.store, SECRET, events_service.parse_new_event({"slug": "hai"}), svc.ceremony.clock()
    )
    second = svc.store.event_by_slug("hai").id

    assert identify(svc.store, second, old["organizer"]) == Actor("organizer")
    assert identify(svc.store, first, old["organizer"]) == Actor("organizer")
    with pytest.raises(Exception) as refused:
        identify(svc.store, second, old["mc"])
    assert refused.value.kind == "other_event"


def test_events_work_the_same_on_sqlite_and_postgresql(any_database_url, clock):
    app = make_app(any_database_url, clock)
    svc = app.extensions["runsheet"]
    new = events_service.parse_new_event({"slug": "hai", "from": "duplicate", "source": BUILT_IN})
    events_service.create_event(svc.store, SECRET, new, clock.now)
    events_service.archive_event(svc.store, "hai")
    with pytest.raises(Exception, match="archived"):
        events_service.activate_event(svc.store, svc.ceremony, "hai")
    events_service.restore_event(svc.store, "hai")
    events_service.activate_event(svc.store, svc.ceremony, "hai")

    summaries = {e.slug: e for e in events_service.list_events(svc.store)}
    assert summaries["hai"].active and not summaries[BUILT_IN].active
    assert svc.ceremony.current().plan.event.slug == "hai"
    with pytest.raises(Exception, match="exists already"):
        events_service.create_event(svc.store, SECRET, new, clock.now)


def test_a_database_made_before_archiving_gains_the_column(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    store = open_store(url)
    store.create_schema()
    install_plan(store, default_plan(), SECRET, clock.now)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE events DROP COLUMN is_archived")

    again = open_store(url)
    again.create_schema()
    (row,) = again.event_rows()
    assert row.slug == BUILT_IN and row.is_active and not row.is_archived


def test_the_cli_archives_restores_and_activates_through_the_same_rules(runner, tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text(dump_plan(default_plan()).replace(BUILT_IN, "le-be-mac"), encoding="utf-8")
    assert runner.invoke("load", "--no-activate", str(path)).exit_code == 0

    assert runner.invoke("archive", "le-be-mac").exit_code == 0
    assert "le-be-mac" in runner.invoke("events").output
    assert "(archived)" in runner.invoke("events").output
    refused = runner.invoke("activate", "le-be-mac")
    assert refused.exit_code != 0 and "restore" in refused.output
    again = runner.invoke("load", str(path))  # loading with activation is refused too
    assert again.exit_code != 0 and "archived" in again.output
    refused = runner.invoke("archive", BUILT_IN)
    assert refused.exit_code != 0 and "active" in refused.output

    assert runner.invoke("restore", "le-be-mac").exit_code == 0
    assert runner.invoke("activate", "le-be-mac").exit_code == 0
    assert "* le-be-mac" in runner.invoke("events").output
