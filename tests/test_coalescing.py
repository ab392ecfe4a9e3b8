"""Work done once for many: changes sent together, presence refreshed together, unchanged
points reused by the codec, the store and the snapshots.

At 3,500 points a change touches one point of a state of 3,500; these are the parts that
make it cost one point's work, and the guarantees they must keep: every client still holds
exactly the state (patches from the version it holds), every page's point turns online,
and a state read back is the state stored, whichever process stored it.
"""

from __future__ import annotations

import threading
from dataclasses import FrozenInstanceError
from datetime import timedelta
from types import SimpleNamespace

import jsonpatch
import pytest

from bench.national_plan import national_plan_dict
from bench.national_plan import point_id as national_point
from runsheet.domain.ceremony import PointStatus
from runsheet.plans import plan_from_dict
from runsheet.services.plans import install_plan
from runsheet.services.presence import PresenceKeeper
from runsheet.services.snapshot import FULL_POINTS_LIMIT
from runsheet.services.state_patch import CLOCK_KEYS
from runsheet.services.tokens import Actor, hash_token, holders
from runsheet.storage.codec import PointMemo, state_from_dict, state_to_dict
from runsheet.storage.store import TOKENS_PER_QUERY, Store
from runsheet.transports.sockets.broadcast import Broadcaster
from tests.conftest import make_app

WAIT = 10.0


