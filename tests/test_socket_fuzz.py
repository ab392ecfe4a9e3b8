"""Socket fuzzing: random event names and payloads from every role, against ``runsheet serve``.

Hypothesis makes up events: real action names, near misses, the Socket.IO library's own
reserved names and random text; payloads of wrong types, huge strings, deep nesting,
binary attachments, several arguments, None, unicode, numbers beyond 64 bits. Each is sent
from a public viewer, the MC or a point, over a real connection to the eventlet server.
Every event gets an ack: an error (never an internal one) unless it happens to be a valid
action, and the state changes only when the ack says the action was done, by exactly one
version. The server never stops, and it logs no traceback.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from runsheet.services.actions import ACTIONS
from runsheet.services.ratelimit import TokenBucket
from runsheet.transports.errors import STATUS
from runsheet.transports.sockets.settings import DEFAULTS
from tests.live_server import SocketUser
from tests.processes import Processes, Service, close_clients, eventually

pytestmark = pytest.mark.slow  # hypothesis runs against `runsheet serve` in a subprocess

EXAMPLES = 200  # over the three roles; the MC's pace makes it some 20 seconds
EVENTS_PER_CONNECTION = 15  # below the burst the rate limiter allows one connection
ACK_TIMEOUT = 10
# The largest message the server reads (MAX_CONTENT_LENGTH): a larger one ends the connection
# without an answer, as tests/test_sockets.py checks. Here every message stays well below.
BUFFER_BYTES = 64 * 1024
FUZZ_POINTS = ["an-phu-dong", "dong-hung-thuan", "tan-thoi-nhat"]

ACTION_NAMES = sorted(ACTIONS)
FIELD_NAMES = sorted({name for action in ACTIONS.values() for name in action.fields})
ITEM_IDS = ["tuyen-bo-ly-do", "dien-van-khai-mac", "ket-thuc", "no-such-item"]
POINT_IDS = [*FUZZ_POINTS, "phong-hop-a", "thoi-an", "no-such-point"]
# Names the Socket.IO libraries give a meaning of their own, and near misses of ours.
ODD_NAMES = ["connect", "disconnect", "connect_error", "__disconnect_final", "message", "*"]
ODD_NAMES += ["state", "session", "ADVANCE", " advance", "advance ", "check-in", ""]
KINDS = set(STATUS) - {"rate_limited"}


def nest(depth: int, leaf: Any) -> Any:
    """Return ``leaf`` wrapped in ``depth`` lists and objects, alternately."""
    for level in range(depth):
        leaf = [leaf] if level % 2 else {"by": leaf}
    return leaf


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(ITEM_IDS + POINT_IDS + ["no_sound", "other", " ", "\x00", "<b>x</b>"])
    | st.binary(max_size=30)
    | st.integers(min_value=1, max_value=20_000).map(lambda n: "x" * n)
    | st.integers(min_value=1, max_value=3_000).map(lambda n: "é" * n)  # 6 bytes each, escaped
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Objects with the actions' own field names: the likeliest to get past the first checks.
objects = st.dictionaries(st.sampled_from(FIELD_NAMES), values, max_size=5)
deep = st.builds(nest, st.integers(min_value=20, max_value=400), scalars)
payloads = objects | values | deep
arguments = st.one_of(
    st.just(()),
    payloads.map(lambda payload: (payload,)),
    st.lists(payloads, min_size=2, max_size=3).map(tuple),
)
# Most events are real actions, whose payloads go furthest into the service.
other_names = (
    st.sampled_from(ODD_NAMES)
    | st.text(max_size=20)
    | st.integers(min_value=1, max_value=3000).map(lambda n: "x" * n)
)
event_names = st.integers(min_value=0, max_value=9).flatmap(
    lambda k: st.sampled_from(ACTION_NAMES) if k < 6 else other_names
)


class Sender:
    """A role's connections, paced to stay within what the rate limiter allows.

    A public viewer's allowance is per connection, so its connection is replaced before
    the burst runs out; a token's allowance is shared by all its connections, so events
    under a token are paced below its steady rate (the points' senders take turns).
    """

    def __init__(self, service: Service, tokens: list[str | None], name: str) -> None:
        self.service, self.tokens, self.name = service, tokens, name
        self.user: SocketUser | None = None
        self.sent = 0
        self.users: list[SocketUser] = []
        rate = DEFAULTS["SOCKET_EVENTS_PER_SECOND"] * 0.8
        self.allowances = {
            token: TokenBucket(rate, DEFAULTS["SOCKET_EVENT_BURST"] - 5) for token in tokens
        }
        self.turn = 0

    def call(self, event: str, args: tuple[Any, ...]) -> Any:
        """Send one event with ``args`` and return the ack."""
        if self.user is None or not self.user.connected or self.sent >= EVENTS_PER_CONNECTION:
            if self.user is not None and self.user.connected:
                self.user.leave()
            self.turn = (self.turn + 1) % len(self.tokens)
            token = self.tokens[self.turn]
            auth = {"token": token} if token else None
            self.user = SocketUser(self.service.url, auth, name=self.name).connect()
            self.users.append(self.user)
            self.sent = 0
        token = self.tokens[self.turn]
        if token is not None:
            self.spend(token)
        self.sent += 1
        return self.user.client.call(event, args, timeout=ACK_TIMEOUT)

    def spend(self, token: str) -> None:
        """Wait until ``token``'s allowance has room for one more event, and take it."""
        while not self.allowances[token].take(time.monotonic()):
            time.sleep(0.02)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """Run ``runsheet serve`` on a fresh SQLite database for the whole module."""
    folder = tmp_path_factory.mktemp("fuzz")
    processes = Processes(folder)
    try:
        yield processes.service("fuzz", f"sqlite:///{folder / 'runsheet.sqlite3'}")
    finally:
        processes.close()


@pytest.fixture(scope="module")
def senders(service):
    """Return a sender per role, and keep the fuzzed points' pages open meanwhile."""
    # The points' pages stay connected, so fuzz connections coming and going never turn
    # them offline: presence must not change the state under the test.
    pages = [
        SocketUser(service.url, {"token": service.tokens[point]}, name="page").connect()
        for point in FUZZ_POINTS
    ]
    made = {
        "public": Sender(service, [None], "public"),
        "mc": Sender(service, [service.tokens["mc"]], "mc"),
        "point": Sender(service, [service.tokens[point] for point in FUZZ_POINTS], "point"),
    }
    yield made
    close_clients([*pages, *(user for sender in made.values() for user in sender.users)])


def online_points(state: dict[str, Any]) -> set[str]:
    """Return the points a state shows online."""
    return {point["id"] for point in state["points"] if point["online"]}


def settle(service: Service, open_pages: set[str]) -> dict[str, Any]:
    """Return the state once no presence change is pending (pages of earlier connections).

    A page turns its point online as it connects, and only a departure is ever pending: so
    nothing is once exactly the points with a page open show online.
    """

    def settled() -> dict[str, Any] | None:
        state = service.state()
        return state if online_points(state) == open_pages else None

    return eventually(settled, what=f"only {sorted(open_pages)} online")


def departures_handled(service: Service, page: SocketUser) -> None:
    """Close ``page`` and wait until its point shows offline.

    Its grace period started after every page that left before it; once it has run out and
    been acted on, so have theirs: a positive signal in place of sleeping past the period.
    """
    page.leave()
    eventually(lambda: page.name not in online_points(service.state()), what=f"{page} offline")


def essence(state: dict[str, Any]) -> str:
    """Return the state without what moves with the clock."""
    kept = {key: value for key, value in state.items() if key not in ("server_time", "timing")}
    return json.dumps(kept, sort_keys=True)


def encoded_size(event: Any, args: tuple[Any, ...]) -> int:
    """Return about how many bytes the Socket.IO client sends for this event."""
    return len(json.dumps([event, *args], default=lambda value: {"_placeholder": True}))


def _json_safe(value: Any) -> bool:
    """Say whether ``value`` is plain JSON (what an action could accept at all)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, bytes):
        return False
    if isinstance(value, list):
        return all(_json_safe(item) for item in value)
    if isinstance(value, dict):
        return all(_json_safe(item) for item in value.values())
    return True


@pytest.mark.timeout(180)
def test_random_socket_events_from_every_role_get_error_acks_and_change_nothing(service, senders):
    settle(service, set(FUZZ_POINTS))
    tally: dict[str, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        role=st.sampled_from(sorted(senders)),
        event=event_names,
        args=arguments,
    )
    # A few that are valid, so that what a successful action may change is checked too.
    @example(role="mc", event="advance", args=({},))
    @example(role="point", event="checkin", args=({"by": "Lê Thị I", "present": 3},))
    @example(role="mc", event="message", args=({"text": "<script>alert(1)</script>"},))
    @example(role="mc", event="advance", args=({}, {}))
    def one_event(role: str, event: str, args: tuple[Any, ...]) -> None:
        assume(encoded_size(event, args) < BUFFER_BYTES * 0.9)
        before = service.state()
        ack = senders[role].call(event, args)
        after = service.state()

        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
        if ack["ok"]:
            tally["ok"] = tally.get("ok", 0) + 1
            # Only a real action with one plain JSON object (or none) can succeed.
            assert event in ACTIONS and role != "public", (event, args)
            assert len(args) <= 1 and (not args or args[0] is None or isinstance(args[0], dict))
            assert _json_safe(args[0] if args else None)
            assert after["version"] in (before["version"], before["version"] + 1)
            assert ack["state"]["version"] == after["version"]
        else:
            tally[ack["kind"]] = tally.get(ack["kind"], 0) + 1
            assert ack["kind"] in KINDS, ack
            assert isinstance(ack["error"], str) and ack["error"].strip(), ack
            assert essence(after) == essence(before), (event, args, ack)

    one_event()

    # Hypothesis ran every example; the server is still up, answering and quiet.
    assert service.alive
    assert sum(tally.values()) >= EXAMPLES * 0.9, tally
    assert tally.get("ok", 0) < sum(tally.values()), tally
    assert "Traceback" not in service.log_text(), service.log_text()[-6000:]


def test_events_named_like_the_socket_librarys_hooks_are_refused_and_change_nothing(
    service, senders
):
    page = SocketUser(service.url, {"token": service.tokens["thoi-an"]}, name="thoi-an")
    control = SocketUser(service.url, {"token": service.tokens["phong-hop-a"]}, name="phong-hop-a")
    senders["point"].users += [page.connect(), control.connect()]
    settle(service, {*FUZZ_POINTS, "thoi-an", "phong-hop-a"})
    before = service.state()
    assert next(p for p in before["points"] if p["id"] == "thoi-an")["online"]

    cases = [("connect", ()), ("connect", ({"token": "x"},)), ("disconnect", ())]
    cases += [("*", ()), ("*", ({},)), ("*", ("advance", {})), ("runsheet:odd-event", ("advance",))]
    for event, args in cases:
        ack = page.client.call(event, args, timeout=ACK_TIMEOUT)
        assert (ack["ok"], ack["kind"]) == (False, "not_found"), (event, args, ack)

    # The page is still the point's, and its point stays online: nothing was re-registered
    # or forgotten.
    assert page.check_in(by="Lý Thị H")["ok"]
    departures_handled(service, control)  # any departure the odd events recorded is, too
    after = service.state()
    assert next(p for p in after["points"] if p["id"] == "thoi-an")["online"]
    assert after["version"] == before["version"] + 2  # the check-in, the control's departure
    assert "Traceback" not in service.log_text(), service.log_text()[-6000:]


def test_packets_no_client_library_would_send_are_survived(service, senders):
    """Raw Socket.IO packets: broken JSON, absurd nesting, event names that are not text."""
    bystander = SocketUser(service.url, name="bystander").connect()
    senders["public"].users.append(bystander)
    garbled = [  # the server cannot decode these: it closes the connection
        '2["advance",' + "[" * 30_000 + "]" * 30_000 + "]",  # deeper than the parser's stack
        '21["advance",' + "{" * 5000 + "}" * 5000 + "]",  # the same, with an ack id
        '2["advance",{"by":',  # cut short
        "9",  # no such packet type
    ]
    odd = [  # these decode: they are answered as unknown events and the connection stays
        "2[42,{}]",  # an event name that is a number
        '2[{"a":1},{}]',  # one that is an object
        "2[]",  # none at all
        "2[null]",
        "2{}",
        '2["checkin",NaN]',
    ]
    for packet in garbled + odd:
        raw = SocketUser(service.url, {"token": service.tokens["mc"]}, name="raw").connect()
        senders["mc"].users.append(raw)
        version = service.version()
        raw.client.eio.send(packet)
        if packet in garbled:
            raw.wait_until_disconnected()
        else:
            # Packets are read in order: the answer to a later call means this one was read.
            senders["mc"].spend(service.tokens["mc"])
            assert raw.call("advance", {"expected_version": version + 10**6})["kind"] == "stale"
            assert raw.connected, packet
        assert service.alive, packet[:40]
        assert service.version() == version, packet[:40]
        # The server answers everyone else as before.
        ack = senders["mc"].call("advance", ({"expected_version": version + 10**6},))
        assert ack["kind"] == "stale", ack
    assert bystander.connected
    assert "Traceback" not in service.log_text(), service.log_text()[-6000:]
