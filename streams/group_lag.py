"""How far a consumer group is behind on a topic, from its committed offsets.

The replay stage asks before each replayed record, so answers are cached for a moment: at most
five admin round trips a second per (group, topic), however fast the job runs. The cache is short
because a waiting job goes on only when a measurement shows the group caught up (measured: with a
1 s cache, a job at a 200-record limit replayed 167 ev/s; the pipeline could take 600). Between two
measurements the replay adds what it produced itself (`produced`), so the estimate never
lags behind the replay's own output and a job stops right at its limit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

logger = logging.getLogger("switchyard.group_lag")


def lag_of(committed: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]) -> int:
    """Records between each committed offset and its partition's end, summed.

    A partition the group never committed on counts as 0: the group has not joined it yet (a new
    pipeline starts at its activation time, not at the start of the topic), so there is no backlog to protect.
    """
    return sum(max(0, ends.get(tp, offset) - offset) for tp, offset in committed.items() if offset >= 0)


class GroupLag:
    def __init__(
        self,
        *,
        admin: AIOKafkaAdminClient,
        offsets_reader: AIOKafkaConsumer,
        max_age_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._admin = admin
        self._reader = offsets_reader  # a started, group-less consumer: only its end-offset lookups are used
        self._max_age_s = max_age_s
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, int]] = {}

    async def lag(self, group: str, topic: str) -> int:
        cached = self._cache.get((group, topic))
        if cached is not None and self._clock() - cached[0] < self._max_age_s:
            return cached[1]
        lag = await self._measure(group, topic)
        self._cache[(group, topic)] = (self._clock(), lag)
        return lag

    def produced(self, group: str, topic: str, records: int = 1) -> None:
        """`records` more for `group` to read on `topic`, written since the last measurement."""
        cached = self._cache.get((group, topic))
        if cached is not None:
            self._cache[(group, topic)] = (cached[0], cached[1] + records)

    async def _measure(self, group: str, topic: str) -> int:
        try:
            offsets = await self._admin.list_consumer_group_offsets(group)
            committed = {tp: meta.offset for tp, meta in offsets.items() if tp.topic == topic}
            ends = await self._reader.end_offsets(list(committed)) if committed else {}
        except Exception as exc:  # a lag we cannot read must not stop replays: Kafka's own errors show elsewhere
            logger.warning("lag of %s on %s unknown: %r", group, topic, exc)
            return 0
        return lag_of(committed, ends)
