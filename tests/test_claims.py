"""A caller known without a query: a change stored on a claim, and what a claim must not decide.

After a token has been looked up once, this process takes its next action on that
token's claim (``CeremonyService.claim``): no query before the change's transaction, whose
compare-and-set checks that the token still holds, the event is still the active one and
the version is still the one this process holds. These tests make each of those false
from outside the process (another app on the same database, as a second server or the
CLI would) and check the caller hears exactly what the checked way says.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from runsheet.services import events as events_service
from runsheet.services.ceremony import Unconfirmed
from runsheet.services.tokens import Actor, hash_token
from runsheet.storage.store import TokenHolder

from .conftest import SECRET, Caller, make_app, open_store, tokens_of

MC = Actor("mc")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_database_url(request, database_url):
    """Run the test on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        return database_url
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def app(any_database_url, clock):
    """This process's app, on either database."""
    return make_app(any_database_url, clock)


@pytest.fixture
def elsewhere(app, any_database_url, clock):
    """Another process's app on the same database."""
    return make_app(any_database_url, clock)


def known_mc(app) -> Caller:  # noqa: ANN001
    """Return the MC after one action, so that this process knows its token."""
    mc = Caller(app.test_client(), tokens_of(app)["mc"])
    assert mc.advance().status_code == 200
    assert app.extensions["runsheet"].ceremony.claim(tokens_of(app)["mc"]) is not None
    return mc


def test_a_known_callers_change_is_stored_on_its_claim_and_answered_as_usual(app):
    mc = known_mc(app)
    before = mc.state()
    statements: list[str] = []
    store = app.extensions["runsheet"].store
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    answer = mc.advance(expected_version=before["version"])
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]

    assert answer.status_code == 200 and not reads
    assert answer.get_json()["version"] == before["version"] + 1
    assert answer.get_json() == {**mc.state(), "server_time": answer.get_json()["server_time"]}
    entry = store.audit_entries(app.extensions["runsheet"].ceremony.current().event_id)[0]
    assert (entry.action, entry.role, entry.channel) == ("advance", "mc", "http")


def test_a_token_rotated_elsewhere_is_refused_at_once_and_changes_nothing(app, elsewhere):
    mc = known_mc(app)
    version = mc.state()["version"]
    services = elsewhere.extensions["runsheet"]
    with services.store.engine.begin() as conn:  # as `runsheet rotate-tokens` does
        event_id = services.ceremony.current().event_id
        services.store.replace_tokens(conn, event_id, {}, services.ceremony.clock())

    answer = mc.advance()

    assert answer.status_code == 401 and answer.get_json()["kind"] == "unauthenticated"
    assert Caller(elsewhere.test_client(), None).state()["version"] == version
    # Found held by nobody: forgotten, so its next request is looked up, not claimed.
    assert app.extensions["runsheet"].ceremony.claim(tokens_of(elsewhere)["mc"]) is None
    assert mc.advance().status_code == 401


def test_a_change_made_elsewhere_is_not_overwritten_and_its_version_is_honoured(app, elsewhere):
    mc = known_mc(app)
    there = Caller(elsewhere.test_client(), tokens_of(elsewhere)["mc"])
    moved = there.advance().get_json()  # this process still holds the version before

    answer = mc.advance(expected_version=moved["version"])

    assert answer.status_code == 200
    body = answer.get_json()
    assert body["version"] == moved["version"] + 1
    assert body["current_item_id"] != moved["current_item_id"]  # one item on from *its* item
    assert there.state()["version"] == body["version"]


def test_an_event_activated_elsewhere_ends_the_claim_and_the_old_event_is_not_changed(
    app, elsewhere
):
    mc = known_mc(app)
    old = mc.state()
    services = elsewhere.extensions["runsheet"]
    request = events_service.parse_new_event({"slug": "hop-mat", "title": "Họp mặt"})
    events_service.create_event(services.store, SECRET, request, services.ceremony.clock())
    events_service.activate_event(services.store, services.ceremony, "hop-mat")

    answer = mc.advance()

    assert answer.status_code in (401, 403, 409)
    assert answer.get_json()["kind"] == "other_event"
    stored = services.store.event_by_slug(old["event"]["slug"]).state
    assert stored.version == old["version"]


def test_a_refusal_on_a_claim_is_heard_and_logged_once_as_the_checked_way_says(app):
    mc = known_mc(app)
    services = app.extensions["runsheet"]
    event_id = services.ceremony.current().event_id
    logged = len(services.store.audit_entries(event_id))

    answer = mc.goto("no-such-item")

    assert answer.status_code == 404
    entries = services.store.audit_entries(event_id)
    assert len(entries) == logged + 1 and entries[0].error_kind == "not_found"


