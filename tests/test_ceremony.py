"""The ceremony's rules in plain Python, with a frozen clock and no app.

Most tests use a small plan of their own (three items of 10, 20 and 30 minutes, three
points) so that times are easy to check by hand; a few check the built-in plan.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from runsheet.domain.ceremony import (
    MAX_MESSAGES,
    Ceremony,
    CeremonyState,
    new_state,
)
from runsheet.domain.errors import Conflict, InvalidInput, NotFound, StaleVersion
from runsheet.domain.plan import AgendaItem, Event, Plan, Point

START = datetime.fromisoformat("2021-10-01T08:00:00+07:00")


def small_plan(**changes) -> Plan:  # noqa: ANN003
    """Return a plan of three items (10, 20, 30 minutes) and three points."""
    parts = {
        "event": Event(
            slug="small",
            title="Lễ khai mạc thử",
            starts_at=START,
            timezone="Asia/Ho_Chi_Minh",
        ),
        "points": (
            Point("room-a", "Phòng họp A", "room"),
            Point("ward-1", "Phường Một", "ward"),
            Point("ward-2", "Phường Hai", "ward"),
        ),
        "agenda": (
            AgendaItem("open", "Tuyên bố lý do", 10, point_id="room-a"),
            AgendaItem("speech", "Diễn văn khai mạc", 20, point_id="room-a"),
            AgendaItem("close", "Kết thúc", 30, point_id="room-a"),
        ),
    }
    parts.update(changes)
    return Plan(**parts)


@pytest.fixture
def ceremony() -> Ceremony:
    """Return the small plan's ceremony, not started, at version 0."""
    plan = small_plan()
    return Ceremony(plan, new_state(plan))


def spans(ceremony: Ceremony, item_id: str) -> list[tuple[datetime, datetime | None]]:
    """Return an item's spans as (start, end) pairs."""
    return [(s.started_at, s.ended_at) for s in ceremony.state.spans.get(item_id, [])]


def refused(ceremony: Ceremony, error: type[Exception], action) -> Exception:  # noqa: ANN001
    """Run ``action``; check it raises ``error`` and leaves the state exactly as it was."""
    before = copy.deepcopy(ceremony.state)
    with pytest.raises(error) as raised:
        action()
    assert ceremony.state == before
    return raised.value


# -- the run-sheet -----------------------------------------------------------------------


def test_a_new_ceremony_has_not_started_and_knows_every_point(ceremony):
    state = ceremony.state
    assert (state.phase, state.current_item_id, state.version) == ("not_started", None, 0)
    assert state.spans == {} and state.started_at is None and state.finished_at is None
    assert set(state.points) == {"room-a", "ward-1", "ward-2"}


def test_a_ceremony_gives_a_record_to_points_its_stored_state_lacks():
    plan = small_plan()
    state = CeremonyState()
    Ceremony(plan, state)
    assert set(state.points) == {"room-a", "ward-1", "ward-2"}
    assert state.version == 0


def test_advancing_before_the_start_makes_the_first_item_live(ceremony, clock):
    ceremony.advance(clock())
    assert ceremony.state.phase == "live"
    assert ceremony.state.current_item_id == "open"
    assert ceremony.state.started_at == clock()
    assert spans(ceremony, "open") == [(clock(), None)]


def test_advancing_ends_the_live_item_and_starts_the_next_at_the_same_moment(ceremony, clock):
    ceremony.advance(clock())
    moved = clock.advance(minutes=11)
    ceremony.advance(moved)
    assert ceremony.state.current_item_id == "speech"
    assert spans(ceremony, "open") == [(START, moved)]
    assert spans(ceremony, "speech") == [(moved, None)]
    assert ceremony.state.started_at == START


def test_advancing_through_the_programme_visits_every_item_in_order(ceremony, clock):
    seen = []
    for _ in range(3):
        ceremony.advance(clock.advance(minutes=1))
        seen.append(ceremony.state.current_item_id)
    assert seen == ["open", "speech", "close"]


def test_advancing_past_the_last_item_is_refused_and_changes_nothing(ceremony, clock):
    for _ in range(3):
        ceremony.advance(clock())
    error = refused(ceremony, Conflict, lambda: ceremony.advance(clock.advance(minutes=1)))
    assert "last item" in error.message


