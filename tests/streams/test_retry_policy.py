"""Retry delays: the schedule, jittered, exhausted into the DLQ, never sooner than Retry-After."""

from __future__ import annotations

import random

import pytest

from streams.retry_policy import next_delay_s

SCHEDULE = (1.0, 10.0, 60.0)


def test_without_jitter_the_delay_is_the_scheduled_one() -> None:
    assert [next_delay_s(SCHEDULE, attempt, jitter=0) for attempt in (1, 2, 3)] == [1.0, 10.0, 60.0]


def test_exhausted_after_the_last_scheduled_delay() -> None:
    assert next_delay_s(SCHEDULE, 4) is None
    assert next_delay_s(SCHEDULE, 40, retry_after_s=5) is None
    assert next_delay_s((), 1) is None


def test_jitter_is_multiplicative_and_uniform_with_a_seeded_rng() -> None:
    expected_factor = random.Random(7).uniform(0.8, 1.2)
    assert next_delay_s(SCHEDULE, 2, rng=random.Random(7)) == pytest.approx(10.0 * expected_factor)


def test_jitter_stays_within_bounds_and_varies() -> None:
    rng = random.Random(42)
    delays = [next_delay_s(SCHEDULE, 2, jitter=0.2, rng=rng) for _ in range(500)]
    assert all(d is not None and 8.0 <= d <= 12.0 for d in delays)
    assert min(delays) < 8.5  # type: ignore[type-var]
    assert max(delays) > 11.5  # type: ignore[type-var]


def test_same_seed_same_delays() -> None:
    first = [next_delay_s(SCHEDULE, a, rng=random.Random(3)) for a in (1, 2, 3)]
    again = [next_delay_s(SCHEDULE, a, rng=random.Random(3)) for a in (1, 2, 3)]
    assert first == again


def test_retry_after_is_a_floor() -> None:
    assert next_delay_s(SCHEDULE, 1, retry_after_s=30, rng=random.Random(1)) == 30


def test_a_shorter_retry_after_does_not_shorten_the_schedule() -> None:
    assert next_delay_s(SCHEDULE, 2, retry_after_s=1, jitter=0) == 10.0


def test_retry_after_is_capped_at_the_largest_scheduled_delay() -> None:
    assert next_delay_s(SCHEDULE, 1, retry_after_s=86_400, jitter=0) == 60.0


def test_a_negative_retry_after_is_ignored() -> None:
    assert next_delay_s(SCHEDULE, 1, retry_after_s=-5, jitter=0) == 1.0


def test_default_rng_works() -> None:
    delay = next_delay_s(SCHEDULE, 3)
    assert delay is not None
    assert 48.0 <= delay <= 72.0


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempt_counts_attempts_made(attempt: int) -> None:
    with pytest.raises(ValueError):
        next_delay_s(SCHEDULE, attempt)


@pytest.mark.parametrize("jitter", [-0.1, 1.5])
def test_jitter_out_of_range_is_refused(jitter: float) -> None:
    with pytest.raises(ValueError):
        next_delay_s(SCHEDULE, 1, jitter=jitter)
