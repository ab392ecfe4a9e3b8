"""Several ``runsheet serve`` processes, one PostgreSQL, one Redis: they act as one service.

Two eventlet processes on different ports share a fresh PostgreSQL database and a Redis
message queue; clients connect to either. What one process does, the clients of the other
see; presence counts a point's pages on both; the database's compare-and-set decides
between two MC requests sent to both at once. A Redis of the test's own is killed in the
middle of a ceremony, and frozen in another: actions still succeed, promptly, and are
stored, and every client gets the latest state, while Redis is away and once it is back.
"""

from __future__ import annotations

import threading
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
import requests

from runsheet.transports.sockets.queue import LONGEST_QUIET_SECONDS, channel_for
from tests.conftest import REDIS_URL
from tests.live_server import WAIT_SECONDS, Crowd, SocketUser, point_of
from tests.processes import Processes, Service, close_clients, eventually, newest

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

GRACE_SECONDS = 1  # presence grace period of the processes
WITHIN = WAIT_SECONDS  # seconds a change may take to reach every client (generous: busy machines)


@pytest.fixture(scope="module")
def redis_url() -> str:
    """Return the URL of this machine's Redis (fails, never skips, when it is down)."""
    parts = urlsplit(REDIS_URL)
    client = redis.Redis(host=parts.hostname, port=parts.port or 6379, socket_connect_timeout=5)
    try:
        assert client.ping()
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(scope="module")
def module_postgres_url(postgres_server_url):
    """Create a database for this module's processes on the real PostgreSQL; drop it after."""
    name = f"runsheet_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(postgres_server_url)._replace(path=f"/{name}"))
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def pair(tmp_path_factory, module_postgres_url, redis_url):
    """Start two ``runsheet serve`` processes sharing the database and the queue."""
    processes = Processes(tmp_path_factory.mktemp("pair"))
    try:
        # One after the other: the first one installs the default plan.
        a = processes.service("a", module_postgres_url, message_queue=redis_url)
        b = processes.service("b", module_postgres_url, message_queue=redis_url)
        yield a, b
    finally:
        processes.close()


@pytest.fixture
def clients():
    """Return a factory of clients of a process, all closed at the end of the test."""
    crowds: list[Crowd] = []

    def crowd(service: Service) -> Crowd:
        crowds.append(Crowd(service))
        return crowds[-1]

    yield crowd
    close_clients(user for c in crowds for user in c.users)


def mc_page(crowd: Crowd) -> SocketUser:
    """Connect the MC console page (identified by its cookie, as in a browser)."""
    cookie = f"runsheet_mc={crowd.server.tokens['mc']}"
    return crowd.user({"page": "mc"}, headers={"Cookie": cookie}, name="mc page").connect()


def point_page(crowd: Crowd, point_id: str) -> SocketUser:
    """Connect a point's page (identified by its cookie)."""
    cookie = f"runsheet_point_{point_id}={crowd.server.tokens[point_id]}"
    auth = {"page": "point", "point_id": point_id}
    return crowd.user(auth, headers={"Cookie": cookie}, name=point_id).connect()


def sees(user: SocketUser, condition, timeout: float = WITHIN) -> dict:  # noqa: ANN001
    """Wait until the newest state ``user`` received meets ``condition``; return it."""
    return eventually(lambda: condition(newest(user)) and newest(user), timeout, f"{user}")


def online_points(state: dict) -> set[str]:
    """Return the points a state shows online."""
    return {point["id"] for point in state["points"] if point["online"]}


def settled(service: Service, open_pages: set[str]) -> int:
    """Wait until only the points with a page open show online; return the version then.

    Pages of earlier tests go offline after the grace period; a page turns its point online
    as it connects. So once exactly ``open_pages`` show online, no change is pending.
    """

    def only_open_pages_online() -> int | None:
        state = service.state()
        return state["version"] if online_points(state) == open_pages else None

    return eventually(only_open_pages_online, what=f"only {sorted(open_pages)} online")


