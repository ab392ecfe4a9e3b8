"""Calendar components of a plan: times, places, texts, and which changes count."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from runsheet.calendar.components import (
    CANCELLED,
    Component,
    plan_components,
)
from runsheet.plans import default_plan

from .calendar_fixtures import moved, with_item_title


def _by_key(plan) -> dict[str, Component]:  # noqa: ANN001
    return {c.key: c for c in plan_components(plan)}


def test_the_ceremony_starts_at_eight_in_ho_chi_minh_which_is_one_utc():
    ceremony = _by_key(default_plan())["ceremony"]
    assert ceremony.timezone == "Asia/Ho_Chi_Minh"
    assert ceremony.start.isoformat() == "2021-10-01T08:00:00+07:00"
    assert ceremony.start.astimezone(UTC) == datetime(2021, 10, 1, 1, 0, tzinfo=UTC)
    assert ceremony.end == ceremony.start + timedelta(minutes=default_plan().planned_minutes)


def test_the_default_plan_gives_one_component_per_point_item_activity_and_deadline():
    kinds = [c.kind for c in plan_components(default_plan())]
    assert kinds.count("ceremony") == 1
    assert kinds.count("point") == 13
    assert kinds.count("item") == 7
    assert kinds.count("activity") == 2
    assert kinds.count("deadline") == 3


def test_the_week_is_all_day_from_the_first_to_the_seventh_of_october():
    components = _by_key(default_plan())
    activity = components["activity:hoat-dong-tuan-le"]
    assert activity.all_day
    assert activity.start == date(2021, 10, 1)
    assert activity.end == date(2021, 10, 8)  # iCalendar's end is exclusive
    assert not activity.busy
    deadlines = sorted(c.start for c in components.values() if c.kind == "deadline")
    assert deadlines == [date(2021, 9, 29), date(2021, 10, 10), date(2021, 10, 15)]


def test_programme_items_follow_one_another_from_the_start():
    components = _by_key(default_plan())
    items = [components[f"item:{i.id}"] for i in default_plan().agenda]
    assert items[0].start == components["ceremony"].start
    for before, after in zip(items, items[1:], strict=False):
        assert before.end == after.start
    assert items[-1].end == components["ceremony"].end


def test_a_point_shows_its_own_place_and_attendee_groups():
    point = _by_key(default_plan())["point:thoi-an"]
    assert point.location == "Ủy ban nhân dân phường Thới An, Phường Thới An, Quận 12"
    assert "Thành phần tham dự tại điểm cầu:" in point.description
    assert "- Bí thư Đoàn phường" in point.description
    assert "Chương trình:" in point.description


def test_the_ceremony_description_holds_the_programme_in_vietnamese():
    description = _by_key(default_plan())["ceremony"].description
    assert "Chủ đề: Chuyển đổi số để xây dựng thành công một xã hội học tập mới" in description
    assert "1. 08:00–08:05  Tuyên bố lý do, giới thiệu đại biểu" in description
    assert "7. 08:55–09:00  Kết thúc Lễ khai mạc" in description


def test_the_reminder_follows_the_plan():
    plan = default_plan()
    plan = replace(plan, event=replace(plan.event, reminder_minutes=30))
    assert _by_key(plan)["ceremony"].reminder == timedelta(minutes=30)


def test_moving_the_start_changes_every_timed_fingerprint_and_no_week_fingerprint():
    before = _by_key(default_plan())
    after = _by_key(moved(default_plan(), 30))
    changed = {key for key in before if before[key].fingerprint() != after[key].fingerprint()}
    timed = {key for key, c in before.items() if not c.all_day}
    assert changed == timed


def test_renaming_an_item_changes_its_fingerprint_but_only_the_content_of_the_others():
    before = _by_key(default_plan())
    after = _by_key(with_item_title(default_plan(), "ket-thuc", "Bế mạc"))
    changed = {key for key in before if before[key].fingerprint() != after[key].fingerprint()}
    assert changed == {"item:ket-thuc"}
    # The ceremony's description lists the programme, so its content did change.
    assert before["ceremony"].content_hash() != after["ceremony"].content_hash()


def test_cancelling_changes_the_status_and_drops_the_reminder():
    item = _by_key(default_plan())["item:ket-thuc"]
    cancelled = item.cancelled()
    assert cancelled.status == CANCELLED
    assert cancelled.reminder is None
    assert cancelled.fingerprint() != item.fingerprint()
    assert cancelled.cancelled() == cancelled


def test_a_component_survives_a_round_trip_through_json():
    for component in plan_components(default_plan()):
        again = Component.from_dict(component.to_dict())
        assert again == component
        assert again.content_hash() == component.content_hash()