def test_advancing_a_finished_ceremony_is_refused(ceremony, clock):
    ceremony.advance(clock())
    ceremony.finish(clock.advance(minutes=5))
    refused(ceremony, Conflict, lambda: ceremony.advance(clock.advance(minutes=1)))


def test_going_back_makes_the_previous_item_live_again_with_a_new_span(ceremony, clock):
    ceremony.advance(clock())
    second = clock.advance(minutes=10)
    ceremony.advance(second)
    third = clock.advance(minutes=2)
    ceremony.back(third)
    assert ceremony.state.current_item_id == "open"
    assert spans(ceremony, "open") == [(START, second), (third, None)]
    assert spans(ceremony, "speech") == [(second, third)]


def test_going_back_from_the_first_item_returns_to_not_started(ceremony, clock):
    ceremony.advance(clock())
    later = clock.advance(minutes=1)
    ceremony.back(later)
    state = ceremony.state
    assert (state.phase, state.current_item_id, state.started_at) == ("not_started", None, None)
    assert spans(ceremony, "open") == [(START, later)]


def test_advancing_after_going_back_to_not_started_starts_the_first_item_again(ceremony, clock):
    ceremony.advance(clock())
    ceremony.back(clock.advance(minutes=1))
    restart = clock.advance(minutes=1)
    ceremony.advance(restart)
    assert ceremony.state.current_item_id == "open"
    assert ceremony.state.started_at == restart
    assert len(spans(ceremony, "open")) == 2


def test_going_back_from_a_finished_ceremony_makes_the_last_item_live_again(ceremony, clock):
    for _ in range(3):
        ceremony.advance(clock.advance(minutes=1))
    ended = clock.advance(minutes=30)
    ceremony.finish(ended)
    reopened = clock.advance(minutes=1)
    ceremony.back(reopened)
    state = ceremony.state
    assert (state.phase, state.current_item_id, state.finished_at) == ("live", "close", None)
    assert spans(ceremony, "close")[-1] == (reopened, None)
    assert spans(ceremony, "close")[0][1] == ended
    assert state.started_at == START + timedelta(minutes=1)


def test_going_back_before_the_start_is_refused(ceremony, clock):
    refused(ceremony, Conflict, lambda: ceremony.back(clock()))


def test_going_to_an_item_before_the_start_makes_it_live(ceremony, clock):
    ceremony.goto("close", clock())
    assert (ceremony.state.phase, ceremony.state.current_item_id) == ("live", "close")
    assert ceremony.state.started_at == clock()
    assert spans(ceremony, "open") == []


def test_going_to_an_item_while_live_ends_the_current_one(ceremony, clock):
    ceremony.advance(clock())
    jumped = clock.advance(minutes=3)
    ceremony.goto("close", jumped)
    assert ceremony.state.current_item_id == "close"
    assert spans(ceremony, "open") == [(START, jumped)]
    assert spans(ceremony, "speech") == []


def test_going_to_an_item_after_the_finish_reopens_the_ceremony(ceremony, clock):
    ceremony.advance(clock())
    ceremony.finish(clock.advance(minutes=5))
    ceremony.goto("speech", clock.advance(minutes=1))
    assert (ceremony.state.phase, ceremony.state.current_item_id) == ("live", "speech")
    assert ceremony.state.finished_at is None


def test_going_to_the_live_item_changes_nothing(ceremony, clock):
    ceremony.advance(clock())
    before = copy.deepcopy(ceremony.state)
    ceremony.goto("open", clock.advance(minutes=1))
    assert ceremony.state == before


def test_going_to_an_unknown_item_is_refused_naming_the_item(ceremony, clock):
    error = refused(ceremony, NotFound, lambda: ceremony.goto("nowhere", clock()))
    assert error.field == "item_id"
    assert "nowhere" in error.message


def test_finishing_ends_the_live_item_and_the_ceremony(ceremony, clock):
    ceremony.advance(clock())
    ended = clock.advance(minutes=7)
    ceremony.finish(ended)
    state = ceremony.state
    assert (state.phase, state.current_item_id, state.finished_at) == ("finished", None, ended)
    assert spans(ceremony, "open") == [(START, ended)]


@pytest.mark.parametrize("phase", ["not_started", "finished"])
def test_finishing_a_ceremony_that_is_not_live_is_refused(ceremony, clock, phase):
    if phase == "finished":
        ceremony.advance(clock())
        ceremony.finish(clock.advance(minutes=1))
    refused(ceremony, Conflict, lambda: ceremony.finish(clock.advance(minutes=1)))


