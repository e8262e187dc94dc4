"""Token buckets: a sustained rate with room for bursts, one bucket per key (e.g. per ingest key).

Pure and clock-injected, so limits are tested without sleeping. `take` never blocks: it answers how
long to wait, which the HTTP layer turns into 429 + Retry-After.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

# Float refills (0.3 s at 10/s is 2.9999999999999 tokens) must not refuse a request by a rounding error.
_EPSILON = 1e-9


class TokenBucket:
    """`burst` tokens at most, refilled at `rate_per_s`; starts full so a new client is not refused at once."""

    def __init__(self, *, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        _check(rate_per_s, burst)
        self._rate = float(rate_per_s)
        self._burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    @property
    def rate_per_s(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    def take(self, n: int = 1) -> float:
        """0.0 and the tokens consumed when `n` are available; else the seconds until they will be (nothing consumed).

        A request for more than `burst` tokens could never be served by waiting, so it is let through
        when the bucket is full and leaves the bucket in debt: the long-run rate still holds.
        """
        if n < 0:
            raise ValueError(f"cannot take a negative number of tokens ({n})")
        self._refill()
        needed = min(float(n), float(self._burst))
        if self._tokens >= needed - _EPSILON:
            self._tokens -= n
            return 0.0
        return (needed - self._tokens) / self._rate

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)  # a clock that steps back must not drain the bucket
        self._tokens = min(float(self._burst), self._tokens + elapsed * self._rate)
        self._updated = now

    def _adopt(self, rate_per_s: float, burst: int) -> None:
        """New limits from a changed spec: tokens earned so far count at the old rate, then cap at the new burst."""
        _check(rate_per_s, burst)
        self._refill()
        self._rate = float(rate_per_s)
        self._burst = burst
        self._tokens = min(self._tokens, float(burst))


class RateLimiter:
    """One TokenBucket per key, the least recently used dropped beyond `max_keys` so memory stays bounded.

    A dropped bucket comes back full, which only ever errs towards letting a rarely seen key through.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, not {max_keys}")
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, *, rate_per_s: float, burst: int, n: int = 1) -> float:
        """As TokenBucket.take, on `key`'s bucket; the limits are passed each time so spec changes apply at once."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(rate_per_s=rate_per_s, burst=burst, clock=self._clock)
            self._buckets[key] = bucket
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            if bucket.rate_per_s != rate_per_s or bucket.burst != burst:
                bucket._adopt(rate_per_s, burst)
        return bucket.take(n)


def _check(rate_per_s: float, burst: int) -> None:
    if not rate_per_s > 0:
        raise ValueError(f"rate_per_s must be positive, not {rate_per_s}")
    if burst < 1:
        raise ValueError(f"burst must be at least 1, not {burst}")
