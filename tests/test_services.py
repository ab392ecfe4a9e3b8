"""The service layer with the real store: retries on a lost race, publishes after the commit.

``CeremonyService`` runs on the real store (SQLite, then PostgreSQL) with no app, no
Flask and no Socket.IO. A recording subscriber stands in for the Socket.IO module: each
time it is told about a state it reads the database through a connection of its own, so
it can tell whether that state was committed before anyone heard of it. Another service
instance on its own connection plays a second process; a store wrapper lets it win the
race for the next save.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from runsheet.domain.errors import RunsheetError
from runsheet.plans import default_plan
from runsheet.services.ceremony import CeremonyService, Current
from runsheet.services.plans import install_plan
from runsheet.services.tokens import PUBLIC, Actor
from runsheet.storage.store import Store

from .conftest import SECRET, open_store

FIRST_ITEM, SECOND_ITEM = (item.id for item in default_plan().agenda[:2])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path) -> str:
    """Return a fresh database holding the built-in plan: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'services.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = open_store(url)
    store.create_schema()
    install_plan(store, default_plan(), SECRET, request.getfixturevalue("clock")())
    return url


@dataclass(frozen=True)
class Heard:
    """One state a subscriber was told about, and what the database held at that moment."""

    version: int
    committed_version: int
    committed_state_matches: bool


class RecordingSubscriber:
    """Stands in for the Socket.IO module: records every state it is told about."""

    def __init__(self, database_url: str) -> None:
        self.reader = open_store(database_url)  # a connection of its own, as another process
        self.heard: list[Heard] = []

    def __call__(self, current: Current) -> None:
        committed_version = self.reader.current_version(current.event_id)
        _, committed_state = self.reader.load_state(current.event_id)
        self.heard.append(
            Heard(current.version, committed_version, committed_state == current.state)
        )

    @property
    def versions(self) -> list[int]:
        """Return the version of every state heard, in order."""
        return [heard.version for heard in self.heard]


class RacingStore:
    """The real store, except that another process can be made to win the next save."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._interloper: Callable[[], object] | None = None
        self.saves: list[tuple[int, bool]] = []  # (version it expected, whether it won)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def lose_next_save_to(self, interloper: Callable[[], object]) -> None:
        """Run ``interloper`` (a change committed elsewhere) just before the next save."""
        self._interloper = interloper

    def save_state(self, event_id, state, seen_version, now, archive=None, **entries) -> bool:  # noqa: ANN001, ANN003
        if self._interloper is not None:
            interloper, self._interloper = self._interloper, None
            interloper()
        won = self._store.save_state(event_id, state, seen_version, now, archive, **entries)
        self.saves.append((seen_version, won))
        return won


@dataclass
class Person:
    """Someone acting through a service instance: ``mc.advance()``, ``ward.check_in()``."""

    service: CeremonyService
    actor: Actor

    def do(self, action: str, payload: Any = None) -> Current:
        return self.service.perform(self.actor, action, payload)

    def advance(self, expected_version: int | None = None) -> Current:
        body = {} if expected_version is None else {"expected_version": expected_version}
        return self.do("advance", body)

    def check_in(self, by: str = "Trần Thị B", present: int = 25) -> Current:
        return self.do("checkin", {"by": by, "present": present, "note": ""})

    def sees(self) -> Current:
        return self.service.current()


@pytest.fixture
def store(database) -> RacingStore:
    """Return this process's store, which a test can make lose its next save."""
    return RacingStore(open_store(database))


@pytest.fixture
def told(database) -> RecordingSubscriber:
    """Return the subscriber of this process's service: what it was told, and when."""
    return RecordingSubscriber(database)


@pytest.fixture
def service(store, told, clock) -> CeremonyService:
    """Return this process's ceremony service, its changes told to ``told``."""
    service = CeremonyService(store, clock)
    service.subscribe(told)
    return service


@pytest.fixture
def elsewhere(database, clock) -> CeremonyService:
    """Return another process's ceremony service on the same database."""
    return CeremonyService(open_store(database), clock)


@pytest.fixture
def mc(service) -> Person:
    return Person(service, Actor("mc"))


@pytest.fixture
def ward(service) -> Person:
    """Return the technician of the Thới An point."""
    return Person(service, Actor("point", "thoi-an"))


@pytest.fixture
def viewer(service) -> Person:
    return Person(service, PUBLIC)


@pytest.fixture
def other_console(elsewhere) -> Person:
    """Return the MC's second console, served by the other process."""
    return Person(elsewhere, Actor("mc"))


@pytest.fixture
def other_ward(elsewhere) -> Person:
    """Return the technician of the Hiệp Thành point, served by the other process."""
    return Person(elsewhere, Actor("point", "hiep-thanh"))


# -- a lost compare-and-set race ---------------------------------------------------------