def test_reset_forgets_actual_times_but_keeps_check_ins_and_messages(ceremony, clock):
    ceremony.check_in("ward-1", "Lan", 8, "", clock())
    ceremony.send_message("Chuẩn bị", None, clock())
    ceremony.advance(clock())
    ceremony.finish(clock.advance(minutes=4))
    ceremony.reset(clock.advance(minutes=1))
    state = ceremony.state
    assert (state.phase, state.current_item_id, state.spans) == ("not_started", None, {})
    assert state.started_at is None and state.finished_at is None
    assert state.points["ward-1"].checkin.by == "Lan"
    assert [m.text for m in state.messages] == ["Chuẩn bị"]


def test_an_item_shown_twice_keeps_both_spans(ceremony, clock):
    ceremony.advance(clock())  # open
    first_end = clock.advance(minutes=10)
    ceremony.advance(first_end)  # speech
    again = clock.advance(minutes=20)
    ceremony.goto("open", again)
    second_end = clock.advance(minutes=2)
    ceremony.goto("close", second_end)
    assert spans(ceremony, "open") == [(START, first_end), (again, second_end)]
    assert spans(ceremony, "speech") == [(first_end, again)]


def test_every_change_raises_the_version_by_exactly_one(ceremony, clock):
    changes = [
        lambda now: ceremony.advance(now),
        lambda now: ceremony.advance(now),
        lambda now: ceremony.back(now),
        lambda now: ceremony.goto("close", now),
        lambda now: ceremony.check_in("ward-1", "Lan", 3, "", now),
        lambda now: ceremony.report_trouble("ward-1", "no_sound", "", now),
        lambda now: ceremony.clear_trouble("ward-1", now),
        lambda now: ceremony.set_presence({"ward-2"}, now),
        lambda now: ceremony.send_message("Xin chào", None, now),
        lambda now: ceremony.acknowledge_message("ward-2", 1, now),
        lambda now: ceremony.start_roll_call(30, now),
        lambda now: ceremony.answer_roll_call("ward-2", now),
        lambda now: ceremony.finish(now),
        lambda now: ceremony.back(now),
        lambda now: ceremony.reset(now),
        lambda now: ceremony.adopt_plan(now),
    ]
    for number, change in enumerate(changes, start=1):
        now = clock.advance(seconds=1)
        change(now)
        assert ceremony.state.version == number
        assert ceremony.state.updated_at == now


def test_actions_that_change_nothing_keep_the_version(ceremony, clock):
    ceremony.advance(clock())
    ceremony.set_presence({"ward-1"}, clock())
    ceremony.send_message("Xin chào", None, clock())
    ceremony.acknowledge_message("ward-1", 1, clock())
    ceremony.start_roll_call(60, clock())
    ceremony.answer_roll_call("ward-1", clock())
    before = copy.deepcopy(ceremony.state)
    later = clock.advance(seconds=5)
    ceremony.goto("open", later)
    assert ceremony.set_presence({"ward-1"}, later) == []
    ceremony.acknowledge_message("ward-1", 1, later)
    ceremony.answer_roll_call("ward-1", later)
    assert ceremony.state == before


# -- expected_version ----------------------------------------------------------------------


def test_a_double_click_on_next_advances_only_once(ceremony, clock):
    ceremony.advance(clock())
    seen = ceremony.state.version
    ceremony.advance(clock.advance(seconds=1), expected_version=seen)
    error = refused(
        ceremony, StaleVersion, lambda: ceremony.advance(clock(), expected_version=seen)
    )
    assert ceremony.state.current_item_id == "speech"
    assert str(ceremony.state.version) in error.message


@pytest.mark.parametrize(
    "action",
    [
        lambda c, now, v: c.advance(now, v),
        lambda c, now, v: c.back(now, v),
        lambda c, now, v: c.goto("close", now, v),
        lambda c, now, v: c.finish(now, v),
        lambda c, now, v: c.reset(now, v),
    ],
    ids=["advance", "back", "goto", "finish", "reset"],
)
def test_a_run_sheet_action_made_before_the_last_move_is_refused(ceremony, clock, action):
    ceremony.advance(clock())
    stale = ceremony.state.version
    ceremony.advance(clock.advance(minutes=1))
    refused(ceremony, StaleVersion, lambda: action(ceremony, clock(), stale))


