"""The message queue between processes (Redis pub/sub), and catching up on what it lost.

Redis pub/sub hands a message only to the processes subscribed at that moment. While Redis
restarts, a process's publish fails (python-socketio logs it and gives up) and the other
processes' subscriptions are down until they subscribe again, so a change committed
meanwhile reaches the clients of the process that made it and no others. Nothing is lost
(the state is in the database) but those screens would stay behind until the next change.

So the heartbeat (``heartbeat.py``) sends the database's current state to this process's
own clients (``emit(..., ignore_queue=True)``, python-socketio's public API) whenever it is
newer than what this process last broadcast or caught up: a beat after a change at most,
whichever way the change went. A client may then receive the same state twice; it ignores
one whose version is not newer than the one it shows.

That replaced an override of ``RedisManager._handle_emit`` that noted what each room had
been sent, so that only rooms the queue missed were sent the state again. Measured with
``bench/fanout.py --processes 2 --clients 200 --advances 20 --interval 1000`` (two
processes, Redis, PostgreSQL, on a 2-core machine where other work used 1.9 cores, so the
latencies are mostly that work's): noting, server CPU 6.8 % of a core, p50 87.5 ms, last
client p99 420 ms; re-sending, 7.1 %, p50 47.1 ms, p99 183 ms; this code, 7.6 %, p50
142 ms, p99 849 ms. The same within the noise, so the public path won.
Its price: the clients of a process that did not make a change get that state a second
time at the next beat (at most one repeat per beat), which they ignore.

What stays internal, for want of a public hook: ``_publish`` (replaced: a client of its
own with a timeout, and a pause after failures, so a hung Redis holds no action up) and
``_redis_listen_with_retries`` (replaced: subscribe again each second instead of doubling
the wait up to a minute), and what they call (``_redis_connect``, ``_get_redis_module``,
``pubsub``, ``channel``, ``redis_url``, ``json``). ``RedisQueue`` checks them when it is
made and logs one line; when one is missing it keeps the library's own publishing and
listening, with a warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any
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
OWN_PATH = "publish with a timeout, resubscribe each second (python-socketio 5.x internals)"

# The manager's internals this module overrides or calls, looked up on a real instance.
MANAGER_NEEDS = (
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


class RedisQueue(socketio.RedisManager):
    """python-socketio's Redis manager: publishing with a timeout, resubscribing steadily."""

    name = "runsheet-redis"

    def __init__(self, url: str) -> None:
        super().__init__(url, channel=channel_for(url), redis_options=dict(REDIS_OPTIONS))
        self._quiet_until = 0.0  # monotonic time before which publishing is not tried
        self._failed_publishes = 0  # in a row
        self._publishing_client: Any = None
        self.fenced = report_path(FEATURE, OWN_PATH, self.missing_internals())
        if self.fenced:
            # On the instance, so that a library lacking one of them keeps its own methods.
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
                    # Redis answers again: publish at once rather than wait out the pause
                    # that failed publishes set, or the other processes would miss changes.
                    self._quiet_until = 0.0
                failures = 0
                yield from self.pubsub.listen()
            except Exception as error:  # noqa: BLE001 - whatever broke, subscribe again
                if failures == 0:
                    logger.error("lost the message queue (%s); subscribing again", error)
                failures += 1
                time.sleep(RESUBSCRIBE_SECONDS)