class HeldServer:
    """A Socket.IO server that records every emit and can hold the first one back."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, dict, tuple[str, ...]]] = []
        self.hold = threading.Event()
        self.holding = threading.Event()
        self.hold.set()

    def emit(self, event: str, body: dict, to=None, **options) -> None:  # noqa: ANN001, ANN003
        if event == "event_changed":
            return
        self.holding.set()
        assert self.hold.wait(WAIT)
        rooms = tuple(to) if isinstance(to, list) else (to,)
        self.emitted.append((event, body, rooms))

    def start_background_task(self, target, *args) -> None:  # noqa: ANN001
        threading.Thread(target=target, args=args).start()

    def enter_room(self, sid: str, room: str) -> None:
        self.emitted.append(("joined", {"sid": sid}, (room,)))

    def to(self, room: str) -> list[tuple[str, dict]]:
        return [(event, body) for event, body, rooms in self.emitted if room in rooms]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def national(request, tmp_path, clock):
    """Return the ceremony service of an app whose active plan has 250 points (trimmed).

    On SQLite, then on the real PostgreSQL (where a change is stored in one statement).
    """
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'national.sqlite3'}"
    else:
        database_url = request.getfixturevalue("postgres_url")
    app = make_app(database_url, clock)
    svc = app.extensions["runsheet"]
    install_plan(svc.store, plan_from_dict(national_plan_dict(250, 5)), svc.secret_key, clock())
    assert len(svc.ceremony.current().plan.points) > FULL_POINTS_LIMIT
    return svc.ceremony


def without_clock(state: dict) -> dict:
    return {key: value for key, value in state.items() if key not in CLOCK_KEYS}


def test_changes_made_while_one_is_sent_go_out_as_one_patch_from_the_version_sent(national):
    ceremony = national
    server = HeldServer()
    broadcaster = Broadcaster(server, ceremony, queued=False)
    mc = Actor("mc")
    first = ceremony.perform(mc, "advance", {})
    broadcaster.broadcast(first)  # states to state rooms, a patch to patch rooms

    server.hold.clear()  # the next send stalls, as on a slow fan-out
    server.holding.clear()
    second = ceremony.perform(mc, "advance", {})
    sending = threading.Thread(target=broadcaster.broadcast, args=(second,))
    sending.start()
    assert server.holding.wait(WAIT)
    later = [ceremony.perform(mc, "advance", {}) for _ in range(3)]
    waiting = [threading.Thread(target=broadcaster.broadcast, args=(c,)) for c in later]
    for thread in waiting:
        thread.start()
    server.hold.set()
    for thread in (sending, *waiting):
        thread.join(WAIT)

    for room in ("public#patches", "mc#patches"):
        patches = [body for event, body in server.to(room) if event == "patch"]
        # The one being sent, then the three that waited as one, from the version sent.
        assert [(p["from_version"], p["version"]) for p in patches][1:] == [
            (first.version, second.version),
            (second.version, later[-1].version),
        ]
    for role, token_role in (("public", None), ("mc", "mc")):
        # A client that took patches since the first change's state, as a state room got it.
        state = dict(next(body for event, body in server.to(role) if event == "state"))
        assert state["version"] == first.version
        for _, patch in server.to(f"{role}#patches")[1:]:
            assert patch["from_version"] == state["version"]
            state = jsonpatch.apply_patch(state, patch["ops"])
        actor = Actor("public") if token_role is None else Actor("mc")
        expected = broadcaster.body(actor, ceremony.current())
        assert state["version"] == later[-1].version
        assert without_clock(state) == without_clock(expected)


def test_pages_greeted_before_anything_was_sent_get_patches_from_their_version(national):
    # A process that just started (e.g. after a restart, every page reconnecting) greets
    # each page with the current state; its heartbeat must not then send every page the
    # whole state again, and the next change goes out as a patch from that version.
    ceremony = national
    server = HeldServer()
    broadcaster = Broadcaster(server, ceremony, queued=False)
    greeted = ceremony.current()
    broadcaster.greet("viewer", Actor("public"), wants_patches=True)
    broadcaster.greet("mc-page", Actor("mc"), wants_patches=True)
    assert not broadcaster.catch_up()
    assert [event for event, _, _ in server.emitted if event == "state"] == ["state", "state"]

    change = ceremony.perform(Actor("mc"), "advance", {})
    broadcaster.broadcast(change)
    for role, actor in (("public", Actor("public")), ("mc", Actor("mc"))):
        (patch,) = [body for event, body in server.to(f"{role}#patches") if event == "patch"]
        assert (patch["from_version"], patch["version"]) == (greeted.version, change.version)
        state = broadcaster.body(actor, greeted)
        patched = jsonpatch.apply_patch(state, patch["ops"])
        assert without_clock(patched) == without_clock(broadcaster.body(actor, change))


def test_a_change_another_process_made_in_between_is_patched_from_the_version_before(national):
    ceremony = national
    server = HeldServer()
    broadcaster = Broadcaster(server, ceremony, queued=False)
    mc = Actor("mc")
    broadcaster.broadcast(ceremony.perform(mc, "advance", {}))
    ceremony.perform(mc, "advance", {})  # another process's: never handed to this one
    mine = ceremony.perform(mc, "advance", {})
    broadcaster.broadcast(mine)
    patch = [body for event, body in server.to("public#patches") if event == "patch"][-1]
    assert (patch["from_version"], patch["version"]) == (mine.version - 1, mine.version)


class CountingCeremony:
    """A ceremony service whose presence refresh counts its calls and can be held."""

    def __init__(self) -> None:
        self.refreshes = 0
        self.release = threading.Event()
        self.started = threading.Event()
        self.presence_grace = timedelta(seconds=1)

    def clock(self):  # noqa: ANN201
        return None

    def refresh_presence(self) -> None:
        self.refreshes += 1
        self.started.set()
        assert self.release.wait(WAIT)


def test_pages_that_connect_during_a_presence_refresh_share_the_next_one():
    ceremony = CountingCeremony()
    connected: list[str] = []
    store = SimpleNamespace(add_connection=lambda sid, *rest: connected.append(sid))
    threads: list[threading.Thread] = []

    def spawn(target, *args):  # noqa: ANN001, ANN202
        thread = threading.Thread(target=target, args=args)
        threads.append(thread)
        thread.start()
        return thread

    keeper = PresenceKeeper(SimpleNamespace(store=store, ceremony=ceremony), "p", spawn, None)
    keeper.page_connected("first", 1, "a")
    assert ceremony.started.wait(WAIT)
    for n in range(50):
        keeper.page_connected(f"sid-{n}", 1, f"p-{n}")
    ceremony.release.set()
    for thread in list(threads):
        thread.join(WAIT)

    assert len(connected) == 51  # every page's connection is recorded at once
    assert ceremony.refreshes == 2  # the one under way, then one for the fifty
    keeper.page_connected("late", 1, "b")  # a later page: a refresh of its own
    for thread in list(threads):
        thread.join(WAIT)
    assert ceremony.refreshes == 3


def test_a_failed_presence_refresh_does_not_stop_the_next(caplog):
    calls: list[int] = []

    def refresh() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")

    ceremony = SimpleNamespace(refresh_presence=refresh, presence_grace=None, clock=lambda: None)
    store = SimpleNamespace(add_connection=lambda *args: None)

    def spawn(target, *args):  # noqa: ANN001, ANN202
        target(*args)  # at once, in this thread

    keeper = PresenceKeeper(SimpleNamespace(store=store, ceremony=ceremony), "p", spawn, None)
    keeper.page_connected("a", 1, "a")
    keeper.page_connected("b", 1, "b")
    assert len(calls) == 2
    assert "could not refresh presence" in caplog.text


def test_a_point_status_is_a_value_a_change_replaces():
    status = PointStatus("p-1")
    with pytest.raises(FrozenInstanceError):
        status.online = True  # type: ignore[misc]


def test_the_codec_reuses_what_it_made_of_each_unchanged_point(app, clock):
    ceremony = app.extensions["runsheet"].ceremony
    ceremony.perform(Actor("point", "thoi-an"), "checkin", {"by": "Chị Mai", "present": 4})
    state = ceremony.current().state
    memo = PointMemo()

    record = state_to_dict(state, memo)
    assert record == state_to_dict(state)  # the same JSON as without the memo
    again = state_to_dict(state, memo)
    assert all(again["points"][p] is record["points"][p] for p in record["points"])

    read = state_from_dict(record, memo)
    assert read == state_from_dict(record)
    assert all(read.points[p] is state.points[p] for p in state.points)  # as encoded

    changed = {**record, "points": {**record["points"]}}
    changed["points"]["thoi-an"] = {**record["points"]["thoi-an"], "online": True}
    reread = state_from_dict(changed, memo)
    assert reread.points["thoi-an"].online is True
    assert reread.points["thoi-an"] is not state.points["thoi-an"]
    assert reread.points["tan-thoi-nhat"] is state.points["tan-thoi-nhat"]


def test_a_state_read_back_is_the_one_stored_whichever_process_stored_it(database_url, clock):
    app = make_app(database_url, clock)
    ceremony = app.extensions["runsheet"].ceremony
    event_id = ceremony.current().event_id
    other = Store.from_url(database_url)  # another process's store on the same database
    try:
        _, seen = other.load_state_record(event_id)
        changed = ceremony.perform(Actor("point", "thoi-an"), "checkin", {"by": "A", "present": 1})
        _, record = other.load_state_record(event_id)
        assert record["version"] == changed.version == seen["version"] + 1
        assert record["points"]["thoi-an"]["checkin"]["by"] == "A"

        state = other.state_of(record)
        ceremony_state = ceremony.current().state
        assert state == ceremony_state
        now = clock()
        moved = state_from_dict(record)
        moved.version += 1
        assert other.save_state(event_id, moved, record["version"], now)
        assert ceremony.current().version == moved.version  # the first store reads it anew
        assert not other.save_state(event_id, moved, record["version"], now)  # stale: refused
    finally:
        other.engine.dispose()


def test_with_a_queue_each_process_sends_its_clients_the_newest_state_once(national):
    ceremony = national
    server = HeldServer()
    sent: list[str] = []

    def spawn(target, *args):  # noqa: ANN001, ANN202
        sent.append("send")
        target(*args)

    broadcaster = Broadcaster(server, ceremony, queued=True, spawn=spawn)
    mc = Actor("mc")
    first = ceremony.perform(mc, "advance", {})
    broadcaster.broadcast(first)  # this process's change: sent to its clients at once
    assert server.to("public")[-1][1]["version"] == first.version
    # Two changes another process committed; this one's watch sees the version move.
    ceremony.perform(mc, "advance", {})
    latest = ceremony.perform(mc, "advance", {})
    broadcaster.send_soon()
    patch = [body for event, body in server.to("public#patches") if event == "patch"][-1]
    assert (patch["from_version"], patch["version"]) == (first.version, latest.version)
    assert not broadcaster.catch_up()  # the heartbeat finds nothing left to send
    assert len(sent) == 2


def test_up_to_the_points_limit_every_change_goes_out_in_order(database_url, clock):
    app = make_app(database_url, clock)
    ceremony = app.extensions["runsheet"].ceremony
    server = HeldServer()
    broadcaster = Broadcaster(server, ceremony, queued=False)
    mc = Actor("mc")
    broadcaster.broadcast(ceremony.perform(mc, "advance", {}))
    server.hold.clear()
    server.holding.clear()
    changes = [ceremony.perform(mc, "advance", {}) for _ in range(4)]
    threads = [threading.Thread(target=broadcaster.broadcast, args=(changes[0],))]
    threads[0].start()
    assert server.holding.wait(WAIT)
    for change in changes[1:]:  # each waits its turn, in order
        threads.append(threading.Thread(target=broadcaster.broadcast, args=(change,)))
        threads[-1].start()
        threads[-1].join(0.2)
    server.hold.set()
    for thread in threads:
        thread.join(WAIT)
    versions = [body["version"] for event, body in server.to("public") if event == "state"]
    assert versions[1:] == [change.version for change in changes]  # the SPEC: every change


def test_every_connected_pages_token_is_checked_in_one_look_up(app, tokens):
    store = app.extensions["runsheet"].store
    event_id = app.extensions["runsheet"].ceremony.current().event_id
    asked: list[list[str]] = []
    token_holders = store.token_holders

    def counted(hashes):  # noqa: ANN001, ANN202
        asked.append(list(hashes))
        return token_holders(hashes)

    store.token_holders = counted
    everyone = {**tokens, "stranger": "not-a-token-of-anyone"}
    held = holders(store, event_id, everyone.values())

    assert len(asked) == 1  # one call for every token, however many pages hold them
    assert held[tokens["mc"]] == Actor("mc")
    assert held[tokens["organizer"]] == Actor("organizer")
    assert held[tokens["thoi-an"]] == Actor("point", "thoi-an")
    assert held["not-a-token-of-anyone"] is None


def test_tokens_are_looked_up_a_few_hundred_at_a_time(app, tokens):
    store = app.extensions["runsheet"].store
    hashes = [hash_token(token) for token in tokens.values()]
    padding = [hash_token(f"unknown-{n}") for n in range(TOKENS_PER_QUERY + 10)]
    found = store.token_holders(padding[:TOKENS_PER_QUERY] + hashes + padding)
    assert set(found) == set(hashes)  # past the first query's worth too


def test_changes_waiting_for_the_writer_are_stored_together_each_with_its_version(national):
    ceremony = national
    store = ceremony.store
    first_save = threading.Event()
    release = threading.Event()
    saves: list[int] = []
    save_state = store.save_state

    def held(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        saves.append(len(kwargs.get("audit_entries", ())))
        if len(saves) == 1:
            first_save.set()
            assert release.wait(WAIT)
        return save_state(*args, **kwargs)

    store.save_state = held
    start = ceremony.current().version
    outcomes: dict[str, object] = {}

    def act(name: str, actor: Actor, payload: dict) -> None:
        try:
            outcomes[actor.point_id or name] = ceremony.perform(actor, name, payload)
        except Exception as error:  # noqa: BLE001 - the test looks at what each one heard
            outcomes[actor.point_id or name] = error

    def point(n: int) -> Actor:
        return Actor("point", national_point(n))

    threads = [threading.Thread(target=act, args=("checkin", point(0), {"by": "A", "present": 1}))]
    threads[0].start()
    assert first_save.wait(WAIT)  # the writer is storing the first check-in
    later = [("checkin", point(n), {"by": f"B{n}", "present": n}) for n in range(1, 4)]
    later.insert(1, ("clear_trouble", point(9), {}))  # refused: that point has no trouble
    for args in later:
        threads.append(threading.Thread(target=act, args=args))
        threads[-1].start()
    while len(ceremony._waiting) < len(later):  # every one waits for the writer
        threading.Event().wait(0.01)
    release.set()
    for thread in threads:
        thread.join(WAIT)

    assert saves == [1, 3]  # the first alone, then the three that waited, at once
    together = [outcomes[national_point(n)] for n in range(1, 4)]
    assert all(o is together[0] for o in together)  # one state holds all three
    assert together[0].version == start + 4
    assert isinstance(outcomes[national_point(9)], Exception)
    state = ceremony.current().state
    assert all(state.points[national_point(n)].checkin is not None for n in range(4))
    event_id = ceremony.current().event_id
    logged = [e for e in store.audit_entries(event_id) if e.action == "checkin"]
    versions = sorted((e.version_before, e.version_after) for e in logged)
    assert versions == [(start + n, start + n + 1) for n in range(4)]  # one each, in turn
