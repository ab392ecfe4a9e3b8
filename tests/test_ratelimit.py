"""The rate limiter: a token bucket and the throttle that slows, then drops, a flooder."""

from __future__ import annotations

import pytest

from runsheet.services.ratelimit import EventThrottle, TokenBucket, Verdict


def test_a_full_bucket_allows_its_capacity_at_once_and_then_nothing():
    bucket = TokenBucket(rate=2, capacity=3)

    assert [bucket.take(now=10.0) for _ in range(4)] == [True, True, True, False]


def test_a_bucket_refills_at_its_rate_up_to_its_capacity():
    bucket = TokenBucket(rate=2, capacity=3)
    for _ in range(3):
        bucket.take(now=0.0)

    assert bucket.take(now=0.4) is False  # 0.8 of a token so far
    assert bucket.take(now=0.5) is True  # one token after half a second
    assert bucket.take(now=0.5) is False
    assert [bucket.take(now=100.0) for _ in range(4)] == [True, True, True, False]


def test_a_clock_that_steps_back_mints_no_tokens():
    bucket = TokenBucket(rate=1, capacity=1)
    assert bucket.take(now=50.0)

    assert bucket.take(now=10.0) is False
    assert bucket.take(now=50.5) is False
    assert bucket.take(now=51.0) is True


def test_a_bucket_needs_a_sensible_rate_and_capacity():
    with pytest.raises(ValueError):
        TokenBucket(rate=-1, capacity=5)
    with pytest.raises(ValueError):
        TokenBucket(rate=1, capacity=0)


def test_a_client_at_a_steady_allowed_rate_is_never_refused():
    throttle = EventThrottle(rate=5, burst=3, patience=2)

    verdicts = {throttle.check(now=n * 0.2) for n in range(500)}

    assert verdicts == {Verdict.ALLOW}


def test_a_burst_is_allowed_then_refused_then_the_flooder_is_dropped_for_good():
    throttle = EventThrottle(rate=5, burst=3, patience=2)

    verdicts = [throttle.check(now=0.0) for _ in range(7)]

    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.REFUSE] * 2 + [Verdict.DISCONNECT] * 2
    assert throttle.check(now=1000.0) is Verdict.DISCONNECT


def test_an_occasional_refusal_does_not_use_up_patience_for_good():
    throttle = EventThrottle(rate=1, burst=1, patience=2)
    now = 0.0
    for _ in range(20):  # every few seconds: two clicks in quick succession
        assert throttle.check(now) is Verdict.ALLOW
        assert throttle.check(now + 0.01) is Verdict.REFUSE
        now += 3.0

    assert throttle.gave_up is False
