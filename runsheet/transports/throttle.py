"""The HTTP allowance: how many requests each caller may send, answered 429 beyond it.

Every HTTP request (the API, the pages, the calendar files) is charged to its client
address and, when it carries a token (``Authorization: Bearer``, ``?token=`` or a page's
cookie), to that token too; it is served only when both have an allowance left, as the
sockets share one allowance per token (``sockets.py``). So a flooder is refused whichever
token it shows or invents, a token used from many addresses still has one allowance, and
everyone else is served as before. Refused requests get 429, a ``Retry-After`` in whole
seconds and the JSON error ``{"error", "kind": "rate_limited"}``.

``/healthz`` is never throttled (a load balancer must see the truth), nor are the pages'
static files, which a browser fetches a dozen at a time, which cost no database read, and
which are cached. Socket.IO requests never reach Flask's hooks: the Engine.IO middleware
answers them, and the sockets have their own throttle.

The client address is ``request.remote_addr``; behind a reverse proxy that is the proxy's
address for everyone, so ``TRUSTED_PROXIES`` (the number of proxies in front) makes
werkzeug's ProxyFix take it from ``X-Forwarded-For`` instead.

Memory stays bounded: a caller idle long enough for its bucket to be full again is
forgotten (a full bucket is what a new caller gets anyway), and beyond ``MAX_CALLERS`` the
least recently seen are forgotten first.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from ..services.ratelimit import TokenBucket
from .auth import MC_COOKIE, ORGANIZER_COOKIE, POINT_COOKIE_PREFIX
from .errors import error_response

logger = logging.getLogger(__name__)

# Paths (prefixes) served without charging anyone's allowance.
UNTHROTTLED = ("/healthz", "/static/")
# Callers remembered at most; a flood from many addresses cannot grow memory past this.
MAX_CALLERS = 10_000


class Allowances:
    """One token bucket per caller, forgotten once idle, with a lock around them all."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        # Least recently seen first, so that idle callers are found at the front.
        self._buckets: OrderedDict[Hashable, TokenBucket] = OrderedDict()
        self._lock = threading.Lock()
        # A bucket left alone this long is full again, so forgetting it changes nothing.
        self._idle_seconds = burst / rate

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, callers: list[Hashable]) -> float | None:
        """Charge one request to every caller; return None, or the seconds to wait if refused.

        Nothing is taken from anyone unless every caller has an allowance left, so a
        request refused for its token does not also use up its address's allowance.
        """
        now = self.clock()
        with self._lock:
            self._forget_idle(now)
            buckets = [self._bucket(caller) for caller in callers]
            for bucket in buckets:
                bucket.take(now, cost=0)  # brings its count up to date
            short = [bucket for bucket in buckets if bucket.tokens < 1]
            if short:
                return max((1 - bucket.tokens) / self.rate for bucket in short)
            for bucket in buckets:
                bucket.take(now)
            return None

    def _bucket(self, caller: Hashable) -> TokenBucket:
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = self._buckets[caller] = TokenBucket(self.rate, self.burst)
        else:
            self._buckets.move_to_end(caller)
        return bucket

    def _forget_idle(self, now: float) -> None:
        while self._buckets:
            caller, oldest = next(iter(self._buckets.items()))
            idle = oldest.updated_at is not None and now - oldest.updated_at >= self._idle_seconds
            if not idle and len(self._buckets) < MAX_CALLERS:
                return
            del self._buckets[caller]


def callers_of_request() -> list[Hashable]:
    """Return who the current request is charged to: its address, and its token if any."""
    callers: list[Hashable] = [("address", request.remote_addr or "unknown")]
    token = _token_of_request()
    if token:
        # Kept as a digest, so that this process's memory holds no usable token.
        callers.append(("token", hashlib.sha256(token.encode()).digest()[:16]))
    return callers


def _token_of_request() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if request.args.get("token"):
        return request.args["token"]
    for name in sorted(request.cookies):
        if name in (MC_COOKIE, ORGANIZER_COOKIE) or name.startswith(POINT_COOKIE_PREFIX):
            return request.cookies[name]
    return None


def rate_limited_response(wait_seconds: float) -> Response:
    """Return the 429 answer to a refused request, with ``Retry-After`` in whole seconds."""
    response = error_response(
        429,
        "too many requests; wait a moment and try again",
        kind="rate_limited",
    )
    response.headers["Retry-After"] = str(max(1, math.ceil(wait_seconds)))
    return response


def register_throttle(app: Flask) -> None:
    """Throttle the app's HTTP requests per caller, and trust the configured proxies."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    rate = float(app.config.get("HTTP_REQUESTS_PER_SECOND") or 0)
    if rate <= 0:
        return  # 0 turns the throttle off
    allowances = Allowances(rate, int(app.config["HTTP_BURST"]))
    app.extensions["runsheet_http_allowances"] = allowances
    warned_about_proxy = threading.Event()

    @app.before_request
    def _throttle() -> Response | None:
        if request.path.startswith(UNTHROTTLED):
            return None
        proxied = "X-Forwarded-For" in request.headers
        if proxies == 0 and proxied and not warned_about_proxy.is_set():
            warned_about_proxy.set()
            logger.warning(
                "requests come through a proxy (X-Forwarded-For) but RUNSHEET_TRUSTED_PROXIES "
                "is 0: every caller shares the proxy's HTTP allowance; set it to the number "
                "of proxies in front"
            )
        wait = allowances.take(callers_of_request())
        return None if wait is None else rate_limited_response(wait)
