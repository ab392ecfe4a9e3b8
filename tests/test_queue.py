"""The message queue's bookkeeping, without Redis: what each room was sent, and catching up.

A python-socketio server (threading mode) is given the Redis manager with a URL where no
Redis listens, so every publish fails, as while Redis restarts.
"""

from __future__ import annotations

import pytest
import redis
import socketio

from runsheet.transports.queue import RedisQueue, StateMark, channel_for, is_redis_url, mark_of
from tests.live_server import free_port

ROOMS = ["public", "mc", "point:thoi-an"]


def state(version: int, slug: str = "le-khai-mac") -> dict:
    """Return the bare bones of a pushed state."""
    return {"version": version, "event": {"slug": slug}}


@pytest.fixture
def queue() -> RedisQueue:
    """Return a Redis manager bound to a server, with no Redis behind its URL."""
    manager = RedisQueue(f"redis://127.0.0.1:{free_port()}/4")
    socketio.Server(client_manager=manager, async_mode="threading")
    return manager


def catch_up(queue: RedisQueue, latest: StateMark) -> list[str]:
    """Run one heartbeat's catch-up; return the rooms it sent ``latest`` to."""
    sent: list[str] = []
    queue.catch_up(latest, ROOMS, sent.append)
    return sent


def test_each_installation_gets_a_channel_of_its_own_redis_database():
    assert channel_for("redis://127.0.0.1:6379/3") == "runsheet:3"
    assert channel_for("redis://127.0.0.1:6379") == "runsheet:0"
    assert is_redis_url("rediss://cache.example:6380/1")
    assert not is_redis_url("amqp://rabbit/") and not is_redis_url(None)


def test_a_state_is_marked_by_its_event_and_version():
    assert mark_of(state(7)) == StateMark("le-khai-mac", 7)
    assert mark_of({"version": 7}) is None
    assert mark_of("not a state") is None
    assert StateMark("a", 3).is_older_than(StateMark("a", 4))
    assert StateMark("a", 9).is_older_than(StateMark("b", 1))  # another event: not the same
    assert not StateMark("a", 4).is_older_than(StateMark("a", 4))


def test_a_room_behind_for_a_whole_beat_is_sent_the_latest_state(queue):
    for room in ROOMS:
        queue.server.emit("state", state(5), to=room)
    # Version 6 reaches only the public room (the queue lost it for the others).
    queue.server.emit("state", state(6), to="public")

    assert catch_up(queue, StateMark("le-khai-mac", 6)) == []  # a first look only
    assert catch_up(queue, StateMark("le-khai-mac", 6)) == ["mc", "point:thoi-an"]
    assert catch_up(queue, StateMark("le-khai-mac", 6)) == []  # sent once, not again


def test_a_room_that_receives_the_state_within_the_beat_is_left_alone(queue):
    queue.server.emit("state", state(5), to=ROOMS)
    assert catch_up(queue, StateMark("le-khai-mac", 6)) == []
    queue.server.emit("state", state(6), to=ROOMS)  # the queue delivered it, a little late
    assert catch_up(queue, StateMark("le-khai-mac", 6)) == []


def test_a_newer_state_than_the_one_missed_is_what_a_room_gets(queue):
    queue.server.emit("state", state(5), to=ROOMS)
    catch_up(queue, StateMark("le-khai-mac", 6))
    sent: list[str] = []
    queue.catch_up(StateMark("le-khai-mac", 8), ROOMS, sent.append)
    assert sent == ROOMS
    assert catch_up(queue, StateMark("le-khai-mac", 8)) == []


def test_a_room_of_greeted_clients_counts_from_its_first_greeting(queue):
    queue.greeted("public", StateMark("le-khai-mac", 5))
    queue.greeted("public", StateMark("le-khai-mac", 7))  # says nothing of the first client
    catch_up(queue, StateMark("le-khai-mac", 7))
    assert catch_up(queue, StateMark("le-khai-mac", 7)) == ["public"]
    # Rooms nothing was sent to have no clients here: nothing to catch up.
    assert "mc" not in catch_up(queue, StateMark("le-khai-mac", 9))


def test_a_publish_to_an_absent_redis_fails_fast_and_then_waits_a_moment(queue, monkeypatch):
    attempts: list[str] = []
    publish = redis.Redis.publish

    def counted(client, channel, message):  # noqa: ANN001, ANN202
        attempts.append(channel)
        return publish(client, channel, message)

    monkeypatch.setattr(redis.Redis, "publish", counted)
    for _ in range(20):
        queue.server.emit("state", state(5), to="public")
    # One refused publish (tried again once, as for a connection Redis dropped), not twenty.
    assert 1 <= len(attempts) <= 2, attempts
    assert queue._sent["public"] == StateMark("le-khai-mac", 5)  # local clients got it
