"""The audit log: every change logged in its own transaction, refusals with why, in check.

The service runs on the real store (SQLite, then PostgreSQL) with no app; the HTTP API, the
sockets and the command line have tests of their own in test_audit_http.py and (a scripted
ceremony through all three) test_audit_ceremony.py.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.exc import IntegrityError

from runsheet.domain.errors import Forbidden, RunsheetError, StaleVersion
from runsheet.plans import default_plan
from runsheet.services.audit import RefusalGate, summarize
from runsheet.services.ceremony import CeremonyService
from runsheet.services.plans import install_plan, rotate_tokens
from runsheet.services.tokens import PUBLIC, Actor
from runsheet.storage.store import AuditEntry

from .conftest import SECRET, open_store

MC = Actor("mc").via("http").at_console("Bàn MC")
WARD = Actor("point", "thoi-an").via("socket")
FIRST_ITEM = default_plan().agenda[0].id


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path, clock):
    """Return a store on a fresh database holding the built-in plan: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = open_store(url)
    store.create_schema()
    install_plan(store, default_plan(), SECRET, clock())
    return store


@pytest.fixture
def ceremony(store, clock) -> CeremonyService:
    return CeremonyService(store, clock=clock)


def log(ceremony: CeremonyService, **filters) -> list[AuditEntry]:  # noqa: ANN003
    """Return the active event's audit log, oldest first."""
    return ceremony.store.audit_entries(ceremony.current().event_id, limit=1000, **filters)[::-1]


def test_loading_the_plan_is_the_first_entry(ceremony):
    (entry,) = log(ceremony)
    assert (entry.action, entry.role, entry.channel, entry.outcome) == (
        "load_plan",
        "system",
        "system",
        "done",
    )
    assert entry.version_before is None and entry.version_after == 1
    assert entry.summary["slug"] == default_plan().event.slug
    assert entry.summary["points"] == 13 and entry.summary["created"] is True
    assert entry.run_number == 1


def test_an_action_is_logged_with_who_when_what_and_the_versions_around_it(ceremony, clock):
    ceremony.perform(WARD, "checkin", {"by": "Nguyễn Văn A", "present": 12, "note": "ổn"})
    clock.advance(seconds=5)
    ceremony.perform(MC, "advance", {"expected_version": 2})
    *_, checkin, advance = log(ceremony)
    assert (checkin.role, checkin.point_id, checkin.channel, checkin.console) == (
        "point",
        "thoi-an",
        "socket",
        None,
    )
    assert checkin.summary == {"by": "Nguyễn Văn A", "present": 12, "note": "ổn"}
    assert (checkin.version_before, checkin.version_after) == (1, 2)
    assert (advance.action, advance.role, advance.console, advance.channel) == (
        "advance",
        "mc",
        "Bàn MC",
        "http",
    )
    assert (advance.version_before, advance.version_after) == (2, 3)
    assert advance.at == clock.now and advance.at.tzinfo is not None
    assert advance.summary == {"expected_version": 2}
    assert advance.outcome == "done" and advance.error is None


def test_a_refused_action_of_a_token_holder_is_logged_with_why(ceremony):
    with pytest.raises(Forbidden):
        ceremony.perform(WARD, "advance", {})
    with pytest.raises(RunsheetError):
        ceremony.perform(WARD, "checkin", {"by": "", "present": -1})
    forbidden, invalid = log(ceremony, role="point")
    assert (forbidden.action, forbidden.outcome, forbidden.error_kind) == (
        "advance",
        "refused",
        "forbidden",
    )
    assert "not allowed" in forbidden.error
    assert forbidden.version_before == forbidden.version_after == ceremony.current().version
    assert invalid.outcome == "refused" and invalid.error_kind == "invalid"
    assert invalid.summary == {"by": "", "present": -1}  # what was sent, since it did not parse