@pytest.mark.parametrize(
    "action",
    [
        lambda c, now, v: c.advance(now, v),
        lambda c, now, v: c.back(now, v),
        lambda c, now, v: c.goto("close", now, v),
        lambda c, now, v: c.finish(now, v),
        lambda c, now, v: c.reset(now, v),
    ],
    ids=["advance", "back", "goto", "finish", "reset"],
)
def test_a_run_sheet_action_is_accepted_when_only_points_changed_since(ceremony, clock, action):
    ceremony.advance(clock())
    seen = ceremony.state.version
    ceremony.check_in("ward-1", "Lan", 5, "", clock())
    ceremony.report_trouble("ward-2", "no_picture", "", clock())
    ceremony.set_presence({"ward-1"}, clock())
    ceremony.send_message("Chuẩn bị", None, clock())
    ceremony.start_roll_call(30, clock())
    action(ceremony, clock.advance(minutes=1), seen)
    assert ceremony.state.version == seen + 6


def test_a_run_sheet_action_from_the_current_version_is_accepted(ceremony, clock):
    ceremony.advance(clock(), expected_version=0)
    ceremony.advance(clock(), expected_version=ceremony.state.version)
    assert ceremony.state.current_item_id == "speech"


@pytest.mark.parametrize(
    "action",
    [
        lambda c, now, v: c.advance(now, v),
        lambda c, now, v: c.check_in("ward-1", "Lan", 1, "", now, v),
        lambda c, now, v: c.report_trouble("ward-1", "other", "ồn", now, v),
    ],
    ids=["advance", "check_in", "trouble"],
)
def test_an_expected_version_above_the_current_one_is_refused(ceremony, clock, action):
    ceremony.advance(clock())
    ahead = ceremony.state.version + 1
    refused(ceremony, StaleVersion, lambda: action(ceremony, clock(), ahead))


def test_a_check_in_made_before_the_points_own_record_changed_is_refused(ceremony, clock):
    seen = ceremony.state.version
    ceremony.check_in("ward-1", "Lan", 5, "", clock(), expected_version=seen)
    refused(
        ceremony,
        StaleVersion,
        lambda: ceremony.check_in("ward-1", "Minh", 6, "", clock(), expected_version=seen),
    )
    assert ceremony.state.points["ward-1"].checkin.by == "Lan"


def test_trouble_made_before_the_points_own_record_changed_is_refused(ceremony, clock):
    seen = ceremony.state.version
    ceremony.report_trouble("ward-1", "no_sound", "", clock())
    refused(
        ceremony,
        StaleVersion,
        lambda: ceremony.clear_trouble("ward-1", clock(), expected_version=seen),
    )
    refused(
        ceremony,
        StaleVersion,
        lambda: ceremony.report_trouble("ward-1", "other", "mất điện", clock(), seen),
    )


def test_a_point_action_is_accepted_when_only_the_run_sheet_or_other_points_changed(
    ceremony, clock
):
    ceremony.check_in("ward-1", "Lan", 5, "", clock())
    ceremony.report_trouble("ward-2", "no_sound", "", clock())
    seen = ceremony.state.version
    ceremony.advance(clock())
    ceremony.check_in("room-a", "Hùng", 4, "", clock())
    ceremony.check_in("ward-1", "Minh", 6, "", clock(), expected_version=seen)
    ceremony.report_trouble("ward-2", "no_picture", "", clock(), expected_version=seen)
    assert ceremony.state.points["ward-1"].checkin.by == "Minh"
    assert ceremony.state.points["ward-2"].trouble.kind == "no_picture"
    assert ceremony.state.version == seen + 4


# -- the planned schedule and timing ---------------------------------------------------------


def test_the_planned_schedule_runs_back_to_back_from_the_event_start():
    plan = small_plan()
    slots = [(s.item.id, s.start, s.end) for s in plan.schedule()]
    assert slots == [
        ("open", START, START + timedelta(minutes=10)),
        ("speech", START + timedelta(minutes=10), START + timedelta(minutes=30)),
        ("close", START + timedelta(minutes=30), START + timedelta(minutes=60)),
    ]
    assert plan.planned_minutes == 60
    assert plan.planned_end == START + timedelta(minutes=60)


