"""The message queue between processes (Redis pub/sub), and catching up on what it lost.

Redis pub/sub hands a message only to the processes subscribed at that moment. While Redis
restarts, a process's publish fails (python-socketio logs it and gives up) and the other
processes' subscriptions are down until they subscribe again, so a change committed
meanwhile reaches the clients of the process that made it and no others. Nothing is lost
(the state is in the database) but those screens would stay behind until the next change.

So every process notes the newest state each of its rooms was sent, whether it made the
change itself or heard of it through the queue, and its heartbeat sends the database's
current state to a room that has been behind it for a whole beat. That also covers a
process that subscribed again only after a change went by. A client may then receive the
same state twice; it ignores one whose version is not newer than the one it shows.

Internals of python-socketio it relies on (pyproject.toml bounds its version): the
``RedisManager`` methods ``_handle_emit`` (every local delivery passes there, which is how a
room's state is noted), ``_publish`` and ``_redis_listen_with_retries`` (replaced, with a
timeout and a steady resubscription), and what those use (``_redis_connect``,
``_get_redis_module``, ``pubsub``, ``channel``, ``redis_url``, ``json``). ``RedisQueue``
checks them when it is made and logs one line; when one is missing it keeps the library's
own publishing and listening, and the heartbeat re-sends each new version of the database's
state to every local room once (``emit(..., ignore_queue=True)``, a public API).

Why noting beats re-sending, measured with ``bench/fanout.py`` (200 clients, 20 advances,
eventlet, this machine): a change costs the server about as much CPU again for each extra
send to every client, so re-sending every version once doubles the fan-out's work and
the bytes every screen receives, while noting costs a dictionary update per emit and
sends again only to rooms that missed a change. The figures are in the report of issue 9.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import socketio

from .internals import missing_attributes, report_path

logger = logging.getLogger(__name__)

# Seconds between attempts to subscribe again after Redis went away. python-socketio doubles
# its wait up to a minute, which after a long outage leaves a process deaf for as long again.
RESUBSCRIBE_SECONDS = 1.0

# Options of the Redis client: an unreachable Redis must fail an attempt quickly.
REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_keepalive": True}

# Seconds a publish may wait for Redis's answer. A publish runs inside the action whose
# change it announces, so a Redis that hangs (not gone: it accepts and never answers) must
# not hold that action up; the other processes catch up from the database meanwhile.
PUBLISH_TIMEOUT_SECONDS = 1.0

# Longest pause in publishing after failures in a row (it doubles from RESUBSCRIBE_SECONDS),
# so a Redis that stays broken costs an action a timeout only now and then.
LONGEST_QUIET_SECONDS = 16.0

FEATURE = "message queue"
OWN_PATH = "rooms' states noted, publish with a timeout (python-socketio 5.x internals present)"

# The manager's internals this module overrides or calls, looked up on a real instance.
MANAGER_NEEDS = (
    "_handle_emit",
    "_publish",
    "_redis_listen_with_retries",
    "_redis_connect",
    "_get_redis_module",
    "pubsub",
    "channel",
    "redis_url",
    "json.dumps",
)
REDIS_MODULE_NEEDS = (
    "Redis.from_url",
    "retry.Retry",
    "backoff.NoBackoff",
    "exceptions.TimeoutError",
)


class StateMark(NamedTuple):
    """Which state a room was sent: the event (its slug) and the state's version."""

    event: str
    version: int

    def is_older_than(self, other: StateMark) -> bool:
        """Say whether a room sent this state lacks ``other``."""
        return self.event != other.event or self.version < other.version


def is_redis_url(url: str | None) -> bool:
    """Say whether ``url`` names a Redis (or Valkey) server."""
    return bool(url) and urlsplit(url).scheme in ("redis", "rediss", "valkey", "valkeys")


def channel_for(url: str) -> str:
    """Return the pub/sub channel for a queue URL.

    Pub/sub channels are shared by every database of a Redis server, so the channel carries
    the URL's database number: installations given different numbers never hear each other.
    """
    database = urlsplit(url).path.strip("/") or "0"
    return f"runsheet:{database}"


def mark_of(state: Any) -> StateMark | None:
    """Return the mark of a pushed state JSON, or None if it is not one."""
    try:
        return StateMark(state["event"]["slug"], int(state["version"]))
    except (KeyError, TypeError, ValueError):
        return None


