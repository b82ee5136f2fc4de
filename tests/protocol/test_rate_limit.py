"""Token buckets on an injected clock: no test waits for time to pass."""

import pytest

from switchboard.protocol.rate_limit import RequestLimiter, TokenBucket, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, capacity=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token back
    assert [bucket.take() for _ in range(2)] == [True, False]
    clock.now += 100  # never more than the capacity
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_a_bucket_needs_a_rate_and_room() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(rate=0, capacity=1)
    with pytest.raises(ValueError, match="room"):
        TokenBucket(rate=1, capacity=0)


def test_requests_past_the_burst_are_refused_then_a_flood_is_closed() -> None:
    clock = Clock()
    limiter = RequestLimiter(rate=1.0, burst=2, clock=clock)
    verdicts = [limiter.check() for _ in range(5)]
    assert verdicts == [
        Verdict.HANDLE,
        Verdict.HANDLE,
        Verdict.REFUSE,
        Verdict.REFUSE,
        Verdict.CLOSE,
    ]


def test_a_client_that_slows_down_after_a_refusal_goes_on() -> None:
    clock = Clock()
    limiter = RequestLimiter(rate=4.0, burst=1, clock=clock)
    for _ in range(100):  # at twice the rate: every other request refused, never closed
        assert limiter.check() is Verdict.HANDLE
        clock.now += 0.125  # (binary fractions: no rounding)
        assert limiter.check() is Verdict.REFUSE
        clock.now += 0.125


def test_sending_at_three_times_the_rate_is_a_flood() -> None:
    clock = Clock()
    limiter = RequestLimiter(rate=4.0, burst=5, clock=clock)
    verdicts = []
    for _ in range(300):
        verdicts.append(limiter.check())
        clock.now += 0.0625  # 16 a second
    assert Verdict.CLOSE in verdicts
    assert verdicts.count(Verdict.HANDLE) >= 5