def test_the_built_in_plan_is_planned_from_eight_in_ho_chi_minh_city(plan):
    slots = plan.schedule()
    assert len(slots) == 7
    assert slots[0].start.isoformat() == "2021-10-01T08:00:00+07:00"
    for earlier, later in zip(slots, slots[1:], strict=False):
        assert later.start == earlier.end
    assert slots[-1].end == plan.planned_end
    assert plan.planned_end - slots[0].start == timedelta(minutes=plan.planned_minutes)


def test_before_the_start_the_ceremony_is_on_time_with_the_planned_end(ceremony, clock):
    timing = ceremony.timing(clock() - timedelta(minutes=30))
    assert timing.item_elapsed_seconds is None and timing.item_planned_seconds is None
    assert timing.over_under_seconds == 0
    assert timing.projected_end == timing.planned_end == START + timedelta(minutes=60)


def test_a_late_start_pushes_the_projected_end_by_the_delay(ceremony, clock):
    late = clock.advance(minutes=12)
    timing = ceremony.timing(late)
    assert timing.over_under_seconds == 12 * 60
    assert timing.projected_end == START + timedelta(minutes=72)


def test_elapsed_time_counts_from_when_the_live_item_started(ceremony, clock):
    ceremony.advance(clock.advance(minutes=2))  # started 2 minutes late
    timing = ceremony.timing(clock.advance(minutes=4))
    assert timing.item_elapsed_seconds == 4 * 60
    assert timing.item_planned_seconds == 10 * 60
    assert timing.item_over_seconds == -6 * 60
    assert timing.projected_end == START + timedelta(minutes=62)
    assert timing.over_under_seconds == 2 * 60


def test_elapsed_time_of_an_item_shown_again_counts_from_its_latest_span(ceremony, clock):
    ceremony.advance(clock())
    ceremony.advance(clock.advance(minutes=8))
    ceremony.back(clock.advance(minutes=5))
    timing = ceremony.timing(clock.advance(minutes=1))
    assert timing.item_elapsed_seconds == 60


def test_an_item_running_over_pushes_the_projected_end(ceremony, clock):
    ceremony.advance(clock())
    timing = ceremony.timing(clock.advance(minutes=15))  # a 10-minute item, 5 over
    assert timing.item_over_seconds == 5 * 60
    assert timing.projected_end == START + timedelta(minutes=65)
    assert timing.over_under_seconds == 5 * 60


def test_an_item_ended_early_brings_the_projected_end_forward(ceremony, clock):
    ceremony.advance(clock())
    ceremony.advance(clock.advance(minutes=4))  # the 10-minute item took 4
    timing = ceremony.timing(clock())
    assert timing.projected_end == START + timedelta(minutes=54)
    assert timing.over_under_seconds == -6 * 60


def test_after_the_finish_over_under_compares_the_actual_end_with_the_plan(ceremony, clock):
    ceremony.advance(clock())
    ceremony.finish(clock.advance(minutes=45))
    timing = ceremony.timing(clock.advance(hours=3))
    assert timing.item_elapsed_seconds is None
    assert timing.projected_end == START + timedelta(minutes=45)
    assert timing.over_under_seconds == -15 * 60


def test_over_under_splits_into_the_start_delay_and_the_programme_drift(ceremony, clock):
    ceremony.advance(clock.advance(minutes=2))  # started 2 minutes late
    timing = ceremony.timing(clock.advance(minutes=15))  # the 10-minute item is 5 over
    assert timing.start_delay_seconds == 2 * 60
    assert timing.drift_seconds == 5 * 60
    assert timing.over_under_seconds == 7 * 60


def test_a_rehearsal_days_before_the_ceremony_shows_the_drift_of_its_programme(ceremony, clock):
    rehearsal = clock.advance(days=-3)
    ceremony.advance(rehearsal)
    ceremony.advance(clock.advance(minutes=8))  # the 10-minute item took 8
    ceremony.finish(clock.advance(minutes=50))  # the remaining 50 minutes took 50
    timing = ceremony.timing(clock.advance(minutes=1))
    assert timing.start_delay_seconds == -3 * 24 * 3600
    assert timing.drift_seconds == -2 * 60
    assert timing.over_under_seconds == -3 * 24 * 3600 - 2 * 60


def test_before_the_start_there_is_no_delay_or_drift_yet(ceremony, clock):
    timing = ceremony.timing(clock.advance(minutes=5))
    assert timing.start_delay_seconds is None and timing.drift_seconds is None


