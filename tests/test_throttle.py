"""The HTTP throttle: a flooder is refused with 429, everyone else is served, /healthz stays up.

The end-to-end test runs ``runsheet serve`` (eventlet) with its default allowance behind a
pretend reverse proxy (``RUNSHEET_TRUSTED_PROXIES=1``), so each caller's address comes from
``X-Forwarded-For`` as it would behind Caddy or nginx. The allowances themselves are plain
arithmetic, driven here with a clock the test moves.
"""

from __future__ import annotations

import time

import pytest
import requests

from runsheet.transports import throttle
from runsheet.transports.throttle import Allowances
from tests.conftest import make_app, tokens_of
from tests.live_server import WAIT_SECONDS, serve_command

# The served test's allowance: smaller than the default (20 a second after a burst of 200),
# so that a flood exceeds it however slowly a busy machine sends: at most BURST + RATE *
# seconds are served, and a caller sends several requests a second even on a loaded machine.
BURST = 20
RATE = 1
MOST_REQUESTS = 100 * BURST

FLOODER = "203.0.113.7"
NEIGHBOUR = "198.51.100.9"
WARD = "198.51.100.10"
ELSEWHERE = "192.0.2.44"


def _from(address: str, token: str | None = None) -> dict[str, str]:
    headers = {"X-Forwarded-For": address}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _flood_until_refused(session: requests.Session, url: str, headers: dict[str, str]):  # noqa: ANN202
    """Send requests as fast as one caller can until one is refused; return it and the count."""
    for served in range(MOST_REQUESTS):
        response = session.get(url, headers=headers, timeout=WAIT_SECONDS)
        if response.status_code != 200:
            return response, served
    raise AssertionError(f"{MOST_REQUESTS} requests from one caller were all served")


@pytest.fixture
def proxied_server(tmp_path):
    """Run ``runsheet serve`` with a small allowance, trusting one proxy in front."""
    yield from serve_command(
        tmp_path,
        RUNSHEET_TRUSTED_PROXIES="1",
        RUNSHEET_HTTP_REQUESTS_PER_SECOND=str(RATE),
        RUNSHEET_HTTP_BURST=str(BURST),
    )


@pytest.mark.slow
def test_a_flooding_caller_gets_429_while_other_callers_and_healthz_are_served(proxied_server):
    server = proxied_server
    mc_token, ward_token = server.tokens["mc"], server.tokens["thoi-an"]
    session = requests.Session()

    refused, served = _flood_until_refused(
        session, f"{server.url}/api/v1/state", _from(FLOODER, mc_token)
    )
    assert served >= BURST  # the whole burst first, as a Stream Deck or a console would
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Content-Type"].startswith("application/json")
    assert refused.json()["kind"] == "rate_limited"
    assert refused.json()["error"]

    # Another address, with no token: the public page, its state and a calendar file.
    for path in ("/api/v1/state", "/", "/calendar/ceremony.ics"):
        response = session.get(f"{server.url}{path}", headers=_from(NEIGHBOUR), timeout=10)
        assert response.status_code == 200, path
    # Another token from another address acts normally.
    checkin = session.post(
        f"{server.url}/api/v1/points/thoi-an/checkin",
        json={"by": "Kỹ thuật viên Thới An"},
        headers=_from(WARD, ward_token),
        timeout=WAIT_SECONDS,
    )
    assert checkin.status_code == 200, checkin.text

    # The service stays healthy, also for the flooder's load balancer at the same address.
    for _ in range(BURST + 10):  # more than any allowance would let through
        health = session.get(f"{server.url}/healthz", headers=_from(FLOODER), timeout=10)
        assert health.status_code == 200
    assert health.json()["status"] == "ok"

    # Waiting as long as it was told is enough for the flooder to be served again.
    time.sleep(int(refused.headers["Retry-After"]))
    again = session.get(f"{server.url}/api/v1/state", headers=_from(FLOODER, mc_token))
    assert again.status_code == 200


# So slow a refill that none happens during a test: what is refused stays refused.
NO_REFILL = {"HTTP_REQUESTS_PER_SECOND": 0.0001, "HTTP_BURST": 2, "TRUSTED_PROXIES": 1}


