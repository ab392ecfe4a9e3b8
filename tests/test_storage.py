"""Storage on SQLite and on this machine's real PostgreSQL: durability, restart, races."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from runsheet.domain.errors import StaleVersion, Unauthenticated
from runsheet.plans import default_plan
from runsheet.services.ceremony import CeremonyService
from runsheet.services.plans import install_plan
from runsheet.services.tokens import PUBLIC, Actor, hash_token
from runsheet.storage import store as store_module
from runsheet.storage.tables import events as events_table
from runsheet.storage.tables import tokens as tokens_table

from .conftest import SECRET, make_app, open_store, tokens_of

MC = Actor("mc")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_database_url(request, tmp_path):
    """Return a fresh database URL on SQLite, then on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def test_a_new_database_gets_the_built_in_plan_at_version_one(any_database_url, clock):
    app = make_app(any_database_url, clock)
    current = app.extensions["runsheet"].ceremony.current()
    assert current.plan == default_plan()
    assert current.version == 1
    assert current.state.phase == "not_started"


def test_a_new_app_on_the_same_database_resumes_the_same_state(any_database_url, clock):
    first = make_app(any_database_url, clock).extensions["runsheet"].ceremony
    first.perform(MC, "advance")
    clock.advance(minutes=3)
    first.perform(MC, "advance")
    first.perform(Actor("point", "thoi-an"), "checkin", {"by": "Lê Thị B", "present": 9})
    before = first.current()

    second = make_app(any_database_url, clock).extensions["runsheet"].ceremony
    after = second.current()
    assert after.version == before.version
    assert after.state == before.state
    assert after.state.current_item_id == default_plan().agenda[1].id
    started = after.state.spans[after.state.current_item_id][-1].started_at
    assert started == clock.now
    assert after.state.points["thoi-an"].checkin.by == "Lê Thị B"