# -- check-ins and trouble ------------------------------------------------------------------


def test_a_check_in_records_who_confirmed_how_many_are_present_a_note_and_when(ceremony, clock):
    now = clock.advance(minutes=-20)
    ceremony.check_in("ward-1", "  Nguyễn Thị Lan ", 14, " Âm thanh tốt ", now)
    checkin = ceremony.state.points["ward-1"].checkin
    assert (checkin.by, checkin.present, checkin.note, checkin.at) == (
        "Nguyễn Thị Lan",
        14,
        "Âm thanh tốt",
        now,
    )
    assert ceremony.state.points["ward-1"].last_seen_at == now
    assert ceremony.state.points["ward-2"].checkin is None


def test_checking_in_again_replaces_the_earlier_check_in(ceremony, clock):
    ceremony.check_in("ward-1", "Lan", 14, "một", clock())
    later = clock.advance(minutes=3)
    ceremony.check_in("ward-1", "Minh", 0, "", later)
    checkin = ceremony.state.points["ward-1"].checkin
    assert (checkin.by, checkin.present, checkin.note, checkin.at) == ("Minh", 0, "", later)


@pytest.mark.parametrize(
    ("by", "present", "field"), [("", 3, "by"), ("   ", 3, "by"), ("Lan", -1, "present")]
)
def test_a_check_in_without_a_name_or_with_negative_people_is_refused(
    ceremony, clock, by, present, field
):
    error = refused(
        ceremony, InvalidInput, lambda: ceremony.check_in("ward-1", by, present, "", clock())
    )
    assert error.field == field
    assert error.message.startswith(f"{field}:")


def test_a_check_in_for_an_unknown_point_is_refused(ceremony, clock):
    error = refused(ceremony, NotFound, lambda: ceremony.check_in("mars", "Lan", 1, "", clock()))
    assert error.field == "point_id"


def test_reporting_trouble_records_its_kind_text_and_since_when(ceremony, clock):
    ceremony.report_trouble("ward-2", "other", " mất điện ", clock())
    trouble = ceremony.state.points["ward-2"].trouble
    assert (trouble.kind, trouble.text, trouble.since) == ("other", "mất điện", clock())


def test_reporting_the_same_trouble_again_keeps_when_it_began(ceremony, clock):
    ceremony.report_trouble("ward-2", "no_sound", "", clock())
    ceremony.report_trouble("ward-2", "no_sound", "vẫn mất tiếng", clock.advance(minutes=2))
    trouble = ceremony.state.points["ward-2"].trouble
    assert (trouble.text, trouble.since) == ("vẫn mất tiếng", START)


def test_reporting_another_kind_of_trouble_replaces_the_first(ceremony, clock):
    ceremony.report_trouble("ward-2", "no_sound", "", clock())
    later = clock.advance(minutes=2)
    ceremony.report_trouble("ward-2", "no_picture", "", later)
    trouble = ceremony.state.points["ward-2"].trouble
    assert (trouble.kind, trouble.since) == ("no_picture", later)


@pytest.mark.parametrize(
    ("kind", "text", "field"), [("fire", "", "kind"), ("other", "", "text"), ("other", " ", "text")]
)
def test_trouble_of_an_unknown_kind_or_an_undescribed_other_is_refused(
    ceremony, clock, kind, text, field
):
    error = refused(
        ceremony, InvalidInput, lambda: ceremony.report_trouble("ward-2", kind, text, clock())
    )
    assert error.field == field


def test_clearing_trouble_removes_it_and_keeps_the_check_in(ceremony, clock):
    ceremony.check_in("ward-2", "Hùng", 9, "", clock())
    ceremony.report_trouble("ward-2", "no_picture", "", clock())
    ceremony.clear_trouble("ward-2", clock.advance(minutes=1))
    assert ceremony.state.points["ward-2"].trouble is None
    assert ceremony.state.points["ward-2"].checkin.by == "Hùng"


def test_clearing_trouble_a_point_does_not_have_is_refused(ceremony, clock):
    refused(ceremony, Conflict, lambda: ceremony.clear_trouble("ward-2", clock()))


# -- presence ----------------------------------------------------------------------------------