def test_a_bad_body_from_a_known_caller_is_refused_as_from_anyone(app):
    mc = known_mc(app)
    headers = {**mc.headers, "Content-Type": "application/json"}
    answer = mc.client.post("/api/v1/advance", data="{not json", headers=headers)
    assert answer.status_code == 400
    assert answer.get_json()["kind"] == "invalid"


def test_the_service_never_answers_on_a_claim_it_could_not_store(app, elsewhere):
    ceremony = app.extensions["runsheet"].ceremony
    token = tokens_of(app)["mc"]
    ceremony.current_for(token)
    claim = ceremony.claim(token)
    assert claim is not None and claim.holder.role == "mc"
    live = claim.seen.state.current_item_id

    # Nothing to change (a goto to the live item): perhaps so only in this process.
    with pytest.raises(Unconfirmed):
        ceremony.perform(MC, "goto", {"item_id": live}, claim=claim)
    # The version moved on elsewhere: not stored, whatever the rule says.
    Caller(elsewhere.test_client(), tokens_of(elsewhere)["mc"]).advance()
    with pytest.raises(Unconfirmed):
        ceremony.perform(MC, "advance", claim=claim)
    # A refusal is not the claim's to tell.
    with pytest.raises(Unconfirmed):
        ceremony.perform(MC, "goto", {"item_id": "no-such-item"}, claim=ceremony.claim(token))


def test_the_compare_and_set_stores_a_claimed_change_only_for_the_holder_it_names(
    any_database_url, clock
):
    app = make_app(any_database_url, clock)
    store = app.extensions["runsheet"].store
    current = app.extensions["runsheet"].ceremony.current()
    digest = hash_token(tokens_of(app)["mc"])
    state = store.state_of(store.load_state_record(current.event_id)[1])
    state.version += 1
    others = (
        TokenHolder(current.event_id, "point", None),
        TokenHolder(current.event_id, "mc", "thoi-an"),
        TokenHolder(current.event_id + 1, "mc", None),
    )
    for wrong in others:
        assert not store.save_state(
            current.event_id, state, current.version, clock.now, held_by=(digest, wrong)
        )
    assert not store.save_state(
        current.event_id,
        state,
        current.version,
        clock.now,
        held_by=(hash_token("not-a-token"), TokenHolder(current.event_id, "mc", None)),
    )
    assert open_store(any_database_url).current_version(current.event_id) == current.version
    holder = TokenHolder(current.event_id, "mc", None)
    assert store.save_state(
        current.event_id, state, current.version, clock.now, held_by=(digest, holder)
    )
    assert open_store(any_database_url).current_version(current.event_id) == state.version


def test_claims_are_only_made_for_tokens_looked_up_and_held(app):
    ceremony = app.extensions["runsheet"].ceremony
    tokens = tokens_of(app)
    for nothing in (None, "", "x" * 201, "not-a-token", tokens["thoi-an"]):
        assert ceremony.claim(nothing) is None
    ceremony.current_for(tokens["thoi-an"])
    claim = ceremony.claim(tokens["thoi-an"])
    assert claim is not None and (claim.actor.role, claim.actor.point_id) == ("point", "thoi-an")


# -- over Socket.IO: a real server and real clients ---------------------------------------


@pytest.fixture
def server(database_url):
    """Serve a fresh ceremony in this process, so that its store can be watched."""
    from tests.live_server import serve

    yield from serve(database_url)


def test_a_socket_clients_second_action_is_made_on_its_claim_and_a_rotation_still_ends_it(
    server, monkeypatch
):
    from runsheet.services.ceremony import utc_now
    from runsheet.services.plans import rotate_tokens
    from tests.live_server import Crowd

    store = server.services.store
    lookups: list[str] = []
    for name in ("active_event_and_holder", "token_holder"):
        look_up = getattr(store, name)
        monkeypatch.setattr(store, name, lambda *a, f=look_up, n=name: lookups.append(n) or f(*a))
    crowd = Crowd(server)
    try:
        mc, viewer = crowd.mc(), crowd.viewer()
        lookups.clear()
        assert mc.advance()["ok"]
        assert lookups == ["active_event_and_holder"]  # the event and the caller, together

        lookups.clear()
        answer = mc.advance()
        assert answer["ok"] and answer["state"]["version"] == server.version()
        assert lookups == []  # known: nothing read before the change's transaction

        version = server.version()
        slug = server.services.ceremony.current().plan.event.slug
        rotate_tokens(store, slug, SECRET, utc_now())
        refused = mc.advance()
        assert refused["ok"] is False and refused["kind"] == "unauthenticated"
        assert server.version() == version
        mc.wait_until_disconnected()
        assert viewer.connected
    finally:
        crowd.close()
