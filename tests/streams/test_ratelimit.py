"""Token buckets and the per-key limiter, driven by a fake clock (no sleeping)."""

from __future__ import annotations

import pytest

from streams.ratelimit import RateLimiter, TokenBucket


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- TokenBucket ------------------------------------------------------------------------------


def test_a_new_bucket_allows_a_full_burst_then_refuses() -> None:
    bucket = TokenBucket(rate_per_s=1, burst=3, clock=FakeClock())
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(1.0)


def test_refusal_says_how_long_to_wait_and_consumes_nothing() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=2, burst=4, clock=clock)
    assert bucket.take(3) == 0.0  # 1 token left
    assert bucket.take(4) == pytest.approx(1.5)  # 3 more at 2/s
    assert bucket.take(4) == pytest.approx(1.5)  # the refusal did not consume the remaining token
    clock.advance(1.5)
    assert bucket.take(4) == 0.0
    assert bucket.take() == pytest.approx(0.5)


def test_tokens_refill_at_the_rate_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=10, burst=5, clock=clock)
    assert bucket.take(5) == 0.0
    clock.advance(0.3)
    assert bucket.take(3) == 0.0
    assert bucket.take() == pytest.approx(0.1)
    clock.advance(3600)  # a long pause earns no more than the burst
    assert bucket.take(5) == 0.0
    assert bucket.take() == pytest.approx(0.1)


def test_a_clock_stepping_back_does_not_drain_the_bucket() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=1, burst=2, clock=clock)
    clock.advance(-50)
    assert bucket.take(2) == 0.0


def test_more_than_the_burst_passes_only_from_a_full_bucket_and_leaves_a_debt() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=1, burst=2, clock=clock)
    assert bucket.take() == 0.0
    assert bucket.take(5) == pytest.approx(1.0)  # waits until the bucket is full again, not forever
    clock.advance(1)
    assert bucket.take(5) == 0.0  # 2 - 5 = -3 tokens
    assert bucket.take() == pytest.approx(4.0)  # the debt is repaid at the rate


def test_take_zero_is_free() -> None:
    bucket = TokenBucket(rate_per_s=1, burst=1, clock=FakeClock())
    assert bucket.take() == 0.0
    assert bucket.take(0) == 0.0


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_unusable_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate_per_s=rate, burst=burst, clock=FakeClock())


def test_negative_take_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate_per_s=1, burst=1, clock=FakeClock()).take(-1)


# --- RateLimiter ------------------------------------------------------------------------------


def test_each_key_has_its_own_bucket() -> None:
    limiter = RateLimiter(clock=FakeClock())
    assert limiter.take("a", rate_per_s=1, burst=1) == 0.0
    assert limiter.take("a", rate_per_s=1, burst=1) == pytest.approx(1.0)
    assert limiter.take("b", rate_per_s=1, burst=1) == 0.0


def test_limiter_refills_with_the_clock() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    assert limiter.take("a", rate_per_s=4, burst=2, n=2) == 0.0
    assert limiter.take("a", rate_per_s=4, burst=2) == pytest.approx(0.25)
    clock.advance(0.25)
    assert limiter.take("a", rate_per_s=4, burst=2) == 0.0


def test_least_recently_used_bucket_is_evicted_beyond_max_keys() -> None:
    limiter = RateLimiter(clock=FakeClock(), max_keys=2)
    for key in ("a", "b"):
        assert limiter.take(key, rate_per_s=1, burst=1) == 0.0
    assert limiter.take("a", rate_per_s=1, burst=1) > 0  # "a" used more recently than "b"
    assert limiter.take("c", rate_per_s=1, burst=1) == 0.0  # evicts "b"
    assert len(limiter) == 2
    assert limiter.take("a", rate_per_s=1, burst=1) > 0  # still remembered: still empty
    assert limiter.take("b", rate_per_s=1, burst=1) == 0.0  # forgotten: a fresh, full bucket


def test_a_key_adopts_new_limits() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    assert limiter.take("a", rate_per_s=1, burst=10, n=10) == 0.0
    assert limiter.take("a", rate_per_s=1, burst=10) == pytest.approx(1.0)
    assert limiter.take("a", rate_per_s=4, burst=10) == pytest.approx(0.25)  # faster refill applies at once
    clock.advance(0.5)
    assert limiter.take("a", rate_per_s=4, burst=10, n=2) == 0.0


def test_a_lower_burst_caps_the_saved_tokens() -> None:
    limiter = RateLimiter(clock=FakeClock())
    assert limiter.take("a", rate_per_s=1, burst=10) == 0.0  # 9 left
    assert limiter.take("a", rate_per_s=1, burst=3, n=3) == 0.0  # capped to 3, all taken
    assert limiter.take("a", rate_per_s=1, burst=3) == pytest.approx(1.0)


def test_tokens_earned_before_a_change_count_at_the_old_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    assert limiter.take("a", rate_per_s=1, burst=10, n=10) == 0.0
    clock.advance(2)  # 2 tokens earned at 1/s
    assert limiter.take("a", rate_per_s=100, burst=10, n=3) == pytest.approx(0.01)


def test_max_keys_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RateLimiter(max_keys=0)
