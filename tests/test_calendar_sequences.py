"""Stored SEQUENCE numbers, on SQLite and on the real PostgreSQL: what a reload bumps."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from runsheet.calendar.components import CANCELLED, CONFIRMED
from runsheet.calendar.sequences import ensure_recorded, load_revisions
from runsheet.plans import default_plan
from runsheet.services.plans import install_plan
from runsheet.storage.tables import calendar_components

from .calendar_fixtures import moved, without_item
from .conftest import SECRET, open_store

T0 = datetime(2021, 9, 20, 3, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """Return a store on a fresh SQLite database, then on the real PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'calendar.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = open_store(url)
    store.create_schema()
    return store


def _install(store, plan, now):  # noqa: ANN001, ANN202
    return install_plan(store, plan, SECRET, now).event_id


def _revisions(store, event_id):  # noqa: ANN001, ANN202
    return load_revisions(store, event_id)


def _sequences(store, event_id) -> dict[str, int]:  # noqa: ANN001
    return {key: r.sequence for key, r in _revisions(store, event_id).items()}


def test_a_new_plan_starts_every_component_at_sequence_zero(store):
    event_id = _install(store, default_plan(), T0)
    revisions = _revisions(store, event_id)
    assert len(revisions) == 1 + 13 + 7 + 2 + 3
    assert {r.sequence for r in revisions.values()} == {0}
    assert {r.created_at for r in revisions.values()} == {T0}
    assert {r.revised_at for r in revisions.values()} == {T0}


def test_reloading_the_same_plan_changes_nothing(store):
    event_id = _install(store, default_plan(), T0)
    before = _revisions(store, event_id)
    _install(store, default_plan(), T0 + timedelta(hours=1))
    assert _revisions(store, event_id) == before


def test_moving_the_start_by_half_an_hour_bumps_exactly_the_timed_components(store):
    event_id = _install(store, default_plan(), T0)
    later = T0 + timedelta(hours=1)
    _install(store, moved(default_plan(), 30), later)
    revisions = _revisions(store, event_id)
    bumped = {key for key, r in revisions.items() if r.sequence == 1}
    untouched = {key for key, r in revisions.items() if r.sequence == 0}
    assert bumped == {
        key for key in revisions if key.split(":")[0] in ("ceremony", "point", "item")
    }
    assert untouched == {key for key in revisions if key.split(":")[0] in ("activity", "deadline")}
    assert revisions["ceremony"].component.start.isoformat() == "2021-10-01T08:30:00+07:00"
    assert revisions["ceremony"].revised_at == later
    assert revisions["deadline:phuong-gui-ke-hoach"].revised_at == T0


def test_each_further_move_bumps_again(store):
    event_id = _install(store, default_plan(), T0)
    _install(store, moved(default_plan(), 30), T0 + timedelta(hours=1))
    _install(store, moved(default_plan(), 45), T0 + timedelta(hours=2))
    assert _sequences(store, event_id)["ceremony"] == 2
    assert _sequences(store, event_id)["item:ket-thuc"] == 2


def test_a_description_change_moves_the_revision_time_but_not_the_sequence(store):
    event_id = _install(store, default_plan(), T0)
    plan = default_plan()
    plan = replace(plan, event=replace(plan.event, description="Mô tả mới."))
    later = T0 + timedelta(hours=1)
    _install(store, plan, later)
    ceremony = _revisions(store, event_id)["ceremony"]
    assert ceremony.sequence == 0
    assert ceremony.revised_at == later
    assert "Mô tả mới." in ceremony.component.description


def test_a_removed_item_stays_as_cancelled_with_a_higher_sequence(store):
    event_id = _install(store, default_plan(), T0)
    _install(store, without_item(default_plan(), "phat-bieu-nguoi-hoc"), T0 + timedelta(hours=1))
    removed = _revisions(store, event_id)["item:phat-bieu-nguoi-hoc"]
    assert removed.component.status == CANCELLED
    assert removed.sequence == 1
    assert removed.component.summary == "Phát biểu hưởng ứng của người học tập"
    assert removed.component.start.isoformat() == "2021-10-01T08:30:00+07:00"
    # The items after it move up by its five minutes, so they are bumped too.
    assert _sequences(store, event_id)["item:ket-thuc"] == 1
    assert _sequences(store, event_id)["item:tuyen-bo-ly-do"] == 0


def test_an_item_removed_twice_is_bumped_once_and_one_that_returns_is_bumped_again(store):
    event_id = _install(store, default_plan(), T0)
    shorter = without_item(default_plan(), "ket-thuc")
    _install(store, shorter, T0 + timedelta(hours=1))
    _install(store, shorter, T0 + timedelta(hours=2))
    assert _sequences(store, event_id)["item:ket-thuc"] == 1
    _install(store, default_plan(), T0 + timedelta(hours=3))
    back = _revisions(store, event_id)["item:ket-thuc"]
    assert back.sequence == 2
    assert back.component.status == CONFIRMED


def test_a_plan_that_was_never_recorded_is_recorded_when_first_read(store):
    event_id = _install(store, default_plan(), T0)
    with store.transaction() as conn:
        conn.execute(delete(calendar_components))
    revisions = ensure_recorded(store, event_id, default_plan(), T0 + timedelta(days=1))
    assert len(revisions) == 26
    assert {r.sequence for r in revisions.values()} == {0}


def test_an_older_copy_of_the_plan_never_overwrites_the_recorded_one(store):
    event_id = _install(store, default_plan(), T0)
    _install(store, moved(default_plan(), 30), T0 + timedelta(hours=1))
    # A process that still holds the first plan asks for its revisions.
    revisions = ensure_recorded(store, event_id, default_plan(), T0 + timedelta(hours=2))
    assert revisions["ceremony"].component.start.isoformat() == "2021-10-01T08:30:00+07:00"
    assert revisions["ceremony"].sequence == 1


def test_processes_recording_the_same_plan_at_once_record_it_once(store):
    event_id = _install(store, default_plan(), T0)
    with store.transaction() as conn:
        conn.execute(delete(calendar_components))
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def read() -> None:
        start.wait()
        try:
            ensure_recorded(store, event_id, default_plan(), T0 + timedelta(days=1))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert set(_sequences(store, event_id).values()) == {0}
    assert len(_sequences(store, event_id)) == 26
