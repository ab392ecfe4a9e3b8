"""Editing the plan over HTTP: its revision, saving, stale and invalid edits, live editing.

``GET /api/v1/plan`` gives the plan with its revision; ``PUT /api/v1/plan`` (organizer)
saves an edit made from that revision; ``POST /api/v1/plan/check`` checks one. While the
ceremony runs, the past stays as it happened (``domain.plan_edits``).
"""

from __future__ import annotations

import copy
import threading

import pytest

from runsheet.calendar.sequences import load_revisions
from runsheet.domain.ceremony import Ceremony, new_state
from runsheet.domain.plan_edits import live_edit_refusals
from runsheet.i18n import catalog
from runsheet.plans import PlanError, default_plan, plan_from_dict, plan_to_dict
from runsheet.plans.messages import problem_message

from .conftest import Caller, make_app, tokens_of


def read_plan(caller: Caller) -> tuple[dict, int]:
    """Return the plan as ``caller`` reads it, and its revision."""
    body = caller.client.get("/api/v1/plan", headers=caller.headers).get_json()
    return body, body.pop("revision")


def put_plan(caller: Caller, plan: dict, revision: int | None, query: str = ""):  # noqa: ANN201
    body = dict(plan) if revision is None else {**plan, "expected_revision": revision}
    return caller.client.put(f"/api/v1/plan{query}", json=body, headers=caller.headers)


# -- reading -----------------------------------------------------------------------------------


def test_the_plan_comes_with_revision_1_as_loaded(anonymous):
    plan, revision = read_plan(anonymous)
    assert revision == 1
    assert plan == _public(plan_to_dict(default_plan()))


def test_only_the_organizer_sees_peoples_e_mail_addresses(organizer, mc, ward, anonymous):
    plan, revision = read_plan(organizer)
    plan["event"]["organizer_email"] = "bantochuc@example.org"
    plan["points"][0]["contact_email"] = "phonghop@example.org"
    assert put_plan(organizer, plan, revision).status_code == 200

    assert read_plan(organizer)[0] == plan
    for caller in (mc, ward, anonymous):
        seen, _ = read_plan(caller)
        assert seen == _public(plan)
        assert "example.org" not in str(seen)


def _public(plan: dict) -> dict:
    plan = copy.deepcopy(plan)
    plan["event"].pop("organizer_email", None)
    for point in plan["points"]:
        point.pop("contact_email", None)
    return plan


# -- saving ------------------------------------------------------------------------------------


def test_a_saved_edit_makes_one_new_revision_and_the_state_shows_it(organizer, anonymous):
    plan, revision = read_plan(organizer)
    plan["agenda"][1]["title"] = "Tuyên bố lý do (sửa)"
    plan["agenda"][2]["planned_minutes"] += 5

    response = put_plan(organizer, plan, revision)

    assert response.status_code == 200
    body = response.get_json()
    assert body["revision"] == revision + 1
    assert body["agenda"][1]["title"] == "Tuyên bố lý do (sửa)"
    assert body["agenda"][2]["planned_minutes"] == plan["agenda"][2]["planned_minutes"]
    assert anonymous.state()["agenda"][1]["title"] == "Tuyên bố lý do (sửa)"
    assert read_plan(organizer) == (plan, revision + 1)


def test_the_expected_revision_may_come_in_the_url(organizer):
    plan, revision = read_plan(organizer)
    plan["slogans"] = ["Một khẩu hiệu"]
    response = put_plan(organizer, plan, None, f"?expected_revision={revision}")
    assert response.status_code == 200
    assert response.get_json()["slogans"] == ["Một khẩu hiệu"]


@pytest.mark.parametrize(
    ("body_revision", "query"),
    [(None, ""), ("one", ""), (0, ""), (True, ""), (1, "?expected_revision=2")],
)
def test_an_edit_without_a_clear_revision_is_refused_and_changes_nothing(
    organizer, body_revision, query
):
    plan, _ = read_plan(organizer)
    plan["agenda"][0]["title"] = "Khác"
    response = put_plan(organizer, plan, body_revision, query)
    assert response.status_code == 400
    assert response.get_json()["field"] == "expected_revision"
    assert read_plan(organizer)[1] == 1