def test_a_stale_move_is_logged_as_refused_and_changes_nothing(ceremony):
    ceremony.perform(MC, "advance", {})
    with pytest.raises(StaleVersion):
        ceremony.perform(MC.at_console("Laptop 2"), "advance", {"expected_version": 1})
    refused = log(ceremony)[-1]
    assert (refused.outcome, refused.error_kind, refused.console) == (
        "refused",
        "stale",
        "Laptop 2",
    )
    assert refused.version_before == refused.version_after == 2


def test_refusals_of_callers_without_a_token_write_nothing(ceremony):
    before = log(ceremony)
    for _ in range(50):
        with pytest.raises(RunsheetError):
            ceremony.perform(PUBLIC, "advance", {})
    assert log(ceremony) == before


def test_a_flood_of_the_same_refusal_is_one_entry_until_the_window_passes(store, clock):
    now = [0.0]
    gate = RefusalGate(window=60, clock=lambda: now[0])
    ceremony = CeremonyService(store, clock=clock, refusal_gate=gate)
    for _ in range(500):
        with pytest.raises(Forbidden):
            ceremony.perform(WARD, "advance", {})
    refused = [e for e in log(ceremony) if e.outcome == "refused"]
    assert len(refused) == 1 and "repeated" not in refused[0].summary
    now[0] = 61.0
    with pytest.raises(Forbidden):
        ceremony.perform(WARD, "advance", {})
    refused = [e for e in log(ceremony) if e.outcome == "refused"]
    assert len(refused) == 2 and refused[1].summary["repeated"] == 499


def test_the_refusal_gate_bounds_writes_of_many_kinds_together():
    now = [0.0]
    gate = RefusalGate(window=60, rate=5, burst=20, clock=lambda: now[0])
    admitted = [gate.admit(("e", "point", f"p{i}", "advance", "forbidden")) for i in range(100)]
    assert sum(a is not None for a in admitted) == 20  # the burst, then none this second
    now[0] = 1.0
    more = [gate.admit(("e", "point", f"q{i}", "advance", "forbidden")) for i in range(100)]
    assert sum(a is not None for a in more) == 5  # the steady rate
    now[0] = 100.0  # a kind held back is logged later, with the count it missed
    assert gate.admit(("e", "point", "p99", "advance", "forbidden")) == 1


def test_an_action_that_changes_nothing_logs_nothing(ceremony):
    before = log(ceremony)
    ceremony.refresh_presence()  # nobody connected, nobody was: no change
    assert log(ceremony) == before


def test_link_measures_are_not_logged_but_their_refusals_are(ceremony):
    ceremony.perform(WARD, "link", {"rtt_ms": 40})
    assert [e.action for e in log(ceremony)] == ["load_plan"]
    with pytest.raises(RunsheetError):
        ceremony.perform(WARD, "link", {"rtt_ms": -5})
    assert log(ceremony)[-1].action == "link" and log(ceremony)[-1].outcome == "refused"


def test_presence_changes_are_logged_as_the_system_with_who_came_and_went(store, ceremony, clock):
    event_id = ceremony.current().event_id
    store.add_connection("sid-1", event_id, "thoi-an", "process-1", clock())
    store.add_connection("sid-2", event_id, "thanh-loc", "process-1", clock())
    ceremony.refresh_presence()
    store.close_connection("sid-2", clock())
    clock.advance(seconds=30)
    store.touch_connections("process-1", clock())
    ceremony.refresh_presence()
    came, went = log(ceremony, role="system")[1:]
    assert (came.action, came.channel) == ("presence", "system")
    assert came.summary == {"online": ["thanh-loc", "thoi-an"], "offline": []}
    assert went.summary == {"online": [], "offline": ["thanh-loc"]}
    assert went.version_after == came.version_after + 1