def test_a_point_with_a_page_connected_is_online_and_seen_now(ceremony, clock):
    changed = ceremony.set_presence({"ward-1", "room-a"}, clock())
    assert sorted(changed) == ["room-a", "ward-1"]
    points = ceremony.state.points
    assert points["ward-1"].online and points["room-a"].online and not points["ward-2"].online
    assert points["ward-1"].last_seen_at == clock()
    assert points["ward-2"].last_seen_at is None
    assert ceremony.state.version == 1


def test_a_point_whose_pages_are_gone_goes_offline_and_keeps_its_check_in(ceremony, clock):
    ceremony.set_presence({"ward-1"}, clock())
    ceremony.check_in("ward-1", "Lan", 5, "", clock())
    gone = clock.advance(seconds=30)
    assert ceremony.set_presence(set(), gone) == ["ward-1"]
    status = ceremony.state.points["ward-1"]
    assert (status.online, status.last_seen_at) == (False, gone)
    assert status.checkin.by == "Lan"


def test_presence_ignores_ids_that_are_not_points_of_the_plan(ceremony, clock):
    assert ceremony.set_presence({"mars"}, clock()) == []
    assert ceremony.state.version == 0
    assert "mars" not in ceremony.state.points


# -- messages and roll call ------------------------------------------------------------------


def test_messages_go_to_every_point_or_to_one_with_rising_ids(ceremony, clock):
    first = ceremony.send_message(" Chuẩn bị bắt đầu ", None, clock())
    second = ceremony.send_message("Kiểm tra micro", "ward-2", clock.advance(seconds=5))
    assert (first.id, first.text, first.to, first.sent_at) == (1, "Chuẩn bị bắt đầu", None, START)
    assert (second.id, second.to) == (2, "ward-2")
    assert ceremony.state.messages == [first, second]


def test_an_empty_message_or_one_to_an_unknown_point_is_refused(ceremony, clock):
    empty = refused(ceremony, InvalidInput, lambda: ceremony.send_message(" ", None, clock()))
    assert empty.field == "text"
    error = refused(ceremony, NotFound, lambda: ceremony.send_message("A", "mars", clock()))
    assert error.field == "point_id"


def test_only_the_latest_messages_are_kept_and_ids_keep_rising(ceremony, clock):
    for number in range(MAX_MESSAGES + 5):
        ceremony.send_message(f"tin {number}", None, clock())
    ids = [m.id for m in ceremony.state.messages]
    assert len(ids) == MAX_MESSAGES
    assert ids[0] == 6 and ids[-1] == MAX_MESSAGES + 5


def test_a_point_acknowledges_a_message_meant_for_it(ceremony, clock):
    ceremony.send_message("Chào tất cả", None, clock())
    ceremony.send_message("Chào phường hai", "ward-2", clock())
    read = clock.advance(seconds=10)
    ceremony.acknowledge_message("ward-1", 1, read)
    ceremony.acknowledge_message("ward-2", 2, read)
    assert ceremony.state.messages[0].read_by == {"ward-1": read}
    assert ceremony.state.messages[1].read_by == {"ward-2": read}


def test_acknowledging_twice_keeps_the_first_reading(ceremony, clock):
    ceremony.send_message("Chào", None, clock())
    ceremony.acknowledge_message("ward-1", 1, clock())
    ceremony.acknowledge_message("ward-1", 1, clock.advance(minutes=1))
    assert ceremony.state.messages[0].read_by == {"ward-1": START}


def test_acknowledging_an_unknown_message_or_one_for_another_point_is_refused(ceremony, clock):
    ceremony.send_message("Chào phường hai", "ward-2", clock())
    for message_id in (1, 99):
        error = refused(
            ceremony,
            NotFound,
            lambda m=message_id: ceremony.acknowledge_message("ward-1", m, clock()),
        )
        assert error.field == "message_id"


def test_a_roll_call_closes_after_its_seconds_and_asks_everyone_anew(ceremony, clock):
    first = ceremony.start_roll_call(30, clock())
    assert (first.id, first.started_at, first.closes_at) == (
        1,
        START,
        START + timedelta(seconds=30),
    )
    ceremony.answer_roll_call("ward-1", clock())
    second = ceremony.start_roll_call(60, clock.advance(minutes=1))
    assert second.id == 2 and second.answers == {}
    assert ceremony.state.roll_call is second


