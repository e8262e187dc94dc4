"""Keeps one running task per pipeline stage the registry asks for, and restarts any that crash.

Desired tasks: a transform per pipeline that is active or paused (paused ones hold their
position), a delivery per destination of those pipelines. A new spec adds tasks, a removed
pipeline or destination stops them; a changed revision needs nothing (stages read the registry).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from streams.registry import SpecRegistry

logger = logging.getLogger("switchyard.supervisor")

TaskKey = tuple[str, ...]
Runner = Callable[[], Coroutine[Any, Any, None]]
RESTART_DELAY_S = 2.0


def desired_tasks(registry: SpecRegistry) -> set[TaskKey]:
    keys: set[TaskKey] = set()
    for spec in registry.pipelines():
        if spec.state not in ("active", "paused"):
            continue
        keys.add(("transform", spec.id, spec.source_topic))
        for destination in spec.destinations:
            keys.add(("deliver", spec.id, destination.id, spec.target_topic))
    return keys


class Supervisor:
    def __init__(self, *, registry: SpecRegistry, runner_for: Callable[[TaskKey], Runner]) -> None:
        self._registry = registry
        self._runner_for = runner_for
        self._tasks: dict[TaskKey, asyncio.Task[None]] = {}

    @property
    def running(self) -> set[TaskKey]:
        return set(self._tasks)

    def reconcile(self) -> None:
        desired = desired_tasks(self._registry)
        for key in set(self._tasks) - desired:
            logger.info("stopping %s", "/".join(key))
            self._tasks.pop(key).cancel()
        for key in desired - set(self._tasks):
            logger.info("starting %s", "/".join(key))
            self._tasks[key] = asyncio.create_task(self._supervise(key), name="/".join(key))

    async def _supervise(self, key: TaskKey) -> None:
        while True:
            try:
                await self._runner_for(key)()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                # A bug or an outage in one stage must not take the others down: log, wait, restart.
                logger.exception("%s crashed; restarting in %.0fs", "/".join(key), RESTART_DELAY_S)
                await asyncio.sleep(RESTART_DELAY_S)

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
