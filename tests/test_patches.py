"""State patches: clients with ``auth.patches`` hold exactly the state by applying patches.

A real server (threading mode), real python-socketio clients; each patch is applied with
jsonpatch (an independent RFC 6902 implementation) and the result compared with what
``GET /api/v1/state`` answers that role at that version, clock-following keys aside.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from typing import Any

import jsonpatch
import pytest
import requests

from bench.national_plan import national_plan_dict, point_id
from runsheet.plans import default_plan, plan_from_dict
from runsheet.services.ceremony import utc_now
from runsheet.services.plans import install_plan
from runsheet.services.state_patch import CLOCK_KEYS, json_patch, state_patch
from runsheet.transports.sockets import broadcast
from runsheet.transports.sockets.editions import Edition, patches
from tests.conftest import make_app
from tests.live_server import WAIT_SECONDS, Crowd, SocketUser, serve

pytestmark = pytest.mark.slow


class PatchUser(SocketUser):
    """A client that asks for patches and keeps its state by applying them."""

    def __init__(self, url: str, auth: dict[str, Any] | None = None, name: str = "viewer"):
        super().__init__(url, {**(auth or {}), "patches": True}, name=name)
        self.patches: list[dict[str, Any]] = []
        self.patch_bytes: list[int] = []
        self.resyncs = 0
        self.drop_next = False  # lose the next patch, as a flaky network would
        self.client.on("patch", self._on_patch)

    def _on_patch(self, message: dict[str, Any]) -> None:
        # As python-socketio encodes it: compact JSON, UTF-8 (runsheet's wire).
        encoded = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        self.patch_bytes.append(len(encoded.encode()))
        with self._changed:
            if self.drop_next:
                self.drop_next = False
                return
            self.patches.append(message)
            held = self.states[-1]["version"]
            if message["version"] <= held:
                return  # its own patch came first: it holds this version already
            if message["from_version"] != held:
                threading.Thread(target=self._resync, daemon=True).start()
                return
            patched = jsonpatch.apply_patch(self.states[-1], message["ops"])
            assert patched["version"] == message["version"]
            self.states.append(patched)
            self._changed.notify_all()

    def _resync(self) -> None:
        ack = self.client.call("resync", None, timeout=WAIT_SECONDS)
        assert ack["ok"], ack
        with self._changed:
            self.resyncs += 1
            if ack["state"]["version"] > self.states[-1]["version"]:
                self.states.append(ack["state"])
            self._changed.notify_all()


def without_clock(state: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in state.items() if key not in CLOCK_KEYS}


def http_state(url: str, token: str | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{url}/api/v1/state", headers=headers, timeout=WAIT_SECONDS).json()


def holds_what_http_says(user: PatchUser, url: str, token: str | None, version: int) -> None:
    """Wait until ``user`` holds ``version``; check it is that role's state, exactly."""
    user.wait_for_version(version)
    expected = http_state(url, token)
    assert expected["version"] == version, "the ceremony moved on during the check"
    assert without_clock(user.state) == without_clock(expected), user


@pytest.fixture
def server(database_url):
    yield from serve(database_url)


@pytest.fixture
def crowd(server):
    crowd = Crowd(server)
    yield crowd
    crowd.close()


def patch_user(crowd: Crowd, token_role: str | None, name: str) -> PatchUser:
    tokens = crowd.server.tokens
    auth = {"token": tokens[token_role]} if token_role else None
    user = PatchUser(crowd.server.url, auth, name=name)
    crowd.users.append(user)
    return user.connect()