def test_a_save_that_loses_to_a_check_in_elsewhere_is_retried_on_the_newest_state(
    mc, other_ward, store, told
):
    seen = mc.sees().version
    store.lose_next_save_to(lambda: other_ward.check_in(by="Lê Văn C", present=18))

    result = mc.advance(expected_version=seen)

    assert store.saves == [(seen, False), (seen + 1, True)]
    # The retry applied the advance to the state holding the other's check-in: both kept.
    assert result.version == seen + 2
    assert result.state.current_item_id == FIRST_ITEM
    assert result.state.points["hiep-thanh"].checkin.by == "Lê Văn C"
    assert mc.sees().state == result.state
    assert told.versions == [seen + 2]  # told once, of the state that was stored


def test_a_save_that_loses_to_an_advance_elsewhere_refuses_the_stale_click(
    mc, other_console, store, told
):
    seen = mc.sees().version
    store.lose_next_save_to(lambda: other_console.advance(expected_version=seen))

    with pytest.raises(RunsheetError) as refused:
        mc.advance(expected_version=seen)

    assert refused.value.kind == "stale"
    assert store.saves == [(seen, False)]  # the retry saw the newest state and stopped there
    now = mc.sees()
    assert (now.version, now.state.current_item_id) == (seen + 1, FIRST_ITEM)  # one step only
    assert told.heard == []  # this process changed nothing, so it told nothing


def test_a_save_that_loses_to_an_advance_elsewhere_without_a_version_goes_one_further(
    mc, other_console, store, told
):
    seen = mc.sees().version
    store.lose_next_save_to(lambda: other_console.advance())

    result = mc.advance()

    assert store.saves == [(seen, False), (seen + 1, True)]
    assert (result.version, result.state.current_item_id) == (seen + 2, SECOND_ITEM)
    assert told.versions == [seen + 2]


# -- publishing after the commit ---------------------------------------------------------


def test_every_state_is_told_only_once_the_database_holds_it(mc, ward, other_ward, store, told):
    start = mc.sees().version
    mc.advance(expected_version=start)
    ward.check_in(by="Trần Thị B")
    store.lose_next_save_to(lambda: other_ward.check_in(by="Lê Văn C"))
    mc.do("message", {"text": "Các điểm cầu chuẩn bị", "to": None})
    mc.do("goto", {"item_id": SECOND_ITEM})

    # The other process's check-in is not this process's to tell (its own subscribers are).
    assert told.versions == [start + 1, start + 2, start + 4, start + 5]
    for heard in told.heard:
        assert heard.committed_version == heard.version, heard
        assert heard.committed_state_matches, heard


def test_an_action_that_changes_nothing_is_neither_stored_nor_told(mc, store, told):
    mc.do("goto", {"item_id": FIRST_ITEM})
    told.heard.clear()
    store.saves.clear()
    version = mc.sees().version

    again = mc.do("goto", {"item_id": FIRST_ITEM})  # already live

    assert again.version == version == mc.sees().version
    assert store.saves == []
    assert told.heard == []


# -- refused actions ---------------------------------------------------------------------

REFUSALS = {
    "a stale click": ("mc", "advance", {"expected_version": 0}, "stale"),
    "a version from the future": ("mc", "advance", {"expected_version": 99}, "stale"),
    "a point pressing next": ("ward", "advance", {}, "forbidden"),
    "a point checking in for another": (
        "ward",
        "checkin",
        {"by": "Lê", "point_id": "hiep-thanh"},
        "forbidden",
    ),
    "a viewer checking in": (
        "viewer",
        "checkin",
        {"by": "Lê", "point_id": "thoi-an"},
        "unauthenticated",
    ),
    "a payload that is not an object": ("mc", "advance", ["next"], "invalid"),
    "a field of the wrong type": ("mc", "advance", {"expected_version": "3"}, "invalid"),
    "an unknown field": ("mc", "advance", {"skip": 2}, "invalid"),
    "a check-in without a name": ("ward", "checkin", {"present": 3}, "invalid"),
    "an item that does not exist": ("mc", "goto", {"item_id": "no-such-item"}, "not_found"),
    "an action that does not exist": ("mc", "launch_fireworks", {}, "not_found"),
    "finishing before the start": ("mc", "finish", {}, "conflict"),
}


@pytest.mark.parametrize(("who", "action", "payload", "kind"), REFUSALS.values(), ids=REFUSALS)
def test_a_refused_action_changes_nothing_and_tells_nobody(
    request, who, action, payload, kind, store, told
):
    person: Person = request.getfixturevalue(who)
    before = person.sees()

    with pytest.raises(RunsheetError) as refused:
        person.do(action, payload)

    assert refused.value.kind == kind
    after = person.service.store.load_state(before.event_id)[1]
    assert after == before.state
    assert store.saves == []
    assert told.heard == []
