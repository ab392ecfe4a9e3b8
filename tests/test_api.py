"""The HTTP JSON API through Flask's test client: every status code, and never a 500.

Every refused request is checked to leave the state exactly as it was: the clock is
frozen, so the public state read before and after must be identical, version included.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from .conftest import POINT_IDS, Caller, FrozenClock, make_app, tokens_of

FIRST, SECOND, LAST = "tuyen-bo-ly-do", "dien-van-khai-mac", "ket-thuc"


def public_state(client) -> dict:  # noqa: ANN001
    """Return the state as anyone sees it."""
    response = client.get("/api/v1/state")
    assert response.status_code == 200
    return response.get_json()


def refused(client, send, status: int, field: str | None = None) -> dict:  # noqa: ANN001
    """Send a request that must be refused with ``status``; return its JSON body.

    The body must be a JSON error (naming ``field`` when given), and the state must be
    exactly what it was before the request.
    """
    before = public_state(client)
    response = send()
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert isinstance(body["error"], str) and body["error"]
    if field is not None:
        assert body["field"] == field
        if status == 400:  # a malformed payload's sentence starts with the field's name
            assert body["error"].startswith(f"{field}: ")
    after = public_state(client)
    assert after["version"] == before["version"]
    assert after == before
    return body


def item(state: dict, item_id: str) -> dict:
    """Return one programme item of a state."""
    return next(i for i in state["agenda"] if i["id"] == item_id)


def point(state: dict, point_id: str) -> dict:
    """Return one point of a state."""
    return next(p for p in state["points"] if p["id"] == point_id)


@pytest.fixture
def neighbour(client, tokens) -> Caller:
    """Return the technician of another ward point, An Phú Đông."""
    return Caller(client, tokens["an-phu-dong"])


# -- 200: the actions ---------------------------------------------------------------------


def test_advancing_answers_with_the_new_state(mc, anonymous, clock):
    before = anonymous.state()["version"]
    response = mc.advance()
    assert response.status_code == 200
    state = response.get_json()
    assert state["version"] == before + 1
    assert state["current_item_id"] == FIRST
    assert item(state, FIRST)["status"] == "live"
    assert item(state, FIRST)["started_at"] == "2021-10-01T08:00:00+07:00"
    assert item(state, SECOND)["status"] == "pending"
    assert anonymous.state()["current_item_id"] == FIRST


def test_moments_are_told_to_the_millisecond_and_durations_too(mc, anonymous, clock):
    clock.advance(seconds=3.1234567)
    state = mc.advance().get_json()

    assert item(state, FIRST)["started_at"] == "2021-10-01T08:00:03.123+07:00"
    assert state["server_time"] == "2021-10-01T08:00:03.123+07:00"
    clock.advance(seconds=56.8769433)  # 0.4 ms past a whole second: told without a fraction
    state = anonymous.state()
    assert state["server_time"] == "2021-10-01T08:01:00+07:00"
    timing = state["timing"]
    assert timing["item_elapsed_seconds"] == 56.877
    assert timing["item_planned_seconds"] == 300 and isinstance(timing["item_planned_seconds"], int)
    seconds = [value for value in timing.values() if isinstance(value, float)]
    assert all(value == round(value, 3) for value in seconds)
    assert item(state, FIRST)["extended_seconds"] == 0


def test_advancing_with_the_current_version_is_accepted(mc):
    version = mc.state()["version"]
    response = mc.advance(expected_version=version)
    assert response.status_code == 200
    assert response.get_json()["version"] == version + 1


def test_advancing_again_ends_the_first_item_when_the_second_starts(mc, clock):
    mc.advance()
    clock.advance(minutes=6)
    state = mc.advance().get_json()
    assert state["current_item_id"] == SECOND
    assert item(state, FIRST)["status"] == "done"
    assert item(state, FIRST)["ended_at"] == "2021-10-01T08:06:00+07:00"
    assert item(state, SECOND)["started_at"] == "2021-10-01T08:06:00+07:00"


def test_the_history_lists_every_span_in_order_with_actual_times(mc, anonymous, clock):
    mc.advance()
    clock.advance(minutes=6)
    mc.advance()
    clock.advance(minutes=2)
    mc.back()  # the first item again
    clock.advance(minutes=1)
    response = anonymous.client.get("/api/v1/history")
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == mc.state()["version"]
    assert [(s["item_id"], s["started_at"], s["ended_at"]) for s in body["spans"]] == [
        (FIRST, "2021-10-01T08:00:00+07:00", "2021-10-01T08:06:00+07:00"),
        (SECOND, "2021-10-01T08:06:00+07:00", "2021-10-01T08:08:00+07:00"),
        (FIRST, "2021-10-01T08:08:00+07:00", None),
    ]
    assert [s["seconds"] for s in body["spans"]] == [360, 120, 60]  # the open one until now
    items = {i["id"]: i for i in body["items"]}
    assert len(items) == 7
    assert items[FIRST] == {
        "id": FIRST,
        "planned_seconds": 300,
        "actual_seconds": 420,
        "times_shown": 2,
    }
    assert items[LAST]["times_shown"] == 0 and items[LAST]["actual_seconds"] == 0


def test_the_state_keeps_its_size_however_often_the_mc_goes_back_and_forth(mc):
    mc.goto(SECOND)
    first = mc.state()
    for target in [FIRST, SECOND, LAST, SECOND] * 10:
        mc.goto(target)
    last = mc.state()
    assert last["version"] == first["version"] + 40
    size = len(json.dumps(last["agenda"]))
    assert size - len(json.dumps(first["agenda"])) < 200  # times change, nothing piles up


def test_going_back_answers_with_the_previous_item_live(mc, clock):
    mc.advance()
    mc.advance()
    response = mc.back()
    assert response.status_code == 200
    assert response.get_json()["current_item_id"] == FIRST


def test_going_to_an_item_answers_with_it_live_and_the_items_passed_over_skipped(mc):
    response = mc.goto(LAST)
    assert response.status_code == 200
    state = response.get_json()
    assert state["current_item_id"] == LAST
    assert [i["status"] for i in state["agenda"]] == ["skipped"] * 6 + ["live"]


def test_finishing_answers_with_the_ceremony_ended(mc, clock):
    mc.advance()
    clock.advance(minutes=3)
    response = mc.finish()
    assert response.status_code == 200
    state = response.get_json()
    assert (state["phase"], state["current_item_id"]) == ("finished", None)
    assert state["finished_at"] == "2021-10-01T08:03:00+07:00"
    assert item(state, FIRST)["status"] == "done"


def test_resetting_answers_with_a_ceremony_that_has_not_started(mc):
    mc.advance()
    response = mc.post("/reset", {})
    assert response.status_code == 200
    state = response.get_json()
    assert (state["phase"], state["current_item_id"]) == ("not_started", None)
    assert all(i["status"] == "pending" for i in state["agenda"])


def test_a_point_checking_in_answers_with_its_check_in(ward, anonymous, clock):
    response = ward.check_in("thoi-an", by="Trần Văn Bình", present=9, note="Âm thanh tốt")
    assert response.status_code == 200
    mine = point(response.get_json(), "thoi-an")
    assert mine["checked_in_by"] == "Trần Văn Bình"
    assert mine["checked_in_at"] == "2021-10-01T08:00:00+07:00"
    assert (mine["present"], mine["note"]) == (9, "Âm thanh tốt")
    assert point(anonymous.state(), "thoi-an")["checked_in_by"] == "Trần Văn Bình"


def test_the_mc_may_confirm_a_points_connection(mc):
    response = mc.check_in("hiep-thanh", by="MC thay mặt")
    assert response.status_code == 200
    assert point(response.get_json(), "hiep-thanh")["checked_in_by"] == "MC thay mặt"


def test_a_point_reporting_trouble_answers_with_its_trouble(ward, clock):
    response = ward.post("/points/thoi-an/trouble", {"kind": "other", "text": "Mất điện"})
    assert response.status_code == 200
    trouble = point(response.get_json(), "thoi-an")["trouble"]
    assert trouble == {"kind": "other", "text": "Mất điện", "since": "2021-10-01T08:00:00+07:00"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/points/thoi-an/trouble/clear", None),
        ("delete", "/api/v1/points/thoi-an/trouble", None),
        ("post", "/api/v1/points/thoi-an/trouble", {"clear": True}),
    ],
)
def test_a_point_clearing_its_trouble_answers_without_it(ward, client, method, path, body):
    ward.post("/points/thoi-an/trouble", {"kind": "no_sound"})
    response = getattr(client, method)(path, json=body, headers=ward.headers)
    assert response.status_code == 200
    assert point(response.get_json(), "thoi-an")["trouble"] is None


def test_a_message_reaches_the_mc_and_its_point_but_not_others(mc, ward, neighbour, anonymous):
    response = mc.post("/messages", {"text": "Kiểm tra micro", "to": "thoi-an"})
    assert response.status_code == 200
    sent = response.get_json()["messages"]
    assert [(m["id"], m["text"], m["to"]) for m in sent] == [(1, "Kiểm tra micro", "thoi-an")]
    assert [m["text"] for m in ward.state()["messages"]] == ["Kiểm tra micro"]
    assert neighbour.state()["messages"] == []
    assert "messages" not in anonymous.state()


def test_a_message_to_everyone_reaches_every_point(mc, ward, neighbour):
    mc.post("/messages", {"text": "Chuẩn bị bắt đầu"})
    assert [m["text"] for m in ward.state()["messages"]] == ["Chuẩn bị bắt đầu"]
    assert [m["text"] for m in neighbour.state()["messages"]] == ["Chuẩn bị bắt đầu"]


def test_a_point_acknowledging_a_message_is_recorded(mc, ward, clock):
    mc.post("/messages", {"text": "Chuẩn bị"})
    clock.advance(seconds=20)
    response = ward.post("/messages/1/ack")
    assert response.status_code == 200
    assert response.get_json()["messages"][0]["read_by"] == {"thoi-an": "2021-10-01T08:00:20+07:00"}


def test_a_roll_call_is_started_by_the_mc_and_answered_by_a_point(mc, ward, neighbour, clock):
    response = mc.post("/roll-call", {"seconds": 30})
    assert response.status_code == 200
    roll_call = response.get_json()["roll_call"]
    assert roll_call["closes_at"] == "2021-10-01T08:00:30+07:00"
    assert roll_call["answers"] == {}
    clock.advance(seconds=10)
    response = ward.post("/roll-call")
    assert response.status_code == 200
    assert response.get_json()["roll_call"]["answers"] == {"thoi-an": "2021-10-01T08:00:10+07:00"}
    clock.advance(seconds=21)
    refused(ward.client, lambda: neighbour.post("/roll-call"), 409)


# -- 400: malformed payloads -----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{", b"{'expected_version': 1}", b"\xff\xfe", b"[" * 40_000, b"null", b"{}{}"],
    ids=["unclosed", "single-quotes", "not-utf8", "deeply-nested", "null", "two-objects"],
)
def test_a_body_that_is_not_json_is_refused(client, mc, body):
    send = lambda: client.post("/api/v1/advance", data=body, headers=mc.headers)  # noqa: E731
    assert "JSON" in refused(client, send, 400)["error"]


@pytest.mark.parametrize("body", [[1], "advance", 5, True])
def test_a_json_body_that_is_not_an_object_is_refused(client, mc, body):
    assert "JSON object" in refused(client, lambda: mc.post("/advance", body), 400)["error"]


@pytest.mark.parametrize(
    ("who", "path", "body", "field"),
    [
        ("mc", "/advance", {"expected_version": "3"}, "expected_version"),
        ("mc", "/advance", {"expected_version": 2.5}, "expected_version"),
        ("mc", "/advance", {"expected_version": True}, "expected_version"),
        ("mc", "/advance", {"expected_version": -1}, "expected_version"),
        ("mc", f"/goto/{LAST}", {"expected_version": [1]}, "expected_version"),
        ("thoi-an", "/points/thoi-an/checkin", {"by": 5}, "by"),
        ("thoi-an", "/points/thoi-an/checkin", {"by": "A", "present": "many"}, "present"),
        ("thoi-an", "/points/thoi-an/checkin", {"by": "A", "present": -3}, "present"),
        ("thoi-an", "/points/thoi-an/checkin", {"by": "A", "note": ["x"]}, "note"),
        ("thoi-an", "/points/thoi-an/checkin", {"by": "A", "note": "n" * 501}, "note"),
        ("thoi-an", "/points/thoi-an/checkin", {"by": " "}, "by"),
        ("thoi-an", "/points/thoi-an/trouble", {"kind": 1}, "kind"),
        ("thoi-an", "/points/thoi-an/trouble", {"kind": "fire"}, "kind"),
        ("thoi-an", "/points/thoi-an/trouble", {"kind": "other"}, "text"),
        ("thoi-an", "/points/thoi-an/trouble", {"clear": "yes"}, "clear"),
        ("mc", "/messages", {"text": 1}, "text"),
        ("mc", "/messages", {"text": "  "}, "text"),
        ("mc", "/roll-call", {"seconds": "30"}, "seconds"),
        ("mc", "/roll-call", {"seconds": 3}, "seconds"),
    ],
)
def test_a_field_of_the_wrong_type_or_range_is_refused_by_name(
    client, tokens, who, path, body, field
):
    caller = Caller(client, tokens[who])
    refused(client, lambda: caller.post(path, body), 400, field)


@pytest.mark.parametrize(
    ("who", "path", "body", "field"),
    [
        ("mc", "/advance", {"expected_versoin": 1}, "expected_versoin"),
        ("mc", "/back", {"force": True}, "force"),
        ("thoi-an", "/points/thoi-an/checkin", {"by": "A", "people": 3}, "people"),
        ("mc", "/messages", {"text": "A", "html": "<b>"}, "html"),
    ],
)
def test_an_unknown_field_is_refused_by_name(client, tokens, who, path, body, field):
    caller = Caller(client, tokens[who])
    refused(client, lambda: caller.post(path, body), 400, field)


@pytest.mark.parametrize(
    ("who", "path", "body", "field"),
    [
        ("thoi-an", "/points/thoi-an/checkin", {}, "by"),
        ("thoi-an", "/points/thoi-an/checkin", {"present": 3, "note": "x"}, "by"),
        ("thoi-an", "/points/thoi-an/trouble", {"text": "x"}, "kind"),
        ("mc", "/messages", {"to": "thoi-an"}, "text"),
    ],
)
def test_a_missing_field_is_refused_by_name(client, tokens, who, path, body, field):
    caller = Caller(client, tokens[who])
    refused(client, lambda: caller.post(path, body), 400, field)


def test_an_id_in_the_body_that_contradicts_the_url_is_refused(client, mc, ward):
    refused(client, lambda: mc.post(f"/goto/{LAST}", {"item_id": FIRST}), 400, "item_id")
    send = lambda: ward.post("/points/thoi-an/checkin", {"by": "A", "point_id": "an-phu-dong"})  # noqa: E731
    refused(client, send, 400, "point_id")
    mc.post("/messages", {"text": "Chào"})
    refused(client, lambda: ward.post("/messages/1/ack", {"message_id": 2}), 400, "message_id")


# -- 401: no token, or a token nobody holds --------------------------------------------------

ACTION_REQUESTS = [
    ("/advance", {}),
    ("/back", {}),
    (f"/goto/{LAST}", {}),
    ("/finish", {}),
    ("/reset", {}),
    ("/points/thoi-an/checkin", {"by": "A"}),
    ("/points/thoi-an/trouble", {"kind": "no_sound"}),
    ("/points/thoi-an/trouble/clear", {}),
    ("/messages", {"text": "A"}),
    ("/messages/1/ack", {}),
    ("/roll-call", {}),
]


@pytest.mark.parametrize(("path", "body"), ACTION_REQUESTS)
def test_an_action_without_a_token_is_refused(client, anonymous, path, body):
    refused(client, lambda: anonymous.post(path, body), 401)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-real-token",
        "Bearer " + "x" * 5000,
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer",
        "Bearer    ",
        "",
    ],
    ids=["unknown", "huge", "basic", "token-scheme", "no-token", "blank-token", "empty"],
)
def test_an_unknown_token_or_a_bad_authorization_header_is_refused(client, header):
    send = lambda: client.post("/api/v1/advance", json={}, headers={"Authorization": header})  # noqa: E731
    refused(client, send, 401)


@pytest.mark.parametrize("header", ["{token}", "Basic {token}", "Token {token}", "Bearer: {token}"])
def test_the_mc_token_under_another_scheme_than_bearer_is_refused(client, tokens, header):
    headers = {"Authorization": header.format(token=tokens["mc"])}
    send = lambda: client.post("/api/v1/advance", json={}, headers=headers)  # noqa: E731
    refused(client, send, 401)


def test_reading_the_state_with_an_unknown_token_is_refused(client):
    response = client.get("/api/v1/state", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.get_json()["error"]


# -- 403: the wrong role ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/advance", {}),
        ("/back", {}),
        (f"/goto/{LAST}", {}),
        ("/finish", {}),
        ("/reset", {}),
        ("/messages", {"text": "A"}),
    ],
)
def test_a_point_cannot_run_the_run_sheet_or_send_messages(client, mc, ward, path, body):
    mc.advance()  # so that back and finish would be possible for the MC
    refused(client, lambda: ward.post(path, body), 403)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/points/an-phu-dong/checkin", {"by": "A"}),
        ("/points/an-phu-dong/trouble", {"kind": "no_sound"}),
        ("/points/an-phu-dong/trouble/clear", {}),
        ("/points/nowhere/checkin", {"by": "A"}),
    ],
)
def test_a_point_cannot_act_for_another_point(client, neighbour, ward, path, body):
    neighbour.post("/points/an-phu-dong/trouble", {"kind": "no_picture"})
    refused(client, lambda: ward.post(path, body), 403)


def test_the_mc_cannot_acknowledge_a_message_for_a_point(client, mc):
    mc.post("/messages", {"text": "Chuẩn bị"})
    refused(client, lambda: mc.post("/messages/1/ack"), 403)


# -- 404: unknown item, point, message or address ------------------------------------------------


def test_going_to_an_unknown_item_is_not_found(client, mc):
    body = refused(client, lambda: mc.goto("khong-co"), 404, "item_id")
    assert "khong-co" in body["error"]


@pytest.mark.parametrize("action", ["checkin", "trouble", "trouble/clear"])
def test_acting_for_an_unknown_point_is_not_found(client, mc, action):
    body = {"checkin": {"by": "A"}, "trouble": {"kind": "no_sound"}}.get(action, {})
    refused(client, lambda: mc.post(f"/points/khong-co/{action}", body), 404, "point_id")


def test_a_message_to_an_unknown_point_is_not_found(client, mc):
    refused(client, lambda: mc.post("/messages", {"text": "A", "to": "khong-co"}), 404)


def test_acknowledging_an_unknown_message_is_not_found(client, ward):
    refused(client, lambda: ward.post("/messages/7/ack"), 404, "message_id")


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/points/thoi-an", "/api/v2/state"])
def test_an_unknown_address_is_not_found_in_json(client, mc, path):
    refused(client, lambda: client.post(path, json={}, headers=mc.headers), 404)
    refused(client, lambda: client.get(path), 404)


# -- 405 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", "/api/v1/advance", "POST"),
        ("put", "/api/v1/state", "GET"),
        ("get", "/api/v1/points/thoi-an/checkin", "POST"),
    ],
)
def test_a_wrong_method_is_refused_in_json_naming_the_allowed_ones(
    client, mc, method, path, allowed
):
    send = lambda: getattr(client, method)(path, headers=mc.headers)  # noqa: E731
    body = refused(client, send, 405)
    assert method.upper() in body["error"]
    assert allowed in send().headers["Allow"]


# -- 409: stale or impossible ------------------------------------------------------------------


def test_a_stale_advance_is_refused_with_the_current_state(client, mc):
    mc.advance()
    seen = mc.state()["version"]
    assert mc.advance(expected_version=seen).status_code == 200
    body = refused(client, lambda: mc.advance(expected_version=seen), 409)
    assert body["kind"] == "stale"
    current = mc.state()
    assert body["state"]["version"] == current["version"] == seen + 1
    assert body["state"]["current_item_id"] == SECOND
    assert body["state"] == current


def test_an_expected_version_above_the_current_one_is_refused(client, mc):
    ahead = mc.state()["version"] + 1
    body = refused(client, lambda: mc.advance(expected_version=ahead), 409)
    assert body["state"]["version"] == ahead - 1


def test_a_stale_check_in_is_refused_but_an_advance_in_between_does_not_make_it_stale(
    client, mc, ward
):
    seen = ward.state()["version"]
    mc.advance()
    body = {"by": "Lan", "expected_version": seen}
    assert ward.post("/points/thoi-an/checkin", body).status_code == 200
    send = lambda: ward.post("/points/thoi-an/checkin", {**body, "by": "Minh"})  # noqa: E731
    answer = refused(client, send, 409)
    assert point(answer["state"], "thoi-an")["checked_in_by"] == "Lan"


def test_a_stale_goto_back_and_finish_are_refused(client, mc):
    mc.advance()
    seen = mc.state()["version"]
    mc.advance()
    refused(client, lambda: mc.goto(LAST, expected_version=seen), 409)
    refused(client, lambda: mc.back(expected_version=seen), 409)
    refused(client, lambda: mc.finish(expected_version=seen), 409)


def test_advancing_past_the_last_item_is_refused(client, mc):
    mc.goto(LAST)
    body = refused(client, lambda: mc.advance(), 409)
    assert body["kind"] == "conflict"


@pytest.mark.parametrize("path", ["/finish", "/back"])
def test_finishing_or_going_back_before_the_start_is_refused(client, mc, path):
    refused(client, lambda: mc.post(path, {}), 409)


def test_clearing_trouble_that_was_never_reported_is_refused(client, ward):
    refused(client, lambda: ward.post("/points/thoi-an/trouble/clear"), 409)


# -- 413 ---------------------------------------------------------------------------------------


def test_an_oversized_body_is_refused(client, ward):
    body = json.dumps({"by": "A", "note": "x" * 70_000}).encode()
    send = lambda: client.post(  # noqa: E731
        "/api/v1/points/thoi-an/checkin", data=body, headers=ward.headers
    )
    assert refused(client, send, 413)["error"]


def test_a_large_body_under_the_limit_is_read_and_judged_by_its_fields(client, ward):
    body = json.dumps({"by": "A", "note": "x" * 60_000}).encode()
    send = lambda: client.post(  # noqa: E731
        "/api/v1/points/thoi-an/checkin", data=body, headers=ward.headers
    )
    refused(client, send, 400, "note")


# -- never 500 ---------------------------------------------------------------------------------

ODD_VALUES = [
    10**30,
    -(10**30),
    2**63,
    1e308,
    -0.0,
    "",
    "\x00",
    "abc\x00def",
    "\ud800",
    "🎉" * 40,
    "Thới An ‮ ‏",
    "x" * 3000,
    {"nested": {"deeper": [1, {"a": None}]}},
    [[[]]],
    [None],
    None,
    True,
]

# (who, path, a valid body, fields to fill with odd values)
ENDPOINTS = [
    ("mc", "/advance", {}, ["expected_version"]),
    ("mc", f"/goto/{LAST}", {}, ["expected_version", "item_id"]),
    ("thoi-an", "/points/thoi-an/checkin", {"by": "Lan"}, ["by", "present", "note", "point_id"]),
    ("thoi-an", "/points/thoi-an/trouble", {"kind": "other", "text": "x"}, ["kind", "clear"]),
    ("mc", "/messages", {"text": "Chào"}, ["text", "to"]),
    ("mc", "/roll-call", {}, ["seconds"]),
    ("thoi-an", "/messages/1/ack", {}, ["message_id"]),
]

ODD_CASES = [
    pytest.param(who, path, {**base, field: value}, id=f"{path}-{field}-{index}")
    for who, path, base, fields in ENDPOINTS
    for field in fields
    for index, value in enumerate(ODD_VALUES)
]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):  # noqa: ANN201
    """Return one app, its client and its tokens, shared by the odd-input sweep."""
    path = tmp_path_factory.mktemp("sweep") / "runsheet.sqlite3"
    clock = FrozenClock(datetime(2021, 10, 1, 1, 0, tzinfo=UTC))
    # Hundreds of requests from one caller: without the HTTP throttle, which they would meet.
    app = make_app(f"sqlite:///{path}", clock, HTTP_REQUESTS_PER_SECOND=0)
    client = app.test_client()
    Caller(client, tokens_of(app)["mc"]).post("/messages", {"text": "Chào"})
    return client, tokens_of(app)


def answered_without_failing(client, response, before: dict) -> None:  # noqa: ANN001
    """Check a response is JSON and below 500; a refusal says why and changes nothing.

    An accepted action raises the version by one, or by none when it changed nothing
    (e.g. a second acknowledgement of the same message).
    """
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.is_json
    after = public_state(client)
    if response.status_code >= 400:
        assert response.get_json()["error"]
        assert after == before
    else:
        assert response.status_code == 200
        assert after["version"] - before["version"] in (0, 1)


@pytest.mark.parametrize(("who", "path", "body"), ODD_CASES)
def test_odd_values_in_any_field_never_make_the_service_fail(sweep, who, path, body):
    client, tokens = sweep
    before = public_state(client)
    response = Caller(client, tokens[who]).post(path, body)
    answered_without_failing(client, response, before)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b" ",
        b"\x00",
        b"\xef\xbb\xbf{}",
        b'"\\ud800"',
        b'{"expected_version": 1' + b"0" * 5000 + b"}",
        b'{"expected_version": 1e999999}',
        b'{"expected_version": NaN}',
        b'{"expected_version": Infinity}',
        b'{"\\u0000": 1}',
        b'{"' + b"k" * 20_000 + b'": 1}',
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b"[" * 20_000 + b"]" * 20_000,
        '{"by": "Thới An"}'.encode("utf-16"),
    ],
)
@pytest.mark.parametrize("path", ["/advance", "/points/thoi-an/checkin", "/messages"])
def test_odd_bodies_never_make_the_service_fail(sweep, path, body):
    client, tokens = sweep
    who = "thoi-an" if "points" in path else "mc"
    before = public_state(client)
    response = client.post(
        f"/api/v1{path}",
        data=body,
        headers={"Authorization": f"Bearer {tokens[who]}", "Content-Type": "application/json"},
    )
    answered_without_failing(client, response, before)


@pytest.mark.parametrize(
    "path",
    [
        "/goto/%00",
        "/goto/" + "x" * 3000,
        "/goto/%F0%9F%8E%89",
        "/goto/%ED%A0%80",
        "/goto/..%2F..%2Fetc%2Fpasswd",
        "/goto/%20",
        "/points/%00/checkin",
        "/points/%F0%9F%8E%89/checkin",
        "/points/" + "p" * 3000 + "/checkin",
        "/points//checkin",
        "/messages/-1/ack",
        "/messages/0/ack",
        "/messages/99999999999999999999999999/ack",
        "/messages/abc/ack",
    ],
)
@pytest.mark.parametrize("who", ["mc", "thoi-an", None])
def test_odd_addresses_never_make_the_service_fail(sweep, path, who):
    client, tokens = sweep
    before = public_state(client)
    response = Caller(client, tokens[who] if who else None).post(path, {"by": "Lan"})
    assert response.status_code >= 400
    answered_without_failing(client, response, before)


# -- GET /api/v1/state and /healthz ------------------------------------------------------------


def test_the_state_has_the_shape_of_the_public_contract(anonymous, clock):
    state = anonymous.state()
    assert isinstance(state["version"], int) and state["version"] >= 1
    server_time = datetime.fromisoformat(state["server_time"])
    assert server_time.utcoffset() is not None
    assert server_time == clock.now
    event = state["event"]
    assert event["title"] == 'Lễ khai mạc "Tuần lễ hưởng ứng học tập suốt đời năm 2021"'
    assert event["starts_at"] == "2021-10-01T08:00:00+07:00"
    assert event["timezone"] == "Asia/Ho_Chi_Minh"
    assert state["current_item_id"] is None
    for entry in state["agenda"]:
        assert {
            "id",
            "title",
            "speaker",
            "point_id",
            "planned_start",
            "planned_minutes",
            "status",
            "started_at",
            "ended_at",
        } <= set(entry)
        assert entry["status"] == "pending"
        assert entry["point_id"] in POINT_IDS
        assert isinstance(entry["planned_minutes"], int) and entry["planned_minutes"] > 0
    for entry in state["points"]:
        assert {"id", "name", "kind", "online", "checked_in_at", "checked_in_by", "trouble"} <= (
            set(entry)
        )
        assert entry["kind"] in ("room", "ward")
        assert entry["online"] is False and entry["checked_in_at"] is None


def test_the_state_shows_seven_items_planned_back_to_back_from_eight(anonymous):
    agenda = anonymous.state()["agenda"]
    assert len(agenda) == 7
    assert agenda[0]["id"] == FIRST and agenda[-1]["id"] == LAST
    assert agenda[0]["planned_start"] == "2021-10-01T08:00:00+07:00"
    starts = [datetime.fromisoformat(i["planned_start"]) for i in agenda]
    for earlier, later, minutes in zip(
        starts, starts[1:], [i["planned_minutes"] for i in agenda], strict=False
    ):
        assert (later - earlier).total_seconds() == minutes * 60


def test_the_state_lists_the_thirteen_points_of_the_plan(anonymous):
    points = anonymous.state()["points"]
    assert [p["id"] for p in points] == POINT_IDS
    kinds = {p["id"]: p["kind"] for p in points}
    assert kinds["phong-hop-a"] == kinds["phong-hop-b"] == "room"
    assert sum(kind == "ward" for kind in kinds.values()) == 11
    assert {p["name"] for p in points} >= {"Phòng họp A", "Phòng họp B"}


@pytest.mark.parametrize("who", [None, "mc", "thoi-an"])
def test_no_state_reveals_a_token(client, tokens, mc, who):
    mc.advance()
    mc.post("/messages", {"text": "Chào"})
    text = Caller(client, tokens[who] if who else None).state()
    dumped = json.dumps(text)
    for token in tokens.values():
        assert token not in dumped
    assert "token" not in dumped.lower()


def test_the_plan_is_public_without_contact_addresses(client):
    response = client.get("/api/v1/plan")
    assert response.status_code == 200
    plan = response.get_json()
    assert [p["id"] for p in plan["points"]] == POINT_IDS
    assert all("contact_email" not in p for p in plan["points"])
    assert "organizer_email" not in plan["event"]


def test_health_is_ok_when_the_service_can_serve(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


# -- order of checks and item status after going back ---------------------------------------


def test_a_caller_without_a_token_hears_401_before_any_word_on_its_body(client, anonymous):
    body = refused(
        client,
        lambda: anonymous.post(
            "/points/thoi-an/checkin", data="{not json", content_type="application/json"
        ),
        401,
    )
    assert body["kind"] == "unauthenticated"


def test_a_point_sending_a_bad_body_to_an_mc_action_hears_403(client, ward):
    body = refused(client, lambda: ward.post("/goto/khong-co", {"expected_version": "x"}), 403)
    assert body["kind"] == "forbidden"


def test_an_item_the_mc_went_back_over_is_pending_again(mc):
    mc.advance()
    mc.advance()
    state = mc.back().get_json()
    first, second = state["agenda"][0], state["agenda"][1]
    assert first["status"] == "live"
    assert second["status"] == "pending"
    assert second["started_at"] and second["ended_at"]  # its earlier span is kept
    assert state["next_item_id"] == second["id"]

    state = mc.back().get_json()
    assert state["phase"] == "not_started"
    assert [i["status"] for i in state["agenda"]] == ["pending"] * 7


def test_items_passed_over_by_a_jump_are_skipped_and_shown_ones_are_done_at_the_end(mc):
    mc.advance()
    state = mc.goto("phat-bieu-nguoi-hoc").get_json()
    statuses = {i["id"]: i["status"] for i in state["agenda"]}
    assert statuses["dien-van-khai-mac"] == "skipped"
    assert statuses["phat-bieu-lanh-dao-so"] == "pending"
    state = mc.finish().get_json()
    statuses = {i["id"]: i["status"] for i in state["agenda"]}
    assert statuses["tuyen-bo-ly-do"] == "done"
    assert statuses["phat-bieu-nguoi-hoc"] == "done"
    assert statuses["dien-van-khai-mac"] == "skipped"
    assert statuses["ket-thuc"] == "skipped"  # never reached


def test_an_answer_to_a_roll_call_that_is_over_is_refused(client, mc, ward):
    mc.post("/roll-call", {"seconds": 30})
    mc.post("/roll-call", {"seconds": 30})
    body = refused(client, lambda: ward.post("/roll-call", {"roll_call_id": 1}), 409)
    assert "roll call 2 is open" in body["error"]
    assert ward.post("/roll-call", {"roll_call_id": 2}).status_code == 200


def test_an_expected_version_beyond_json_integers_is_refused_by_name(client, mc):
    refused(client, lambda: mc.advance(expected_version=2**60), 400, field="expected_version")


def test_the_organizer_may_do_what_the_mc_may_and_sees_what_the_mc_sees(client, tokens):
    organizer = {"Authorization": f"Bearer {tokens['organizer']}"}
    answer = client.post("/api/v1/advance", headers=organizer)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["phase"] == "live"
    message = client.post("/api/v1/messages", json={"text": "Kiểm tra"}, headers=organizer)
    assert message.status_code == 200
    assert message.get_json()["messages"][0]["text"] == "Kiểm tra"  # sees what the MC sees


def test_a_page_calls_the_api_with_its_cookie_only_when_it_names_itself(client, tokens):
    from runsheet.transports.auth import PAGE_HEADER

    client.get(f"/organizer?token={tokens['organizer']}")  # keeps the token in its cookie
    assert client.post("/api/v1/advance").status_code == 401  # a cookie alone: a forged form
    named = client.post("/api/v1/advance", headers={PAGE_HEADER: "organizer"})
    assert named.status_code == 200, named.get_json()
    assert client.post("/api/v1/advance", headers={PAGE_HEADER: "mc"}).status_code == 401
    wrong = client.post("/api/v1/advance", headers={PAGE_HEADER: "point"})
    assert wrong.status_code == 401
    assert "point:<id>" in wrong.get_json()["error"]
    state = client.get("/api/v1/state", headers={PAGE_HEADER: "organizer"}).get_json()
    assert "messages" in state  # the holder's variant, not the public one