def test_a_token_has_one_allowance_whichever_address_it_comes_from(database_url):
    client = make_app(database_url, **NO_REFILL).test_client()
    for address in ("192.0.2.1", "192.0.2.2"):
        assert client.get("/api/v1/state", headers=_from(address, "t")).status_code != 429
    refused = client.get("/api/v1/state", headers=_from("192.0.2.3", "t"))
    assert refused.status_code == 429
    assert client.get("/api/v1/state", headers=_from("192.0.2.3", "u")).status_code != 429


def test_an_address_has_one_allowance_whichever_tokens_it_shows(database_url):
    client = make_app(database_url, **NO_REFILL).test_client()
    for token in ("t", "u"):
        assert client.get("/api/v1/state", headers=_from("192.0.2.1", token)).status_code != 429
    for token in ("v", None):
        refused = client.get("/api/v1/state", headers=_from("192.0.2.1", token))
        assert refused.status_code == 429
    assert client.get("/api/v1/state", headers=_from("192.0.2.2")).status_code == 200


def test_without_trusted_proxies_the_forwarded_address_is_ignored(database_url):
    settings = {**NO_REFILL, "TRUSTED_PROXIES": 0}
    client = make_app(database_url, **settings).test_client()
    for address in ("192.0.2.1", "192.0.2.2"):
        assert client.get("/api/v1/state", headers=_from(address)).status_code == 200
    # Both came from the test client's own address, whose burst of two is used up.
    assert client.get("/api/v1/state", headers=_from("192.0.2.3")).status_code == 429


def test_with_a_trusted_proxy_each_forwarded_address_has_its_own_allowance(database_url):
    client = make_app(database_url, **NO_REFILL).test_client()
    for _ in range(2):
        assert client.get("/api/v1/state", headers=_from("192.0.2.1")).status_code == 200
    assert client.get("/api/v1/state", headers=_from("192.0.2.1")).status_code == 429
    assert client.get("/api/v1/state", headers=_from("192.0.2.2")).status_code == 200


def test_a_page_token_in_the_link_or_its_cookie_is_charged_like_a_bearer_token(database_url):
    app = make_app(database_url, **NO_REFILL)
    token = tokens_of(app)["mc"]
    client = app.test_client()
    opened = client.get(f"/mc?token={token}", headers=_from("192.0.2.1"))
    assert opened.status_code == 303  # to the clean address, the token now in a cookie
    assert client.get("/mc", headers=_from("192.0.2.2")).status_code == 200
    refused = client.get("/api/v1/state", headers=_from("192.0.2.3", token))
    assert refused.status_code == 429
    assert refused.get_json()["kind"] == "rate_limited"


def test_a_zero_rate_turns_the_throttle_off(database_url):
    client = make_app(database_url, HTTP_REQUESTS_PER_SECOND=0, HTTP_BURST=1).test_client()
    assert all(client.get("/api/v1/state").status_code == 200 for _ in range(5))


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_refused_caller_is_told_how_long_to_wait_and_served_after_it():
    clock = Clock()
    allowances = Allowances(rate=4, burst=2, clock=clock)
    assert allowances.take(["a"]) is None
    assert allowances.take(["a"]) is None
    assert allowances.take(["a"]) == pytest.approx(0.25)
    clock.now += 0.25
    assert allowances.take(["a"]) is None


def test_a_request_refused_for_its_token_costs_its_address_nothing():
    clock = Clock()
    allowances = Allowances(rate=1, burst=1, clock=clock)
    assert allowances.take([("address", "x"), ("token", "t")]) is None
    assert allowances.take([("address", "y"), ("token", "t")]) is not None
    assert allowances.take([("address", "y")]) is None


def test_idle_callers_are_forgotten_once_their_allowance_is_whole_again():
    clock = Clock()
    allowances = Allowances(rate=10, burst=20, clock=clock)
    for caller in range(50):
        allowances.take([caller])
    assert len(allowances) == 50
    clock.now += 2  # burst / rate: every bucket is full again
    allowances.take(["newcomer"])
    assert len(allowances) == 1


def test_a_flood_from_many_addresses_cannot_grow_memory_past_the_bound(monkeypatch):
    monkeypatch.setattr(throttle, "MAX_CALLERS", 100)
    allowances = Allowances(rate=1, burst=5, clock=Clock())
    for caller in range(1000):
        allowances.take([caller])
    assert len(allowances) == 100