def test_a_point_answers_the_open_roll_call_up_to_its_closing_time(ceremony, clock):
    ceremony.start_roll_call(30, clock())
    ceremony.answer_roll_call("ward-1", clock.advance(seconds=10))
    ceremony.answer_roll_call("ward-2", clock.advance(seconds=20))
    assert ceremony.state.roll_call.answers == {
        "ward-1": START + timedelta(seconds=10),
        "ward-2": START + timedelta(seconds=30),
    }


def test_an_answer_after_the_roll_call_closed_is_refused(ceremony, clock):
    ceremony.start_roll_call(30, clock())
    late = clock.advance(seconds=31)
    refused(ceremony, Conflict, lambda: ceremony.answer_roll_call("ward-1", late))


def test_an_answer_without_a_roll_call_is_refused(ceremony, clock):
    refused(ceremony, Conflict, lambda: ceremony.answer_roll_call("ward-1", clock()))


def test_an_answer_from_an_unknown_point_is_refused(ceremony, clock):
    ceremony.start_roll_call(30, clock())
    refused(ceremony, NotFound, lambda: ceremony.answer_roll_call("mars", clock()))


@pytest.mark.parametrize("seconds", [4, 601, 0, -5])
def test_a_roll_call_outside_five_seconds_to_ten_minutes_is_refused(ceremony, clock, seconds):
    error = refused(ceremony, InvalidInput, lambda: ceremony.start_roll_call(seconds, clock()))
    assert error.field == "seconds"


@pytest.mark.parametrize("seconds", [5, 600])
def test_a_roll_call_of_five_seconds_or_ten_minutes_is_accepted(ceremony, clock, seconds):
    roll_call = ceremony.start_roll_call(seconds, clock())
    assert roll_call.closes_at - roll_call.started_at == timedelta(seconds=seconds)


# -- a changed plan -------------------------------------------------------------------------------


def test_adopting_a_plan_drops_records_of_points_that_left_and_adds_new_points(ceremony, clock):
    ceremony.check_in("ward-2", "Hùng", 4, "", clock())
    ceremony.check_in("ward-1", "Lan", 5, "", clock())
    points = (*ceremony.plan.points[:2], Point("ward-3", "Phường Ba", "ward"))
    changed = Ceremony(small_plan(points=points), ceremony.state)
    version = changed.state.version
    changed.adopt_plan(clock())
    assert set(changed.state.points) == {"room-a", "ward-1", "ward-3"}
    assert changed.state.points["ward-1"].checkin.by == "Lan"
    assert changed.state.points["ward-3"].checkin is None
    assert changed.state.version == version + 1


def test_adopting_a_plan_keeps_the_live_item_live_when_it_stays(ceremony, clock):
    ceremony.advance(clock())
    ceremony.advance(clock.advance(minutes=10))
    agenda = (replace(ceremony.plan.agenda[1], planned_minutes=25), ceremony.plan.agenda[2])
    changed = Ceremony(small_plan(agenda=agenda), ceremony.state)
    changed.adopt_plan(clock())
    state = changed.state
    assert (state.phase, state.current_item_id) == ("live", "speech")
    assert "open" not in state.spans
    changed.advance(clock.advance(minutes=1))
    assert state.current_item_id == "close"


def test_adopting_a_plan_without_the_live_item_ends_the_ceremony_if_others_were_shown(
    ceremony, clock
):
    ceremony.advance(clock())
    ceremony.advance(clock.advance(minutes=10))
    agenda = (ceremony.plan.agenda[0], ceremony.plan.agenda[2])
    changed = Ceremony(small_plan(agenda=agenda), ceremony.state)
    now = clock.advance(minutes=1)
    changed.adopt_plan(now)
    state = changed.state
    assert (state.phase, state.current_item_id, state.finished_at) == ("finished", None, now)
    assert set(state.spans) == {"open"}
    changed.goto("close", clock.advance(minutes=1))
    assert state.current_item_id == "close"


def test_adopting_a_plan_without_the_only_item_shown_returns_to_not_started(ceremony, clock):
    ceremony.advance(clock())
    changed = Ceremony(small_plan(agenda=ceremony.plan.agenda[1:]), ceremony.state)
    changed.adopt_plan(clock.advance(minutes=1))
    state = changed.state
    assert (state.phase, state.current_item_id, state.started_at) == ("not_started", None, None)
    assert state.spans == {}
    changed.advance(clock())
    assert state.current_item_id == "speech"