def test_a_failed_compare_and_set_leaves_no_entry(store, ceremony, clock):
    current = ceremony.current()
    entry = log(ceremony)[0]
    stale = dataclasses.replace(entry, id=None, action="advance", version_before=0)
    state = dataclasses.replace(current.state, version=current.version + 1)
    assert not store.save_state(current.event_id, state, current.version - 1, clock(), None, stale)
    assert len(log(ceremony)) == 1


def test_an_entry_that_cannot_be_written_undoes_the_change(store, ceremony, clock):
    current = ceremony.current()
    broken = dataclasses.replace(log(ceremony)[0], id=None, role=None)  # role is required
    state = dataclasses.replace(current.state, version=current.version + 1)
    with pytest.raises(IntegrityError):
        store.save_state(current.event_id, state, current.version, clock(), None, broken)
    assert store.current_version(current.event_id) == current.version
    assert len(log(ceremony)) == 1


def test_each_entry_belongs_to_its_run_so_a_rehearsal_keeps_its_own(ceremony):
    ceremony.perform(MC, "rehearse", {})
    ceremony.perform(MC, "advance", {})
    ceremony.perform(MC, "end_rehearsal", {})
    ceremony.perform(WARD, "checkin", {"by": "Chị Lan"})  # before the real run: run 2's
    ceremony.perform(MC, "advance", {})
    rehearsal = [e.action for e in log(ceremony, run_number=1)]
    real = [e.action for e in log(ceremony, run_number=2)]
    assert rehearsal == ["load_plan", "rehearse", "advance", "end_rehearsal"]
    assert real == ["checkin", "advance"]


def test_the_log_pages_newest_first_and_filters_by_role_and_point(store, ceremony):
    ceremony.perform(MC, "advance", {})
    for seconds in (30, 60, 90, 120):
        ceremony.perform(MC, "extend", {"seconds": seconds})
    ceremony.perform(WARD, "checkin", {"by": "A"})
    event_id = ceremony.current().event_id
    newest = store.audit_entries(event_id, limit=2)
    assert [e.action for e in newest] == ["checkin", "extend"]
    older = store.audit_entries(event_id, before_id=newest[-1].id, limit=3)
    assert [e.summary.get("seconds") for e in older] == [90, 60, 30]
    assert all(e.id < newest[-1].id for e in older)
    assert [e.point_id for e in store.audit_entries(event_id, point_id="thoi-an")] == ["thoi-an"]
    assert {e.role for e in store.audit_entries(event_id, role="mc")} == {"mc"}


def test_rotating_and_reloading_are_logged_in_the_transaction_that_does_them(
    store, ceremony, clock
):
    rotate_tokens(store, default_plan().event.slug, SECRET, clock(), "mc", None, MC)
    install_plan(store, default_plan(), SECRET, clock(), actor=Actor("organizer").via("cli"))
    rotated, loaded = log(ceremony)[-2:]
    assert (rotated.action, rotated.role, rotated.summary) == (
        "rotate_tokens",
        "mc",
        {"role": "mc", "point_id": None},
    )
    assert (loaded.action, loaded.role, loaded.channel) == ("load_plan", "organizer", "cli")
    assert loaded.summary["created"] is False


def test_a_summary_keeps_the_payload_short():
    summary = summarize(
        {"text": "x" * 1000, "to": None, "items": [1, 2, 3], **{f"k{i}": i for i in range(20)}}
    )
    assert len(summary["text"]) == 120 and summary["text"].endswith("…")
    assert summary["items"] == "[3 values]"
    assert summary["to"] is None
    assert len(summary) == 13 and summary["…"] == "11 more"


def test_the_refusal_gate_forgets_quiet_kinds_so_it_stays_small():
    now = [0.0]
    gate = RefusalGate(window=60, rate=1000, burst=1000, clock=lambda: now[0], kinds_kept=10)
    for i in range(100):
        now[0] += 1
        assert gate.admit(("e", "point", f"p{i}", "advance", "forbidden")) == 0
    assert len(gate._last_logged) <= 10  # noqa: SLF001