def test_patches_rebuild_each_roles_state_across_every_kind_of_change(crowd, server):
    watchers = {
        "mc": patch_user(crowd, "mc", "mc"),
        "thoi-an": patch_user(crowd, "thoi-an", "thoi-an"),
        "thanh-loc": patch_user(crowd, "thanh-loc", "thanh-loc"),
        None: patch_user(crowd, None, "viewer"),
    }
    mc, thoi_an = watchers["mc"], watchers["thoi-an"]
    tokens = server.tokens

    def everyone_holds_the_latest() -> None:
        version = server.version()
        for role, user in watchers.items():
            holds_what_http_says(user, server.url, tokens[role] if role else None, version)

    everyone_holds_the_latest()
    steps = [
        lambda: mc.advance(),
        lambda: thoi_an.check_in(by="Anh Hùng", present=12),
        lambda: thoi_an.call("trouble", {"kind": "no_sound", "text": "mất tiếng"}),
        lambda: mc.call("message", {"text": "Các điểm cầu kiểm tra micro"}),
        lambda: mc.call("message", {"text": "Thới An: bật lại âm thanh", "to": "thoi-an"}),
        lambda: thoi_an.call("ack_message", {"message_id": 2}),
        lambda: thoi_an.call("clear_trouble", {}),
        lambda: mc.call("roll_call", {"seconds": 60}),
        lambda: thoi_an.call("roll_call", {}),
        lambda: mc.call("extend", {"seconds": 60}),
        lambda: mc.advance(),
        lambda: mc.call("back", {}),
    ]
    for step in steps:
        ack = step()
        assert ack["ok"], ack
        assert "state" not in ack and ack["version"] == server.version()
        everyone_holds_the_latest()
    # A plan edit: the live item's title changes for everyone.
    svc = server.services
    plan = svc.ceremony.current().plan
    edited = replace(
        plan, agenda=(replace(plan.agenda[0], title="Khai mạc (sửa)"), *plan.agenda[1:])
    )
    install_plan(svc.store, edited, svc.secret_key, utc_now())  # as `runsheet load` does
    everyone_holds_the_latest()  # the server's heartbeat sends what another process stored
    ack = mc.advance()
    assert ack["ok"], ack
    everyone_holds_the_latest()
    assert mc.state["agenda"][0]["title"] == "Khai mạc (sửa)"
    assert all(user.resyncs == 0 for user in watchers.values())
    assert all(user.patches for user in watchers.values())


def test_a_client_that_misses_a_patch_asks_for_the_state_and_holds_it(crowd, server):
    viewer = patch_user(crowd, None, "viewer")
    mc = patch_user(crowd, "mc", "mc")
    viewer.drop_next = True
    assert mc.advance()["ok"]
    assert mc.advance()["ok"]  # its from_version is one the viewer never held
    holds_what_http_says(viewer, server.url, None, server.version())
    assert viewer.resyncs == 1


def test_clients_without_the_flag_keep_getting_whole_states(crowd, server):
    plain = crowd.viewer()
    patched = patch_user(crowd, None, "patched")
    mc = crowd.mc()
    ack = mc.advance()
    assert ack["ok"] and "state" in ack  # without patches the ack carries the state
    plain.wait_for_version(ack["state"]["version"])
    patched.wait_for_version(ack["state"]["version"])
    assert not patched.received_at[1:] or len(patched.patches) == 1
    assert without_clock(plain.state) == without_clock(patched.state)


def test_no_patch_is_built_until_a_client_asks_for_patches(crowd, server, monkeypatch):
    built: list[int] = []

    def counted(before, after):  # noqa: ANN001, ANN202
        built.append(after.version)
        return patches(before, after)

    monkeypatch.setattr(broadcast, "patches", counted)
    plain = crowd.viewer()
    mc = crowd.mc()
    ack = mc.advance()
    plain.wait_for_version(ack["state"]["version"])
    assert built == []  # every client takes whole states: nothing to patch
    patched = patch_user(crowd, None, "patched")
    ack = mc.advance()
    holds_what_http_says(patched, server.url, None, ack["state"]["version"])
    assert ack["state"]["version"] in built
    assert patched.patches and patched.resyncs == 0  # from the version it was greeted with


def test_a_patches_flag_that_is_not_true_or_false_is_refused(crowd):
    refusal = crowd.user({"patches": "yes"}).connect_refused()
    assert refusal["data"]["kind"] == "invalid"
    assert refusal["data"]["field"] == "patches"


def test_patches_made_after_a_restart_start_from_the_version_clients_hold(database_url):
    # The second server has sent nothing yet: it builds the version before from the store.
    first = serve(database_url)
    server = next(first)
    mc_token = server.tokens["mc"]
    crowd = Crowd(server)
    assert crowd.mc().advance()["ok"]
    crowd.close()
    first.close()
    second = serve(database_url)
    server = next(second)
    try:
        crowd = Crowd(server)
        viewer = patch_user(crowd, None, "viewer")
        mc = patch_user(crowd, "mc", "mc")
        assert mc.advance()["ok"]
        assert mc.call("message", {"text": "Tiếp tục"})["ok"]
        for user, token in ((viewer, None), (mc, mc_token)):
            holds_what_http_says(user, server.url, token, server.version())
            assert user.resyncs == 0 and user.patches
        crowd.close()
    finally:
        second.close()


# -- a national conference: 3,500 points -------------------------------------------------------


@pytest.fixture
def national_server(database_url):
    app = make_app(database_url)
    svc = app.extensions["runsheet"]
    install_plan(svc.store, plan_from_dict(national_plan_dict()), svc.secret_key, utc_now())
    del app
    yield from serve(database_url)


