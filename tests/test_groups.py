"""Grouped points: the plan's ``group`` paths, the state's per-group counts, big plans."""

from __future__ import annotations

import pytest

from bench.national_plan import national_plan_dict
from runsheet.domain.ceremony import new_state
from runsheet.plans import (
    PlanError,
    default_plan,
    dump_plan,
    parse_plan,
    plan_from_dict,
    plan_to_dict,
)
from runsheet.services.snapshot import FULL_POINTS_LIMIT, public_snapshot, snapshot_for
from runsheet.services.tokens import PUBLIC, Actor


def plan_with_groups(*groups: str | None) -> dict:
    """Return the built-in plan's dict with one point per group given."""
    data = plan_to_dict(default_plan())
    data["points"] = [
        {"id": f"p-{n}", "name": f"Điểm {n}", "kind": "ward", **({"group": g} if g else {})}
        for n, g in enumerate(groups)
    ]
    for item in data["agenda"]:
        item.pop("point", None)
    return data


def problems_of(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(PlanError) as caught:
        plan_from_dict(data)
    return [(p.path, p.message) for p in caught.value.problems]


def test_a_group_path_is_tidied_to_one_space_around_each_slash():
    plan = plan_from_dict(plan_with_groups("Tỉnh Lâm Đồng/Xã Đạ Huoai", "Tỉnh Lâm Đồng  /  Xã B"))
    assert [p.group for p in plan.points] == ["Tỉnh Lâm Đồng / Xã Đạ Huoai", "Tỉnh Lâm Đồng / Xã B"]


def test_a_group_of_four_levels_or_with_an_empty_level_is_refused_naming_the_point():
    problems = problems_of(plan_with_groups("A / B / C / D", "A / / B", "  "))
    assert [path for path, _ in problems] == [
        "points[0].group",
        "points[1].group",
        "points[2].group",
    ]
    assert "at most 3 levels" in problems[0][1]
    assert "empty level" in problems[1][1]


def test_groups_survive_the_plan_file_and_the_dict():
    plan = plan_from_dict(plan_with_groups("Tỉnh A / Xã 1", None))
    assert parse_plan(dump_plan(plan)) == plan
    assert plan_to_dict(plan)["points"][0]["group"] == "Tỉnh A / Xã 1"
    assert "group" not in plan_to_dict(plan)["points"][1]


def test_a_plan_lists_each_group_after_its_parent_in_the_order_points_name_them():
    plan = plan_from_dict(plan_with_groups("B / x", "A", "B / y", "B", None, "A / z"))
    assert plan.groups == {
        "B": ("p-0", "p-2", "p-3"),
        "B / x": ("p-0",),
        "B / y": ("p-2",),
        "A": ("p-1", "p-5"),
        "A / z": ("p-5",),
    }


def test_the_state_counts_each_groups_points_online_confirmed_and_in_trouble(clock):
    plan = plan_from_dict(plan_with_groups("Tỉnh A / Xã 1", "Tỉnh A / Xã 2", "Tỉnh B", None))
    state = new_state(plan)
    state.points["p-0"].online = True
    state.points["p-1"].online = True
    from runsheet.domain.ceremony import Ceremony

    ceremony = Ceremony(plan, state)
    ceremony.check_in("p-1", "Chị Hoa", 3, "", clock())
    ceremony.report_trouble("p-0", "no_sound", "", clock())
    groups = public_snapshot(plan, state, clock())["groups"]
    assert groups == [
        {"path": "Tỉnh A", "points": 2, "online": 2, "confirmed": 1, "trouble": 1},
        {"path": "Tỉnh A / Xã 1", "points": 1, "online": 1, "confirmed": 0, "trouble": 1},
        {"path": "Tỉnh A / Xã 2", "points": 1, "online": 1, "confirmed": 1, "trouble": 0},
        {"path": "Tỉnh B", "points": 1, "online": 0, "confirmed": 0, "trouble": 0},
    ]


def test_the_built_in_plan_has_no_groups_and_every_role_sees_every_point(plan, clock):
    state = new_state(plan)
    for actor in (PUBLIC, Actor("mc"), Actor("point", "thanh-loc")):
        seen = snapshot_for(actor, plan, state, clock())
        assert seen["groups"] == []
        assert [p["id"] for p in seen["points"]] == [p.id for p in plan.points]
        assert all("group" not in p for p in seen["points"])


def test_above_200_points_a_viewer_gets_counts_a_point_itself_and_the_mc_everyone(clock):
    plan = plan_from_dict(national_plan_dict(FULL_POINTS_LIMIT + 1, groups=3))
    state = new_state(plan)
    viewer = snapshot_for(PUBLIC, plan, state, clock())
    assert "points" not in viewer
    assert [g["points"] for g in viewer["groups"]] == [67, 66, 66]
    own = snapshot_for(Actor("point", "diem-00007"), plan, state, clock())
    assert [p["id"] for p in own["points"]] == ["diem-00007"]
    assert own["points"][0]["group"] == "Tỉnh 03"
    assert "link" in own["points"][0]
    mc = snapshot_for(Actor("mc"), plan, state, clock())
    assert len(mc["points"]) == FULL_POINTS_LIMIT + 1
    assert snapshot_for(Actor("organizer"), plan, state, clock()) == mc


def test_at_200_points_every_role_still_sees_every_point(clock):
    plan = plan_from_dict(national_plan_dict(FULL_POINTS_LIMIT, groups=3))
    seen = snapshot_for(PUBLIC, plan, new_state(plan), clock())
    assert len(seen["points"]) == FULL_POINTS_LIMIT