class RedisQueue(socketio.RedisManager):
    """python-socketio's Redis manager, noting the newest state sent to each local room."""

    name = "runsheet-redis"

    def __init__(self, url: str) -> None:
        super().__init__(url, channel=channel_for(url), redis_options=dict(REDIS_OPTIONS))
        self._sent: dict[str, StateMark] = {}  # room: newest state sent to it from here
        self._behind: dict[str, StateMark] = {}  # room: state it lacked at the last look
        # Held while a state is sent to local clients, so that the heartbeat never sends a
        # room an older state than the queue just did.
        self._lock = threading.RLock()
        self._quiet_until = 0.0  # monotonic time before which publishing is not tried
        self._failed_publishes = 0  # in a row
        self._publishing_client: Any = None
        self._resent: StateMark | None = None  # without noting: the last state re-sent
        self.noting = report_path(FEATURE, OWN_PATH, self.missing_internals())
        if self.noting:
            # On the instance, so that a library lacking one of them keeps its own methods.
            self._handle_emit = self._noting_handle_emit
            self._publish = self._publish_with_timeout
            self._redis_listen_with_retries = self._listen_resubscribing

    def missing_internals(self) -> list[str]:
        """Return the python-socketio (and redis) internals this manager lacks."""
        missing = missing_attributes(self, MANAGER_NEEDS, "RedisManager")
        if "RedisManager._get_redis_module" not in missing:
            try:
                module = self._get_redis_module()
            except Exception as error:  # noqa: BLE001 - any failure: the library changed
                return [*missing, f"RedisManager._get_redis_module() ({error})"]
            missing += missing_attributes(module, REDIS_MODULE_NEEDS, module.__name__)
        return missing

    # -- what each room got ------------------------------------------------------------

    def _noting_handle_emit(self, message: dict[str, Any]) -> None:
        # Every emit to local clients passes here: those of this process and those heard
        # through the queue.
        with self._lock:
            socketio.RedisManager._handle_emit(self, message)
            if message.get("event") == "state":
                data = message.get("data")
                mark = mark_of(data[0] if isinstance(data, list) and data else None)
                if mark is not None:
                    self._note(message.get("room"), mark)

    def _note(self, rooms: str | list[str] | None, mark: StateMark) -> None:
        for room in [rooms] if isinstance(rooms, str) else rooms or []:
            sent = self._sent.get(room)
            if sent is None or sent.is_older_than(mark):
                self._sent[room] = mark

    def greeted(self, room: str, mark: StateMark) -> None:
        """Note that a client joined ``room`` with the state ``mark``.

        A room nothing was broadcast to yet holds only greeted clients, so the first one
        tells what the room has; later ones say nothing about the clients already there.
        """
        with self._lock:
            self._sent.setdefault(room, mark)

    def catch_up(
        self, latest: StateMark, rooms: Iterable[str], send: Callable[[str], None]
    ) -> list[str]:
        """Call ``send(room)`` for each room still lacking the state it lacked a beat ago.

        ``rooms`` are every room a state goes to; ``send`` must send the state marked
        ``latest`` to the room's clients of this process only (``ignore_queue``): every
        process catches up its own clients.
        """
        rooms = list(rooms)
        if not self.noting:
            return self._resend_new_version(latest, rooms, send)
        with self._lock:
            # Forget what other rooms (single clients, greeted) were sent.
            self._sent = {room: self._sent[room] for room in rooms if room in self._sent}
            lagging = []
            for room in rooms:
                sent, lacked = self._sent.get(room), self._behind.get(room)
                if lacked is not None and (sent is None or sent.is_older_than(lacked)):
                    lagging.append(room)
            for room in lagging:
                send(room)
                self._sent[room] = latest
            self._behind = {
                room: latest
                for room in rooms
                if room in self._sent and self._sent[room].is_older_than(latest)
            }
        if lagging:
            logger.warning(
                "sent version %d to %d room(s) the message queue had not reached",
                latest.version,
                len(lagging),
            )
        return lagging

    def _resend_new_version(
        self, latest: StateMark, rooms: list[str], send: Callable[[str], None]
    ) -> list[str]:
        """Without noting what rooms got: send every room each state it may have missed."""
        with self._lock:
            if self._resent == latest:
                return []
            for room in rooms:
                send(room)
            self._resent = latest
        return rooms

    # -- talking to Redis ----------------------------------------------------------------

    def _publish_with_timeout(self, data: Any) -> Any:
        """Publish a message; after a failure, skip publishing for a while.

        The change is committed and this process's clients have it already; the other
        processes catch up from the database. Trying Redis again for each of the next
        emits would only hold up the actions that made the changes, so the pause doubles
        while Redis keeps failing. Publishing has a client of its own, with a timeout, so
        that neither a hung Redis nor reconnecting disturbs the subscription.
        """
        if time.monotonic() < self._quiet_until:
            return None
        errors = self._get_redis_module().exceptions
        for attempt in (1, 2):  # a connection Redis dropped fails once, then reconnects
            try:
                published = self._publisher().publish(self.channel, self.json.dumps(data))
            except Exception as error:  # noqa: BLE001 - any failure: Redis is not there
                if attempt == 1 and not isinstance(error, errors.TimeoutError):
                    continue
                self._failed_publishes += 1
                pause = RESUBSCRIBE_SECONDS * 2 ** (self._failed_publishes - 1)
                self._quiet_until = time.monotonic() + min(pause, LONGEST_QUIET_SECONDS)
                logger.error("could not publish to the message queue (%s)", error)
                return None
            if self._failed_publishes:
                logger.warning("publishing to the message queue again")
                self._failed_publishes = 0
            return published
        return None

    def _publisher(self) -> Any:
        """Return the Redis client that publishes: one try per call, answers within a second."""
        if self._publishing_client is None:
            module = self._get_redis_module()
            self._publishing_client = module.Redis.from_url(
                self.redis_url,
                **REDIS_OPTIONS,
                socket_timeout=PUBLISH_TIMEOUT_SECONDS,
                retry=module.retry.Retry(module.backoff.NoBackoff(), 0),
            )
        return self._publishing_client

    def _listen_resubscribing(self) -> Iterator[Mapping[str, Any]]:
        """Yield the channel's messages; when Redis goes away, subscribe again each second."""
        failures = 0
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                if failures:
                    logger.warning("the message queue is back after %d attempt(s)", failures)
                failures = 0
                yield from self.pubsub.listen()
            except Exception as error:  # noqa: BLE001 - whatever broke, subscribe again
                if failures == 0:
                    logger.error("lost the message queue (%s); subscribing again", error)
                failures += 1
                time.sleep(RESUBSCRIBE_SECONDS)
