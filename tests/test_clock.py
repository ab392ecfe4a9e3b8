"""The service's clock survives the wall clock stepping back or forward (issue 10, finding 8).

Each test drives a ``SteadyClock`` with an injected wall clock and monotonic clock, steps
the wall clock, and checks what a person would see: elapsed times, presence, the history.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from runsheet.services.ceremony import CeremonyService
from runsheet.services.clock import SteadyClock
from runsheet.services.tokens import Actor

from .conftest import make_app, open_store

MC = Actor("mc")
HOUR = timedelta(hours=1)


class Machine:
    """A machine's two clocks: the wall clock (which can be stepped) and the monotonic one."""

    def __init__(self) -> None:
        self.wall_time = datetime(2021, 10, 1, 1, 0, tzinfo=UTC)
        self.seconds = 1000.0

    def wall(self) -> datetime:
        return self.wall_time

    def monotonic(self) -> float:
        return self.seconds

    def wait(self, seconds: float) -> None:
        """Let time pass: both clocks move."""
        self.seconds += seconds
        self.wall_time += timedelta(seconds=seconds)

    def step_wall_clock(self, delta: timedelta) -> None:
        """Set the wall clock by ``delta`` (the monotonic clock does not move)."""
        self.wall_time += delta


@pytest.fixture
def machine() -> Machine:
    return Machine()


@pytest.fixture
def steady(machine) -> SteadyClock:
    return SteadyClock(wall=machine.wall, monotonic=machine.monotonic)


def test_the_clock_follows_the_monotonic_clock_when_the_wall_clock_steps_back(
    machine, steady, caplog
):
    start = steady()
    machine.wait(10)
    machine.step_wall_clock(-HOUR)
    machine.wait(5)
    assert steady() - start == timedelta(seconds=15)
    with caplog.at_level(logging.WARNING):
        gap = steady.check()
    assert gap < -timedelta(minutes=59)
    assert steady() - start == timedelta(seconds=15)  # behind: logged, not followed
    assert "fell behind" in caplog.text

    machine.step_wall_clock(HOUR)  # corrected: the two agree again
    assert abs(steady.check()) < timedelta(seconds=1)


def test_the_clock_follows_the_wall_clock_forward_when_it_jumps_ahead(machine, steady):
    start = steady()
    machine.step_wall_clock(timedelta(minutes=10))
    assert steady() == start
    steady.check()
    assert steady() - start == timedelta(minutes=10)


def test_elapsed_time_never_goes_negative_when_the_wall_clock_steps_back(
    database_url, machine, steady
):
    app = make_app(database_url, clock=steady)
    ceremony = app.extensions["runsheet"].ceremony
    ceremony.perform(MC, "advance")
    machine.wait(1)
    machine.step_wall_clock(-HOUR)
    steady.check()
    machine.wait(29)
    state = app.test_client().get("/api/v1/state").get_json()
    assert state["timing"]["item_elapsed_seconds"] == 30


def test_a_departed_page_stops_counting_after_the_grace_period_whatever_the_wall_clock(
    database_url, machine, steady
):
    app = make_app(database_url, clock=steady)  # grace period: 1 s
    services = app.extensions["runsheet"]
    ceremony, store = services.ceremony, services.store
    event_id = ceremony.current().event_id
    store.add_connection("page-1", event_id, "thoi-an", "process-1", steady())
    assert ceremony.refresh_presence().state.points["thoi-an"].online

    store.close_connection("page-1", steady())
    machine.step_wall_clock(-HOUR)  # would keep the page "seen" for an hour on wall time
    machine.wait(2)
    assert not ceremony.refresh_presence().state.points["thoi-an"].online


def test_the_history_keeps_the_order_of_the_spans_across_a_step_back(database_url, machine, steady):
    app = make_app(database_url, clock=steady)
    ceremony = app.extensions["runsheet"].ceremony
    ceremony.perform(MC, "advance")
    machine.wait(60)
    machine.step_wall_clock(-HOUR)
    ceremony.perform(MC, "advance")
    machine.wait(60)
    ceremony.perform(MC, "advance")
    history = app.test_client().get("/api/v1/history").get_json()
    order = [span["item_id"] for span in history["spans"]]
    assert order == ["tuyen-bo-ly-do", "dien-van-khai-mac", "phat-bieu-don-vi-cung-ung"]
    assert [span["seconds"] for span in history["spans"][:2]] == [60, 60]


def test_a_process_whose_clock_is_an_hour_behind_records_no_time_before_the_stored_ones(
    database_url, clock
):
    make_app(database_url, clock)  # installs the plan; its clock is right
    right = CeremonyService(open_store(database_url), clock=clock)
    right.perform(MC, "advance")
    recorded = right.current().state.updated_at

    behind_machine = Machine()
    behind_machine.wall_time = clock.now - HOUR
    behind = SteadyClock(wall=behind_machine.wall, monotonic=behind_machine.monotonic)
    late = CeremonyService(open_store(database_url), clock=behind)
    late.perform(MC, "advance")
    state = late.current().state
    assert state.updated_at >= recorded
    first, second = state.spans["tuyen-bo-ly-do"][-1], state.spans["dien-van-khai-mac"][-1]
    assert first.ended_at >= first.started_at
    assert second.started_at >= recorded
    assert behind() >= recorded - timedelta(seconds=1)  # it moved forward to the stored time