def moves_back_to_back(service: Service, times: int = 3) -> list[int]:
    """Move the run-sheet ``times`` times in a row (between two items); return the versions."""
    item, versions = service.state()["current_item_id"], []
    for _ in range(times):
        item = "dien-van-khai-mac" if item == "tuyen-bo-ly-do" else "tuyen-bo-ly-do"
        response = service.post(f"/goto/{item}")
        assert response.status_code == 200, response.text
        versions.append(response.json()["version"])
    return versions


def every_version(users: list[SocketUser], versions: list[int]) -> None:
    """Wait until each of ``users`` has received every one of ``versions``, not just the last.

    The heartbeat's catch-up sends a room only the newest state, and only one that stayed
    the newest for a whole beat; so states made back to back that all arrive came through
    the message queue.
    """
    for user in users:
        sees(user, at_least(versions[-1]))
        received = {state["version"] for state in user.states}
        assert set(versions) <= received, (user, versions, sorted(received))


def at_least(version: int):  # noqa: ANN201
    return lambda state: state["version"] >= version


def test_an_advance_on_one_process_reaches_the_clients_of_both(pair, clients):
    a, b = pair
    on_a, on_b = clients(a), clients(b)
    mc = on_a.mc()
    everyone = [mc, on_a.point("thoi-an"), on_b.point("hiep-thanh")]
    everyone += on_a.connect_all(on_a.user(name=f"viewer a{n}") for n in range(5))
    everyone += on_b.connect_all(on_b.user(name=f"viewer b{n}") for n in range(5))
    start = settled(a, {"thoi-an", "hiep-thanh"})
    sees(mc, at_least(start))

    # Over the MC's socket on A, then over HTTP on B: both reach everyone.
    versions = []
    for _ in range(3):
        ack = mc.advance(expected_version=newest(mc)["version"])
        assert ack["ok"], ack
        versions.append(ack["state"]["version"])
    response = b.post("/advance", {"expected_version": versions[-1]})
    assert response.status_code == 200, response.text
    versions.append(response.json()["version"])
    expected_item = response.json()["current_item_id"]

    assert versions == list(range(start + 1, start + 5))
    for user in everyone:
        state = sees(user, at_least(versions[-1]))
        assert state["current_item_id"] == expected_item, user
        received = {s["version"] for s in user.states}
        assert set(versions) <= received, (
            user,
            sorted(received),
        )  # every change, not just the last


def test_a_check_in_on_one_process_shows_on_the_mc_console_of_the_other(pair, clients):
    a, b = pair
    console = mc_page(clients(b))
    ward = clients(a).point("thoi-an")

    ack = ward.check_in(by="Phạm Thị D", present=21, note="đường truyền ổn")
    assert ack["ok"], ack
    seen = point_of(sees(console, at_least(ack["state"]["version"])), "thoi-an")
    assert (seen["checked_in_by"], seen["present"]) == ("Phạm Thị D", 21)

    # Over HTTP on A too, with the point's own token.
    response = a.post("/points/hiep-thanh/checkin", {"by": "Võ Văn E", "present": 9}, "hiep-thanh")
    assert response.status_code == 200, response.text
    state = sees(console, at_least(response.json()["version"]))
    assert point_of(state, "hiep-thanh")["checked_in_by"] == "Võ Văn E"


