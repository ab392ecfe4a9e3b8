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
    from runsheet.domain.ceremony import Ceremony

    ceremony = Ceremony(plan, state)
    ceremony.set_presence({"p-0", "p-1"}, clock())
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


# -- GET /api/v1/points?group= ---------------------------------------------------------------


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """Return an app with a generated national conference (3,500 points, 34 provinces).

    One for the module: loading 3,500 points takes seconds. Only one test checks in.
    """
    from runsheet.services.ceremony import utc_now
    from runsheet.services.plans import install_plan
    from tests.conftest import make_app

    folder = tmp_path_factory.mktemp("national")
    app = make_app(f"sqlite:///{folder / 'national.sqlite3'}")
    svc = app.extensions["runsheet"]
    install_plan(svc.store, plan_from_dict(national_plan_dict()), svc.secret_key, utc_now())
    return app


def test_a_3500_point_plan_serves_viewers_counts_and_the_mc_every_point(national):
    from tests.conftest import tokens_of

    client = national.test_client()
    viewer = client.get("/api/v1/state").get_json()
    assert "points" not in viewer
    assert len(viewer["groups"]) == 34
    assert sum(g["points"] for g in viewer["groups"]) == 3498  # all but the central rooms
    tokens = tokens_of(national)
    mc = client.get("/api/v1/state", headers={"Authorization": f"Bearer {tokens['mc']}"})
    assert len(mc.get_json()["points"]) == 3500
    point = client.get(
        "/api/v1/state", headers={"Authorization": f"Bearer {tokens['diem-01234']}"}
    ).get_json()
    assert [p["id"] for p in point["points"]] == ["diem-01234"]


def test_a_viewer_fetches_one_groups_points_without_link_health(national):
    client = national.test_client()
    answer = client.get("/api/v1/points", query_string={"group": "Tỉnh 07"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["group"] == "Tỉnh 07"
    assert len(body["points"]) == 103
    assert {p["group"] for p in body["points"]} == {"Tỉnh 07"}
    assert all("link" not in p for p in body["points"])
    assert body["version"] == client.get("/api/v1/state").get_json()["version"]


def test_the_mc_fetches_every_point_with_link_health(national):
    from tests.conftest import tokens_of

    headers = {"Authorization": f"Bearer {tokens_of(national)['mc']}"}
    body = national.test_client().get("/api/v1/points", headers=headers).get_json()
    assert body["group"] is None
    assert len(body["points"]) == 3500
    assert all("link" in p for p in body["points"])


def test_a_check_in_shows_in_its_groups_points_and_counts(national):
    from tests.conftest import Caller, tokens_of

    client = national.test_client()
    Caller(client, tokens_of(national)["diem-00002"]).check_in("diem-00002", by="Anh Tú")
    counts = {g["path"]: g for g in client.get("/api/v1/state").get_json()["groups"]}
    assert counts["Tỉnh 01"]["confirmed"] == 1
    assert counts["Tỉnh 02"]["confirmed"] == 0
    body = client.get("/api/v1/points?group=T%E1%BB%89nh%2001").get_json()
    assert next(p for p in body["points"] if p["id"] == "diem-00002")["checked_in_by"] == "Anh Tú"


def test_an_unknown_or_malformed_group_is_refused_naming_the_field(national):
    client = national.test_client()
    unknown = client.get("/api/v1/points?group=Tỉnh 99")
    assert unknown.status_code == 404
    assert unknown.get_json()["field"] == "group"
    malformed = client.get("/api/v1/points?group=A / / B")
    assert malformed.status_code == 400
    assert malformed.get_json()["field"] == "group"
    assert "empty level" in malformed.get_json()["error"]


def test_a_bad_token_asking_for_points_is_refused(national):
    answer = national.test_client().get("/api/v1/points", headers={"Authorization": "Bearer x"})
    assert answer.status_code == 401
