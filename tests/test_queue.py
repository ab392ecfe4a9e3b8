"""The message queue without Redis: its channel, publishing while Redis is away, and the
heartbeat's catch-up of this process's clients from the database.

A python-socketio server (threading mode) is given the Redis manager with a URL where no
Redis listens, so every publish fails, as while Redis restarts.
"""

from __future__ import annotations

import pytest
import redis
import socketio

from runsheet.services.tokens import Actor
from runsheet.transports.sockets.broadcast import Broadcaster
from runsheet.transports.sockets.queue import RedisQueue, channel_for, is_redis_url
from tests.conftest import make_app
from tests.live_server import free_port


@pytest.fixture
def queue() -> RedisQueue:
    """Return a Redis manager bound to a server, with no Redis behind its URL."""
    manager = RedisQueue(f"redis://127.0.0.1:{free_port()}/4")
    socketio.Server(client_manager=manager, async_mode="threading")
    return manager


def test_each_installation_gets_a_channel_of_its_own_redis_database():
    assert channel_for("redis://127.0.0.1:6379/3") == "runsheet:3"
    assert channel_for("redis://127.0.0.1:6379") == "runsheet:0"
    assert is_redis_url("rediss://cache.example:6380/1")
    assert not is_redis_url("amqp://rabbit/") and not is_redis_url(None)


class RecordingServer:
    """A Socket.IO server that records what is emitted instead of sending it."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, int, tuple[str, ...], dict]] = []
        self.announced: list[tuple[dict, dict]] = []  # event_changed, to every client

    def emit(self, event: str, body: dict, to: list[str] | None = None, **options) -> None:  # noqa: ANN003
        if event == "event_changed":
            self.announced.append((body, options))
            return
        self.emitted.append((event, body["version"], tuple(to), options))

    def start_background_task(self, target, *args) -> None:  # noqa: ANN001
        target(*args)  # at once: the test sees what a background send would have sent

    def versions_to(self, room: str) -> list[int]:
        return [version for _, version, rooms, _ in self.emitted if room in rooms]


@pytest.fixture
def broadcaster(database_url, clock) -> Broadcaster:
    """Return a queued process's broadcaster whose emits are recorded, not sent."""
    app = make_app(database_url, clock)
    return Broadcaster(RecordingServer(), app.extensions["runsheet"].ceremony, queued=True)


def test_a_change_made_elsewhere_reaches_this_process_clients_at_the_next_beat(broadcaster):
    # A change this broadcaster did not send: another process made it, the queue lost it.
    changed = broadcaster.ceremony.perform(Actor("mc"), "advance", {})

    assert broadcaster.catch_up()

    server = broadcaster.server
    for room in ("public", "mc", "point:thoi-an"):
        assert server.versions_to(room) == [changed.version]
    assert all(options == {"ignore_queue": True} for *_, options in server.emitted)
    assert not broadcaster.catch_up()  # once per version, not at every beat
    assert len(server.emitted) == 2  # one emit per distinct variant
    # This process had spoken of no event yet: its own clients hear which one it is.
    slug = changed.plan.event.slug
    assert [(body["slug"], options) for body, options in server.announced] == [
        (slug, {"ignore_queue": True})
    ]


def test_a_change_this_process_broadcast_is_not_sent_again(broadcaster):
    changed = broadcaster.ceremony.perform(Actor("mc"), "advance", {})
    broadcaster.broadcast(changed)
    sent = list(broadcaster.server.emitted)

    assert not broadcaster.catch_up()
    assert broadcaster.server.emitted == sent


def test_a_publish_to_an_absent_redis_fails_fast_and_then_waits_a_moment(queue, monkeypatch):
    attempts: list[str] = []
    publish = redis.Redis.publish

    def counted(client, channel, message):  # noqa: ANN001, ANN202
        attempts.append(channel)
        return publish(client, channel, message)

    monkeypatch.setattr(redis.Redis, "publish", counted)
    for _ in range(20):
        queue.server.emit("state", {"version": 5}, to="public")
    # One refused publish (tried again once, as for a connection Redis dropped), not twenty.
    assert 1 <= len(attempts) <= 2, attempts