def test_presence_is_per_point_across_processes(pair, clients):
    a, b = pair
    console = mc_page(clients(a))
    point, control = "tan-chanh-hiep", "thanh-loc"
    on_a, on_b = point_page(clients(a), point), point_page(clients(b), point)
    control_page = point_page(clients(a), control)
    sees(console, lambda s: point_of(s, point)["online"] and point_of(s, control)["online"])
    assert on_a.check_in(by="Đỗ Văn F")["ok"]

    # One page closes: the page on the other process keeps the point online. A control
    # point's page on the same process closes after it; once the console shows the control
    # offline, the first page's grace period has passed too (and several heartbeats).
    received = len(console.states)
    on_a.leave()
    control_page.leave()
    sees(console, lambda s: not point_of(s, control)["online"])
    assert all(point_of(s, point)["online"] for s in console.states[received:])
    assert point_of(b.state(), point)["online"]

    # The other closes too: offline once the grace period has passed, check-in kept.
    left_at = time.monotonic()
    on_b.leave()
    state = sees(console, lambda s: not point_of(s, point)["online"])
    assert time.monotonic() - left_at >= GRACE_SECONDS * 0.9
    assert point_of(state, point)["checked_in_by"] == "Đỗ Văn F"
    assert not point_of(a.state(), point)["online"]
    assert not point_of(b.state(), point)["online"]


def test_compare_and_set_holds_across_processes(pair, clients):
    a, b = pair
    viewer = clients(b).viewer()
    assert a.post("/goto/tuyen-bo-ly-do").status_code == 200
    settled(a, set())
    agenda = [item["id"] for item in a.state()["agenda"]]

    for round_ in range(4):
        seen = a.state()
        answers: list[requests.Response] = []
        together = threading.Barrier(2)

        def press_next(service: Service, version: int, together, answers) -> None:  # noqa: ANN001
            together.wait()
            answers.append(service.post("/advance", {"expected_version": version}))

        pressers = [
            threading.Thread(target=press_next, args=(s, seen["version"], together, answers))
            for s in (a, b)
        ]
        for presser in pressers:
            presser.start()
        for presser in pressers:
            presser.join()

        codes = sorted(answer.status_code for answer in answers)
        assert codes == [200, 409], [answer.text for answer in answers]
        won = next(answer.json() for answer in answers if answer.status_code == 200)
        lost = next(answer.json() for answer in answers if answer.status_code == 409)
        assert won["version"] == seen["version"] + 1
        # Exactly one item further, never two: the double press did not skip one.
        assert won["current_item_id"] == agenda[round_ + 1]
        assert a.state()["current_item_id"] == agenda[round_ + 1]
        assert lost["state"]["version"] == won["version"]
    assert sees(viewer, at_least(won["version"]))["current_item_id"] == agenda[4]


# -- Redis restarting in the middle of the ceremony ------------------------------------

# A longer grace period here makes the heartbeat (a third of it, two seconds) slow enough
# that its catch-up, which sends only a state that stayed the newest for a whole beat,
# cannot pass for the queue's delivery of changes made back to back.
RESTART_GRACE_SECONDS = 6


@pytest.fixture
def processes(tmp_path):
    """Return a launcher of processes, every one stopped at the end of the test."""
    processes = Processes(tmp_path)
    yield processes
    processes.close()


def subscribers(server, channel: str) -> int:  # noqa: ANN001
    """Return how many processes listen on the queue's channel."""
    client = redis.Redis(port=server.port, socket_connect_timeout=1)
    try:
        return dict(client.pubsub_numsub(channel)).get(channel.encode(), 0)
    except redis.ConnectionError:
        return 0
    finally:
        client.close()


def two_processes_on_own_redis(processes: Processes, postgres_url: str):  # noqa: ANN201
    """Start a Redis of the test's own and two processes using it; return all three."""
    queue = processes.redis()
    options = {"message_queue": queue.url, "grace_seconds": RESTART_GRACE_SECONDS}
    a = processes.service("a", postgres_url, **options)
    b = processes.service("b", postgres_url, **options)
    return queue, a, b


