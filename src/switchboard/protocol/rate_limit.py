"""How many requests a connection may send: token buckets, pure, with an injected clock.

A :class:`RequestLimiter` answers, for each request as it arrives, whether to handle
it, refuse it (the client gets the error ``rate_limited`` and may try again), or close
the connection because the client ignores the refusals. Requests fill one bucket:
``rate`` a second on average, up to ``burst`` at once. Refusals fill a second bucket
of the same size: a client told to slow down that goes on sending at more than twice
the rate for long (or ``burst`` refusals at once) is flooding.
"""

import enum
import time
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` a second; each take spends one."""

    __slots__ = ("_clock", "_last", "_tokens", "capacity", "rate")

    def __init__(self, rate: float, capacity: float, clock: Clock = time.monotonic) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a bucket needs a positive rate and room for one token")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._last = clock()

    def take(self) -> bool:
        """Spend a token if there is one."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class Verdict(enum.Enum):
    HANDLE = "handle"
    REFUSE = "refuse"
    """Answer with ``rate_limited``."""
    CLOSE = "close"
    """The client went on flooding after being refused: close the connection."""


class RequestLimiter:
    """One connection's request budget."""

    __slots__ = ("_refusals", "_requests")

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        self._requests = TokenBucket(rate, burst, clock)
        self._refusals = TokenBucket(rate, burst, clock)

    def check(self) -> Verdict:
        """The verdict on one more request, arriving now."""
        if self._requests.take():
            return Verdict.HANDLE
        if self._refusals.take():
            return Verdict.REFUSE
        return Verdict.CLOSE
