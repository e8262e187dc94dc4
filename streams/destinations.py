"""Per-destination runtime state in one worker: a concurrency limit and a circuit breaker.

Shared by the delivery and retry stages, so a destination's limit and health are one thing.
Health changes are reported through `on_change` (published to the status topic by the app).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streams.circuit import CircuitBreaker, CircuitState
from streams.observability import CIRCUIT_STATE
from streams.spec import HttpDestinationSpec

logger = logging.getLogger("switchyard.destinations")

_CIRCUIT_VALUE = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


@dataclass
class DestinationRuntime:
    id: str
    breaker: CircuitBreaker
    limit: asyncio.Semaphore
    max_concurrency: int
    last_state: CircuitState = CircuitState.CLOSED
    stats: dict[str, int] = field(default_factory=lambda: {"delivered": 0, "failed": 0})


class DestinationStates:
    def __init__(self, *, on_change: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self._states: dict[str, DestinationRuntime] = {}
        self._on_change = on_change

    def get(self, spec: HttpDestinationSpec) -> DestinationRuntime:
        # One destination shared by several pipelines is one health; the URL guards against id reuse.
        key = f"{spec.id} {spec.url}"
        state = self._states.get(key)
        if state is None or state.max_concurrency != spec.max_concurrency:
            breaker = (
                state.breaker
                if state
                else CircuitBreaker(failure_threshold=spec.circuit_failure_threshold, open_s=spec.circuit_open_s)
            )
            state = DestinationRuntime(
                id=spec.id,
                breaker=breaker,
                limit=asyncio.Semaphore(spec.max_concurrency),
                max_concurrency=spec.max_concurrency,
            )
            self._states[key] = state
        return state

    def record(self, state: DestinationRuntime, *, success: bool) -> None:
        if success:
            state.breaker.record_success()
            state.stats["delivered"] += 1
        else:
            state.breaker.record_failure()
            state.stats["failed"] += 1
        self._report(state)

    def _report(self, state: DestinationRuntime) -> None:
        current = state.breaker.state
        CIRCUIT_STATE.labels(state.id).set(_CIRCUIT_VALUE[current])
        if current != state.last_state:
            logger.warning("destination %s circuit %s -> %s", state.id, state.last_state, current)
            state.last_state = current
            if self._on_change is not None:
                self._on_change(state.id, self.snapshot(state))

    @staticmethod
    def snapshot(state: DestinationRuntime) -> dict[str, Any]:
        snapshot = {"destination": state.id, **state.breaker.snapshot(), **state.stats}
        if snapshot.get("open_until") is not None:  # the breaker's clock is monotonic; readers want wall time
            snapshot["open_until"] = time.time() + (snapshot["open_until"] - time.monotonic())
        return snapshot

    def snapshots(self) -> list[dict[str, Any]]:
        return [self.snapshot(s) for s in self._states.values()]