def test_a_redis_restart_loses_no_state_and_fan_out_resumes(processes, postgres_url):
    queue, a, b = two_processes_on_own_redis(processes, postgres_url)
    on_a, on_b = processes.crowd(a), processes.crowd(b)
    mc = on_a.mc()
    console_b = mc_page(on_b)
    screens = [mc, on_a.viewer(), on_a.point("thoi-an"), console_b, on_b.viewer()]
    screens.append(on_b.point("hiep-thanh"))
    channel = channel_for(queue.url)
    eventually(lambda: subscribers(queue, channel) == 2, what="both processes subscribed")

    ack = mc.advance()
    assert ack["ok"], ack
    for screen in screens:
        sees(screen, at_least(ack["state"]["version"]))

    queue.kill()

    # Actions still succeed and are stored: the state lives in the database.
    advanced = a.post("/advance")
    assert advanced.status_code == 200, advanced.text
    checked_in = b.post("/points/thoi-an/checkin", {"by": "Bùi Thị G"}, "thoi-an")
    assert checked_in.status_code == 200, checked_in.text
    latest = checked_in.json()
    assert latest["version"] == advanced.json()["version"] + 1
    assert a.state()["current_item_id"] == latest["current_item_id"] == "dien-van-khai-mac"
    assert point_of(a.state(), "thoi-an")["checked_in_by"] == "Bùi Thị G"

    # Every screen gets the latest state even while Redis is down: each process catches
    # its own clients up from the database (within two heartbeats; the bound is generous).
    for screen in screens:
        state = sees(screen, at_least(latest["version"]))
        assert state["current_item_id"] == "dien-van-khai-mac", screen
        assert point_of(state, "thoi-an")["checked_in_by"] == "Bùi Thị G", screen

    # A change while Redis is still down reaches the other process's clients too.
    advanced = a.post("/advance")
    assert advanced.status_code == 200, advanced.text
    for screen in screens:
        sees(screen, at_least(advanced.json()["version"]))

    # Redis comes back on the same port; both processes subscribe again by themselves.
    queue.start()
    eventually(lambda: subscribers(queue, channel) == 2, what="both processes subscribed again")

    # Fan-out through the queue has resumed: changes made back to back on one process all
    # reach the clients of the other, not just the last (which the catch-up would send).
    for service in (b, a):
        every_version(screens, moves_back_to_back(service))
    final = a.state()
    for screen in screens:
        assert newest(screen)["current_item_id"] == final["current_item_id"], screen
        assert newest(screen)["version"] == final["version"], screen
    assert "Traceback" not in a.log_text() + b.log_text(), processes.logs()


def test_a_hung_redis_holds_up_no_action_and_fan_out_resumes(processes, postgres_url):
    queue, a, b = two_processes_on_own_redis(processes, postgres_url)
    on_a, on_b = processes.crowd(a), processes.crowd(b)
    screens = [mc_page(on_a), on_a.viewer(), mc_page(on_b), on_b.viewer()]
    viewer_b = screens[-1]
    eventually(lambda: subscribers(queue, channel_for(queue.url)) == 2, what="both subscribed")

    queue.hang()  # accepts connections, answers nothing
    try:
        # Each action answers (before the client gives up, after WAIT_SECONDS), though Redis
        # never does; the publish that timed out is logged.
        for _ in range(3):
            response = a.post("/advance")
            assert response.status_code == 200, response.text
        latest = response.json()
        eventually(lambda: "could not publish to the message queue" in a.log_text())
        # Every screen gets it: B's from the database, by B's heartbeat.
        for screen in screens:
            sees(screen, at_least(latest["version"]))
    finally:
        queue.wake()

    # Once Redis answers again (A may still pause its publishing a while), changes made
    # back to back on A all reach B's clients, not just the last: through the queue.
    def through_the_queue() -> bool:
        every_version([viewer_b], moves_back_to_back(a))
        return True

    eventually(through_the_queue, timeout=LONGEST_QUIET_SECONDS + 10, what="queue delivery")
    final = a.state()
    for screen in screens:
        sees(screen, at_least(final["version"]))
    assert "could not publish to the message queue" in a.log_text()
    assert "Traceback" not in a.log_text() + b.log_text(), processes.logs()
