"""A circuit breaker per destination: stop sending to a destination that keeps failing, probe it now and then.

Without it, a destination that is down would take every event through every retry, and a worker
would spend its time on timeouts. Open, the breaker refuses; after `open_s` it lets one probe
through; each failed probe doubles the wait (capped at `max_open_s`), one success closes it.
Pure, with an injected clock, so every transition is tested without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        open_s: float = 30.0,
        max_open_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, not {failure_threshold}")
        if open_s <= 0 or max_open_s < open_s:
            raise ValueError(f"need 0 < open_s <= max_open_s, not open_s={open_s}, max_open_s={max_open_s}")
        self._threshold = failure_threshold
        self._open_s = open_s
        self._max_open_s = max_open_s
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._open_until: float | None = None
        self._current_open_s = open_s
        self._probe_sent_at: float | None = None

    @property
    def state(self) -> CircuitState:
        """The state now: OPEN turns into HALF_OPEN by itself once `open_until` has passed."""
        if self._state is CircuitState.OPEN and self._open_until is not None and self._clock() >= self._open_until:
            self._state = CircuitState.HALF_OPEN
            self._open_until = None
            self._probe_sent_at = None
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    @property
    def open_until(self) -> float | None:
        """When the open circuit lets a probe through; None unless OPEN."""
        return self._open_until if self.state is CircuitState.OPEN else None

    def allow(self) -> bool:
        """Whether an attempt may go now; HALF_OPEN lets exactly one probe out at a time.

        A probe whose outcome is never recorded (its task was cancelled) would keep the circuit
        half-open forever, so one outstanding longer than `max_open_s` is presumed lost.
        """
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.OPEN:
            return False
        now = self._clock()
        if self._probe_sent_at is not None and now - self._probe_sent_at < self._max_open_s:
            return False
        self._probe_sent_at = now
        return True

    def record_success(self) -> None:
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._open_until = None
        self._current_open_s = self._open_s
        self._probe_sent_at = None

    def record_failure(self) -> None:
        state = self.state
        self._failures += 1
        if state is CircuitState.CLOSED:
            if self._failures >= self._threshold:
                self._open(self._open_s)
        elif state is CircuitState.HALF_OPEN:
            self._open(min(self._current_open_s * 2, self._max_open_s))
        # OPEN: a late result of an attempt allowed before the circuit opened; the wait stays as it is.

    def retry_at(self) -> float | None:
        """When OPEN, the clock time the next probe may go; else None."""
        return self.open_until

    def snapshot(self) -> dict[str, Any]:
        """JSON-serializable state for status reporting (`open_until` is on this breaker's clock)."""
        state = self.state
        return {"state": state.value, "consecutive_failures": self._failures, "open_until": self.open_until}

    def _open(self, duration_s: float) -> None:
        self._state = CircuitState.OPEN
        self._current_open_s = duration_s
        self._open_until = self._clock() + duration_s
        self._probe_sent_at = None