def test_two_threads_racing_the_same_expected_version_exactly_one_wins(any_database_url, clock):
    make_app(any_database_url, clock)  # installs the plan
    services = [CeremonyService(open_store(any_database_url), clock=clock) for _ in range(2)]
    seen = services[0].current().version
    barrier = threading.Barrier(len(services))
    outcomes: list[str] = []

    def press_next(service: CeremonyService) -> None:
        barrier.wait()
        try:
            service.perform(MC, "advance", {"expected_version": seen})
            outcomes.append("won")
        except StaleVersion:
            outcomes.append("stale")

    threads = [threading.Thread(target=press_next, args=(s,)) for s in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["stale", "won"]
    final = services[0].current()
    assert final.version == seen + 1
    assert final.state.current_item_id == default_plan().agenda[0].id


def test_many_threads_pressing_next_without_a_version_never_lose_a_step(any_database_url, clock):
    make_app(any_database_url, clock)
    services = [CeremonyService(open_store(any_database_url), clock=clock) for _ in range(4)]
    start = services[0].current().version
    barrier = threading.Barrier(len(services))

    def press_next(service: CeremonyService) -> None:
        barrier.wait()
        service.perform(MC, "advance")

    threads = [threading.Thread(target=press_next, args=(s,)) for s in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    final = services[0].current()
    assert final.version == start + 4
    assert final.state.current_item_id == default_plan().agenda[3].id


def test_a_stale_save_is_refused_by_the_database(any_database_url, clock):
    app = make_app(any_database_url, clock)
    store = app.extensions["runsheet"].store
    event_id = app.extensions["runsheet"].ceremony.current().event_id
    plan, state = store.load_state(event_id)
    seen = state.version
    state.version += 1
    assert store.save_state(event_id, state, seen, clock.now) is True
    state.version += 1
    assert store.save_state(event_id, state, seen, clock.now) is False
    assert store.current_version(event_id) == seen + 1


def test_tokens_are_stored_only_as_hashes(any_database_url, clock):
    from .conftest import tokens_of

    app = make_app(any_database_url, clock)
    issued = tokens_of(app)
    with app.extensions["runsheet"].store.engine.connect() as conn:
        stored = {row.token_hash for row in conn.execute(select(tokens_table))}
    assert len(stored) == 15  # the organizer, the MC and 13 points
    assert not stored & set(issued.values())


def test_a_database_made_before_the_organizer_role_gains_its_token_at_start(database_url, clock):
    from .conftest import tokens_of

    app = make_app(database_url, clock)
    issued = tokens_of(app)
    with app.extensions["runsheet"].store.transaction() as conn:
        conn.execute(tokens_table.delete().where(tokens_table.c.role == "organizer"))

    again = make_app(database_url, clock).test_client()
    organizer = {"Authorization": f"Bearer {issued['organizer']}"}
    assert again.post("/api/v1/advance", headers=organizer).status_code == 200
    mc = {"Authorization": f"Bearer {issued['mc']}"}  # links handed out earlier still work
    assert again.post("/api/v1/back", headers=mc).status_code == 200


def test_one_database_holds_several_events_and_one_is_active(any_database_url, clock):
    import dataclasses

    app = make_app(any_database_url, clock)
    svc = app.extensions["runsheet"]
    plan = default_plan()
    other = dataclasses.replace(
        plan, event=dataclasses.replace(plan.event, slug="le-be-mac-2021", title="Lễ bế mạc")
    )
    install_plan(svc.store, other, SECRET, clock.now, activate=False)
    assert svc.ceremony.current().plan.event.slug == plan.event.slug

    install_plan(svc.store, other, SECRET, clock.now, activate=True)
    assert svc.ceremony.current().plan.event.title == "Lễ bế mạc"
    assert sorted(s for s, _, _ in svc.store.list_events()) == sorted(
        [plan.event.slug, "le-be-mac-2021"]
    )
    assert [s for s, _, active in svc.store.list_events() if active] == ["le-be-mac-2021"]


def test_reloading_a_changed_plan_keeps_the_live_state(any_database_url, clock):
    import dataclasses

    app = make_app(any_database_url, clock)
    svc = app.extensions["runsheet"]
    svc.ceremony.perform(MC, "advance")
    svc.ceremony.perform(Actor("point", "hiep-thanh"), "checkin", {"by": "Trần C"})
    before = svc.ceremony.current()

    plan = default_plan()
    moved = dataclasses.replace(
        plan,
        event=dataclasses.replace(
            plan.event, starts_at=plan.event.starts_at + timedelta(minutes=30)
        ),
    )
    install_plan(svc.store, moved, SECRET, clock.now)
    after = svc.ceremony.current()
    assert after.version == before.version + 1
    assert after.plan.event.starts_at == plan.event.starts_at + timedelta(minutes=30)
    assert after.state.current_item_id == before.state.current_item_id
    assert after.state.points["hiep-thanh"].checkin.by == "Trần C"


def test_presence_rows_mark_a_point_online_until_the_grace_period_ends(any_database_url, clock):
    app = make_app(any_database_url, clock)
    svc = app.extensions["runsheet"]
    event_id = svc.ceremony.current().event_id
    svc.store.add_connection("sid-1", event_id, "thoi-an", "proc-a", clock.now)
    svc.ceremony.refresh_presence()
    assert svc.ceremony.current().state.points["thoi-an"].online is True

    clock.advance(seconds=5)
    svc.store.close_connection("sid-1", clock.now)
    clock.advance(seconds=0.5)  # grace is 1 s in tests
    svc.ceremony.refresh_presence()
    assert svc.ceremony.current().state.points["thoi-an"].online is True

    clock.advance(seconds=1)
    svc.ceremony.refresh_presence()
    assert svc.ceremony.current().state.points["thoi-an"].online is False


def test_connections_of_a_dead_process_stop_counting_after_the_grace_period(
    any_database_url, clock
):
    app = make_app(any_database_url, clock)
    svc = app.extensions["runsheet"]
    event_id = svc.ceremony.current().event_id
    svc.store.add_connection("sid-1", event_id, "an-phu-dong", "proc-dead", clock.now)
    svc.store.add_connection("sid-2", event_id, "thoi-an", "proc-alive", clock.now)
    svc.ceremony.refresh_presence()

    clock.advance(seconds=3)
    svc.store.touch_connections("proc-alive", clock.now)
    svc.ceremony.refresh_presence()
    points = svc.ceremony.current().state.points
    assert points["an-phu-dong"].online is False
    assert points["thoi-an"].online is True


def test_the_stored_plan_is_checked_once_per_revision_not_on_every_read(
    any_database_url, clock, monkeypatch
):
    store = open_store(any_database_url)
    store.create_schema()
    event_id = install_plan(store, default_plan(), SECRET, clock.now).event_id
    checked = []
    real_check = store_module.plan_from_dict
    monkeypatch.setattr(
        store_module, "plan_from_dict", lambda data: checked.append(1) or real_check(data)
    )
    for _ in range(5):
        plan, _state = store.load_state(event_id)
    assert plan == default_plan()
    assert len(checked) <= 1  # installing may have kept it already; reading never re-checks

    # Another process replaces the plan: the next read sees the new revision and checks it.
    other = open_store(any_database_url)
    changed = dataclasses.replace(
        default_plan(),
        event=dataclasses.replace(default_plan().event, title="Lễ khai mạc (đã sửa)"),
    )
    install_plan(other, changed, SECRET, clock.now)
    checked.clear()
    plan, _state = store.load_state(event_id)
    assert plan.event.title == "Lễ khai mạc (đã sửa)"
    store.load_state(event_id)
    assert len(checked) == 1


def test_a_database_made_before_plan_revisions_gains_the_column(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    store = open_store(url)
    store.create_schema()
    event_id = install_plan(store, default_plan(), SECRET, clock.now).event_id
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE events DROP COLUMN plan_revision")

    again = open_store(url)
    again.create_schema()
    plan, state = again.load_state(event_id)
    assert plan == default_plan()
    assert state.version == 1


def test_a_change_from_the_version_just_read_reads_no_state_again_unless_it_moved_on(
    any_database_url, clock
):
    store = open_store(any_database_url)
    store.create_schema()
    event_id = install_plan(store, default_plan(), SECRET, clock.now).event_id
    ceremony = CeremonyService(store, clock=clock)
    version = ceremony.current().version  # this process now holds the state at that version
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    plan, record = store.load_state_record(event_id, version)
    assert statements == [] and record["version"] == version and plan == default_plan()

    # Another process moves on: the version the caller names is not this process's any
    # more, so the state is read; and a change started from the old one is not stored.
    CeremonyService(open_store(any_database_url), clock=clock).perform(MC, "advance")
    assert store.load_state_record(event_id, version + 1)[1]["version"] == version + 1
    assert statements
    stale = store.state_of(record)
    stale.version += 1
    assert not store.save_state(event_id, stale, version, clock.now)


def test_the_active_event_and_a_tokens_holder_are_read_in_one_query(any_database_url, clock):
    app = make_app(any_database_url, clock)
    svc = app.extensions["runsheet"]
    store, current = svc.store, svc.ceremony.current()
    tokens = tokens_of(app)
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    stored, holder = store.active_event_and_holder(hash_token(tokens["mc"]))
    assert stored == (current.event_id, current.version)
    assert holder == store_module.TokenHolder(current.event_id, "mc", None)
    assert [s.split()[0] for s in statements if not s.startswith("BEGIN")] == ["SELECT"]

    point_id = default_plan().points[3].id
    _, holder = store.active_event_and_holder(hash_token(tokens[point_id]))
    assert holder == store_module.TokenHolder(current.event_id, "point", point_id)
    # Nobody holds it: the active event all the same, and no holder.
    assert store.active_event_and_holder(hash_token("not-a-token")) == (stored, None)

    # No event is active: the holder alone.
    with store.engine.begin() as conn:
        conn.execute(update(events_table).values(is_active=False))
    assert store.active_event_and_holder(hash_token(tokens["mc"])) == (
        None,
        store_module.TokenHolder(current.event_id, "mc", None),
    )


def test_the_caller_and_the_event_are_found_together_and_refused_as_before(any_database_url, clock):
    app = make_app(any_database_url, clock)
    ceremony = app.extensions["runsheet"].ceremony
    tokens = tokens_of(app)

    actor, current = ceremony.current_for(tokens["mc"])
    assert actor == MC and current == ceremony.current()
    assert ceremony.current_for(None) == (PUBLIC, current)
    assert ceremony.current_for("")[0] == PUBLIC
    for refused in ("not-a-token", "x" * 201):
        with pytest.raises(Unauthenticated):
            ceremony.current_for(refused)


def test_an_action_over_http_reads_nothing_before_its_transaction_once_the_caller_is_known(
    tmp_path, clock
):
    app = make_app(f"sqlite:///{tmp_path / 'store.sqlite3'}", clock)
    store = app.extensions["runsheet"].store
    client, token = app.test_client(), tokens_of(app)["mc"]
    headers = {"Authorization": f"Bearer {token}"}
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    # A caller this process has not seen: the event and the caller, read together.
    assert client.post("/api/v1/advance", headers=headers).status_code == 200
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "token_hash" in reads[0]

    # Known now: no read at all; the compare-and-set checks the token and the version.
    statements.clear()
    answer = client.post("/api/v1/advance", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["version"] == 3
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1 and "token_hash" in updates[0] and "is_active" in updates[0]

    # Another process moved on meanwhile: the compare-and-set catches it and the change
    # is made, the checked way, on the newer state.
    other = CeremonyService(open_store(store.engine.url.render_as_string(False)), clock=clock)
    other.perform(MC, "advance")
    answer = client.post("/api/v1/back", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["version"] == 5


def test_on_sqlite_a_read_does_not_wait_for_a_transaction_that_is_writing(tmp_path, clock):
    # Another process (the CLI, a second server) holds the write lock mid-transaction.
    path = tmp_path / "store.sqlite3"
    app = make_app(f"sqlite:///{path}", clock)
    svc = app.extensions["runsheet"]
    current = svc.ceremony.current()
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE events SET updated_at = updated_at")  # uncommitted
    read: list[object] = []
    reading = threading.Thread(
        target=lambda: read.append(svc.store.active_event_and_holder(hash_token("x"))),
        daemon=True,
    )
    try:
        reading.start()
        reading.join(timeout=10)  # a read waiting for the lock would wait 30 s
        assert not reading.is_alive(), "the read waited for the writer's lock"
        assert read == [((current.event_id, current.version), None)]
        # A write still waits its turn, and goes through once the other writer is done.
        writing = threading.Thread(target=lambda: svc.ceremony.perform(MC, "advance"))
        writing.start()
        writing.join(timeout=0.5)
        assert writing.is_alive()
    finally:
        writer.execute("COMMIT")
        writer.close()
    writing.join(timeout=30)
    assert not writing.is_alive()
    assert svc.ceremony.current().version == current.version + 1