def test_at_3500_points_viewers_and_points_get_patches_under_a_kilobyte(national_server):
    server = national_server
    crowd = Crowd(server)
    try:
        viewer = patch_user(crowd, None, "viewer")
        assert "points" not in viewer.state
        own, other = point_id(40), point_id(41)
        mine = patch_user(crowd, own, own)
        theirs = patch_user(crowd, other, other)
        mc = patch_user(crowd, "mc", "mc")
        assert [p["id"] for p in mine.state["points"]] == [own]
        assert len(mc.state["points"]) == 3500
        mine.wait_for(lambda state: state["points"][0]["online"])
        assert mc.advance()["ok"]  # the ceremony is live: check-ins leave the timeline be
        holds_what_http_says(viewer, server.url, None, server.version())
        viewer.patch_bytes.clear()
        mine.patch_bytes.clear()
        theirs.patch_bytes.clear()
        ack = mine.check_in(by="Chị Mai", present=40)
        assert ack["ok"], ack
        ack = mc.advance()
        assert ack["ok"], ack
        version = server.version()
        tokens = server.tokens
        for user, token in ((viewer, None), (mine, tokens[own]), (theirs, tokens[other])):
            holds_what_http_says(user, server.url, token, version)
        holds_what_http_says(mc, server.url, tokens["mc"], version)
        assert mine.state["points"][0]["checked_in_by"] == "Chị Mai"
        assert mc.point(own)["checked_in_by"] == "Chị Mai"
        # A check-in: the version, one group's count, the clock (README, Performance).
        check_in_bytes = [viewer.patch_bytes[0], theirs.patch_bytes[0], *mine.patch_bytes[:2]]
        assert max(check_in_bytes) <= 1024, check_in_bytes
        # An advance moves every item to come (seven projected starts) and the timing: more
        # than a kilobyte, far below the 9 KB state (or the MC's 840 KB).
        advance_bytes = [viewer.patch_bytes[-1], theirs.patch_bytes[-1], mine.patch_bytes[-1]]
        assert max(advance_bytes) <= 2048, advance_bytes
        assert all(user.resyncs == 0 for user in (viewer, mine, theirs, mc))
    finally:
        crowd.close()


# -- the patches themselves, without a server --------------------------------------------------


def test_a_patch_turns_any_json_into_any_other_as_jsonpatch_applies_it():
    cases = [
        ({"a": 1, "b": [1, 2, 3], "c": {"d": None}}, {"a": 1, "b": [1, 5], "c": {"e": True}}),
        ({"x/y": 1, "m~n": True}, {"x/y": 2, "m~n": 1}),
        ([], [{"id": 1}]),
        ({"a": [1, 2]}, {"a": [1, 2, 3, 4]}),
        (True, 1),
        (1.0, 1),
    ]
    for before, after in cases:
        ops = json_patch(before, after)
        assert jsonpatch.apply_patch(before, ops) == after
        assert json.dumps(jsonpatch.apply_patch(before, ops)) == json.dumps(after)
    assert json_patch({"a": [1]}, {"a": [1]}) == []


def test_a_patch_from_a_state_built_again_carries_the_clock_keys_whole():
    before = {"version": 1, "server_time": "t1", "timing": {"a": 1, "b": 2}, "agenda": []}
    after = {"version": 2, "server_time": "t2", "timing": {"a": 1, "b": 3}, "agenda": []}
    assert state_patch(before, after, clock_as_sent=False) == [
        {"op": "replace", "path": "/version", "value": 2},
        {"op": "replace", "path": "/server_time", "value": "t2"},
        {"op": "replace", "path": "/timing", "value": {"a": 1, "b": 3}},
    ]
    assert state_patch(before, after) == [
        {"op": "replace", "path": "/version", "value": 2},
        {"op": "replace", "path": "/server_time", "value": "t2"},
        {"op": "replace", "path": "/timing/b", "value": 3},
    ]


def test_timing_whose_fields_mostly_changed_is_replaced_in_one_operation():
    before = {"version": 1, "timing": {"a": 1, "b": 2, "c": 3, "d": 4}}
    after = {"version": 2, "timing": {"a": 1, "b": 5, "c": 6, "d": 7}}
    ops = state_patch(before, after)
    assert ops == [
        {"op": "replace", "path": "/version", "value": 2},
        {"op": "replace", "path": "/timing", "value": after["timing"]},
    ]
    assert jsonpatch.apply_patch(before, ops) == after


def test_a_change_of_the_plans_points_sends_whole_states_not_patches(app, clock):
    from runsheet.services.ceremony import Current

    svc = app.extensions["runsheet"]
    current = svc.ceremony.current()
    before = Edition.build(current, clock())
    plan = default_plan()
    fewer = replace(plan, points=plan.points[:-1])
    after = Edition.build(Current(current.event_id, fewer, current.state), clock())
    assert patches(before, after) is None
