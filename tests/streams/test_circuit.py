"""The circuit breaker, every transition, on a fake clock."""

from __future__ import annotations

import json

import pytest

from streams.circuit import CircuitBreaker, CircuitState


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def opened(clock: FakeClock, **kwargs: float) -> CircuitBreaker:
    breaker = CircuitBreaker(failure_threshold=3, open_s=10, max_open_s=35, clock=clock, **kwargs)  # type: ignore[arg-type]
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    return breaker


def test_starts_closed_and_allows() -> None:
    breaker = CircuitBreaker(clock=FakeClock())
    assert breaker.state is CircuitState.CLOSED
    assert breaker.allow()
    assert breaker.allow()
    assert breaker.consecutive_failures == 0
    assert breaker.open_until is None
    assert breaker.retry_at() is None


def test_failures_below_the_threshold_keep_it_closed() -> None:
    breaker = CircuitBreaker(failure_threshold=3, clock=FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.consecutive_failures == 2
    assert breaker.allow()


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=3, clock=FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    assert breaker.consecutive_failures == 0
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED


def test_opens_at_the_threshold_and_refuses() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    assert breaker.consecutive_failures == 3
    assert breaker.open_until == 110
    assert breaker.retry_at() == 110
    assert not breaker.allow()


def test_turns_half_open_by_itself_when_the_open_time_has_passed() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    clock.now = 109.999
    assert breaker.state is CircuitState.OPEN
    clock.now = 110
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.open_until is None
    assert breaker.retry_at() is None


def test_half_open_allows_exactly_one_probe() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    clock.now = 110
    assert breaker.allow()
    assert not breaker.allow()
    assert not breaker.allow()


def test_a_successful_probe_closes() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    clock.now = 110
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.consecutive_failures == 0
    assert breaker.allow()
    assert breaker.allow()


def test_a_failed_probe_reopens_for_twice_as_long_up_to_the_cap() -> None:
    clock = FakeClock()
    breaker = opened(clock)  # open 10 s
    waits = []
    for _ in range(4):
        clock.now = breaker.open_until  # type: ignore[assignment]
        assert breaker.allow()
        breaker.record_failure()
        assert breaker.state is CircuitState.OPEN
        assert not breaker.allow()
        waits.append(breaker.open_until - clock.now)  # type: ignore[operator]
    assert waits == [20, 35, 35, 35]
    assert breaker.consecutive_failures == 7


def test_after_closing_the_next_opening_is_short_again() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    clock.now = 110
    assert breaker.allow()
    breaker.record_failure()  # now 20 s
    clock.now = 130
    assert breaker.allow()
    breaker.record_success()
    for _ in range(3):
        breaker.record_failure()
    assert breaker.open_until == 140


def test_a_late_failure_while_open_does_not_extend_the_wait() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    clock.now = 105
    breaker.record_failure()
    assert breaker.open_until == 110
    assert breaker.consecutive_failures == 4


def test_a_late_success_while_open_closes() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.allow()


def test_a_lost_probe_is_replaced_after_max_open_s() -> None:
    clock = FakeClock()
    breaker = opened(clock)
    clock.now = 110
    assert breaker.allow()  # this probe never reports back
    clock.now = 110 + 34.9
    assert not breaker.allow()
    clock.now = 110 + 35
    assert breaker.allow()
    assert not breaker.allow()


def test_snapshot_is_json_serializable_for_every_state() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, open_s=10, clock=clock)
    assert breaker.snapshot() == {"state": "closed", "consecutive_failures": 0, "open_until": None}
    breaker.record_failure()
    assert breaker.snapshot() == {"state": "open", "consecutive_failures": 1, "open_until": 110}
    clock.now = 110
    assert breaker.snapshot() == {"state": "half_open", "consecutive_failures": 1, "open_until": None}
    assert json.loads(json.dumps(breaker.snapshot()))["state"] == "half_open"


def test_state_values_are_strings() -> None:
    assert [s.value for s in CircuitState] == ["closed", "open", "half_open"]
    assert CircuitState.HALF_OPEN == "half_open"


@pytest.mark.parametrize("kwargs", [{"failure_threshold": 0}, {"open_s": 0}, {"open_s": 10, "max_open_s": 5}])
def test_unusable_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(clock=FakeClock(), **kwargs)  # type: ignore[arg-type]