def test_an_edit_from_an_older_revision_is_refused_with_the_current_one(organizer):
    plan, revision = read_plan(organizer)
    first = copy.deepcopy(plan)
    first["agenda"][0]["title"] = "Người thứ nhất"
    second = copy.deepcopy(plan)
    second["agenda"][0]["title"] = "Người thứ hai"
    assert put_plan(organizer, first, revision).status_code == 200

    response = put_plan(organizer, second, revision)

    assert response.status_code == 409
    assert response.get_json()["kind"] == "stale_plan"
    assert response.get_json()["revision"] == revision + 1
    assert read_plan(organizer)[0]["agenda"][0]["title"] == "Người thứ nhất"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_database_url(request, tmp_path):
    """Return a fresh database URL on SQLite, then on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'editing.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def test_two_organizers_saving_from_one_revision_at_once_make_one_winner(any_database_url, clock):
    app = make_app(any_database_url, clock)
    token = tokens_of(app)["organizer"]
    plan, revision = read_plan(Caller(app.test_client(), token))
    answers: list[int] = []
    start = threading.Barrier(4)

    def save(title: str) -> None:
        edited = copy.deepcopy(plan)
        edited["agenda"][0]["title"] = title
        start.wait()
        answers.append(put_plan(Caller(app.test_client(), token), edited, revision).status_code)

    threads = [threading.Thread(target=save, args=(f"Bản {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [200, 409, 409, 409]
    assert read_plan(Caller(app.test_client(), token))[1] == revision + 1


def test_an_invalid_plan_is_refused_with_every_problem_and_its_path(organizer):
    plan, revision = read_plan(organizer)
    plan["agenda"][2]["planned_minutes"] = 0
    plan["agenda"][3]["title"] = ""
    plan["agenda"][4]["point"] = "khong-co"

    response = put_plan(organizer, plan, revision, "?lang=en")

    assert response.status_code == 422
    body = response.get_json()
    assert body["kind"] == "invalid_plan"
    assert [(p["path"], p["message"]) for p in body["problems"]] == [
        ("agenda[2].planned_minutes", "must be a whole number of minutes above 0"),
        ("agenda[3].title", "must not be empty"),
        ("agenda[4].point", "names the point 'khong-co', but no point has that id"),
    ]
    assert read_plan(organizer) == (read_plan(organizer)[0], revision)
    assert organizer.state()["agenda"][2]["planned_minutes"] > 0


def test_problems_are_told_in_vietnamese_by_the_query_or_the_language_cookie(client, organizer):
    plan, revision = read_plan(organizer)
    plan["agenda"][2]["planned_minutes"] = 0
    vietnamese = catalog("vi")["plan.problem.minutes_not_positive"]

    asked = put_plan(organizer, plan, revision, "?lang=vi").get_json()["problems"]
    client.set_cookie("runsheet_lang", "vi")
    by_cookie = put_plan(organizer, plan, revision).get_json()["problems"]

    assert asked[0]["message"] == vietnamese
    assert by_cookie[0]["message"] == vietnamese
    assert asked[0]["code"] == "minutes_not_positive"


def test_the_mc_a_point_and_the_public_may_not_edit(mc, ward, anonymous, organizer):
    plan, revision = read_plan(organizer)
    plan["agenda"][0]["title"] = "Không được"
    assert put_plan(mc, plan, revision).status_code == 403
    assert put_plan(ward, plan, revision).status_code == 403
    assert put_plan(anonymous, plan, revision).status_code == 401
    for caller, status in ((mc, 403), (ward, 403), (anonymous, 401)):
        answer = caller.client.post("/api/v1/plan/check", json=plan, headers=caller.headers)
        assert answer.status_code == status
    assert read_plan(organizer) == (read_plan(organizer)[0], revision)
    assert read_plan(organizer)[0]["agenda"][0]["title"] != "Không được"


def test_a_body_that_is_no_plan_is_refused_clearly(organizer, client, tokens):
    headers = organizer.headers
    not_json = client.put(
        "/api/v1/plan", data=b"{", content_type="application/json", headers=headers
    )
    assert not_json.status_code == 400
    text = client.put("/api/v1/plan", data=b"x", content_type="text/plain", headers=headers)
    assert text.status_code == 415
    assert text.get_json()["kind"] == "unsupported_media_type"
    huge = client.put(
        "/api/v1/plan",
        data=b" " * (9 * 1024 * 1024),
        content_type="application/json",
        headers=headers,
    )
    assert huge.status_code == 413


def test_a_plan_larger_than_other_bodies_may_be_saved(organizer):
    plan, revision = read_plan(organizer)
    plan["points"] += [
        {"id": f"diem-{n}", "name": f"Điểm cầu số {n} " + "x" * 40, "kind": "ward"}
        for n in range(1500)
    ]
    response = put_plan(organizer, plan, revision)
    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()["points"]) == len(plan["points"])


def test_a_point_added_by_an_edit_gets_a_working_link(app, organizer, client):
    plan, revision = read_plan(organizer)
    plan["points"].append({"id": "diem-moi", "name": "Điểm cầu mới", "kind": "ward"})
    assert put_plan(organizer, plan, revision).status_code == 200
    token = tokens_of(app)["diem-moi"]
    new_point = Caller(client, token)
    assert new_point.check_in("diem-moi").status_code == 200


def test_the_check_answers_ok_or_every_problem_without_saving(organizer):
    plan, revision = read_plan(organizer)
    check = lambda body: organizer.client.post(  # noqa: E731
        "/api/v1/plan/check?lang=en", json=body, headers=organizer.headers
    )
    assert check(plan).get_json() == {"ok": True, "problems": []}
    plan["event"]["timezone"] = "Mars/Olympus"
    answer = check(plan)
    assert answer.status_code == 422
    assert answer.get_json()["problems"][0]["path"] == "event.timezone"
    assert read_plan(organizer)[1] == revision


def test_the_event_id_cannot_change_by_an_edit(organizer):
    plan, revision = read_plan(organizer)
    plan["event"]["slug"] = "su-kien-khac"
    response = put_plan(organizer, plan, revision)
    assert response.status_code == 422
    assert response.get_json()["problems"][0]["path"] == "event.slug"


# -- the calendar --------------------------------------------------------------------------------


def test_a_title_change_raises_the_sequence_of_that_item_alone(app, organizer):
    svc = app.extensions["runsheet"]
    event_id = svc.ceremony.current().event_id
    before = {k: r.sequence for k, r in load_revisions(svc.store, event_id).items()}
    plan, revision = read_plan(organizer)
    changed = plan["agenda"][3]["id"]
    plan["agenda"][3]["title"] = "Tiêu đề mới"

    assert put_plan(organizer, plan, revision).status_code == 200

    after = {k: r.sequence for k, r in load_revisions(svc.store, event_id).items()}
    raised = {key for key in after if after[key] != before.get(key)}
    assert raised == {f"item:{changed}"}
    assert after[f"item:{changed}"] == before[f"item:{changed}"] + 1


def test_more_minutes_for_one_item_raise_the_sequences_of_the_items_it_moves(app, organizer):
    svc = app.extensions["runsheet"]
    event_id = svc.ceremony.current().event_id
    before = {k: r.sequence for k, r in load_revisions(svc.store, event_id).items()}
    plan, revision = read_plan(organizer)
    plan["agenda"][-2]["planned_minutes"] += 10  # the last item and the ceremony's end move

    assert put_plan(organizer, plan, revision).status_code == 200

    after = {k: r.sequence for k, r in load_revisions(svc.store, event_id).items()}
    raised = {key for key in after if after[key] != before.get(key)}
    last_two = {f"item:{item['id']}" for item in plan["agenda"][-2:]}
    assert last_two <= raised
    assert not {f"item:{item['id']}" for item in plan["agenda"][:-2]} & raised
    assert not {key for key in raised if key.startswith(("activity:", "deadline:"))}


# -- editing while the ceremony runs ---------------------------------------------------------


def _running(done: int) -> tuple:
    """Return the built-in plan and a state with ``done`` items done and the next one live."""
    plan = default_plan()
    state = new_state(plan)
    ceremony = Ceremony(plan, state)
    moment = plan.event.starts_at
    from datetime import timedelta

    for _ in range(done + 1):
        ceremony.advance(moment)
        moment += timedelta(minutes=3)
    return plan, state


def _edited(plan, change) -> object:  # noqa: ANN001
    data = plan_to_dict(plan)
    change(data["agenda"])
    return plan_from_dict(data)


def test_items_still_to_come_may_be_added_removed_reordered_and_lengthened():
    plan, state = _running(done=2)

    def change(agenda: list) -> None:
        agenda[2]["planned_minutes"] += 5  # the live item
        agenda.insert(3, {"id": "tiet-muc-moi", "title": "Tiết mục mới", "planned_minutes": 4})
        agenda[5], agenda[6] = agenda[6], agenda[5]
        del agenda[-2]

    assert live_edit_refusals(plan, _edited(plan, change), state) == []


@pytest.mark.parametrize(
    ("change", "path", "code"),
    [
        (lambda a: a.pop(1), "agenda", "done_item_removed"),
        (lambda a: a.pop(2), "agenda", "live_item_removed"),
        (
            lambda a: a.insert(0, {"id": "x", "title": "X", "planned_minutes": 1}),
            "agenda[0].id",
            "passed_item_moved",
        ),
        (lambda a: a.insert(5, a.pop(0)), "agenda[0].id", "passed_item_moved"),
        (
            lambda a: a[0].update(planned_minutes=a[0]["planned_minutes"] + 1),
            "agenda[0].planned_minutes",
            "done_item_minutes",
        ),
    ],
)
def test_rewriting_what_is_done_or_live_is_refused_naming_the_path(change, path, code):
    plan, state = _running(done=2)
    refusals = live_edit_refusals(plan, _edited(plan, change), state)
    assert (refusals[0].path, refusals[0].code) == (path, code)


def test_a_done_item_after_the_live_one_keeps_its_order_among_the_done():
    plan, state = _running(done=4)
    Ceremony(plan, state).goto(plan.agenda[1].id, plan.event.starts_at.replace(hour=9))
    # items 0-4 were live; item 1 is live again; 2, 3, 4 are done after it

    def swap(agenda: list) -> None:
        agenda[3], agenda[4] = agenda[4], agenda[3]

    refusals = live_edit_refusals(plan, _edited(plan, swap), state)
    assert [r.code for r in refusals] == ["done_item_moved"]


def test_a_live_edit_over_http_keeps_the_live_item_its_start_and_its_timing(organizer, mc, clock):
    mc.advance()
    clock.advance(minutes=2)
    mc.advance()
    live = mc.state()
    plan, revision = read_plan(organizer)
    plan["agenda"][1]["planned_minutes"] += 3  # the live item
    plan["agenda"].insert(2, {"id": "chen-them", "title": "Chèn thêm", "planned_minutes": 2})
    clock.advance(seconds=30)

    response = put_plan(organizer, plan, revision)

    assert response.status_code == 200
    after = response.get_json()
    assert after["current_item_id"] == live["current_item_id"]
    assert after["agenda"][1]["started_at"] == live["agenda"][1]["started_at"]
    assert after["timing"]["item_elapsed_seconds"] == 30
    assert after["timing"]["item_planned_seconds"] == live["timing"]["item_planned_seconds"] + 180
    assert after["agenda"][2]["id"] == "chen-them"


def test_a_live_edit_removing_a_done_item_is_refused_over_http(organizer, mc):
    mc.advance()
    mc.advance()
    plan, revision = read_plan(organizer)
    del plan["agenda"][0]
    response = put_plan(organizer, plan, revision, "?lang=vi")
    assert response.status_code == 422
    problem, *others = response.get_json()["problems"]
    assert problem["path"] == "agenda"
    assert problem["code"] == "done_item_removed"
    assert default_plan().agenda[0].id in problem["message"]
    assert [p["code"] for p in others] == ["passed_item_moved"]
    assert mc.state()["agenda"][0]["id"] == default_plan().agenda[0].id


# -- messages ----------------------------------------------------------------------------------


def test_the_english_catalog_says_exactly_what_the_loader_says():
    data = plan_to_dict(default_plan())
    data["event"]["timezone"] = "Nowhere/City"
    data["event"]["titel"] = "x"
    data["agenda"][0]["planned_minutes"] = "ten"
    data["agenda"][1]["title"] = 5
    data["agenda"][2]["id"] = data["agenda"][3]["id"]
    data["points"][0]["attendees"] = "everyone"
    data["activities"][0]["starts_on"] = "2021-02-30"
    with pytest.raises(PlanError) as raised:
        plan_from_dict(data)
    problems = raised.value.problems
    assert len(problems) >= 7
    en = catalog("en")
    for problem in problems:
        assert problem.code, problem
        template = en[f"plan.problem.{problem.code}"]
        from runsheet.plans.messages import catalog_values

        values = catalog_values(problem.params, "en")
        assert template.format_map(values) == problem.message
        assert problem_message(problem, "vi") != problem.message
