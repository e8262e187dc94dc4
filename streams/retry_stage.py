"""Retry stage: makes every due retry from the `retry` topics, without blocking on the ones not due.

Records are read as they arrive and held in a time-ordered heap until due; a partition's offset
is committed only up to its oldest record not yet handled. Retry state therefore lives in Kafka
(the topic plus the committed offset): a worker killed and restarted reads the pending retries
again from the committed offset and makes each of them. One consumer group per environment
(`switchyard-<env>-retry`), subscribed by pattern, so new streams' retry topics are included.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition

from connectors.http_sink import HttpDestination
from streams import envelope
from streams.consumer_loop import to_record
from streams.delivery_stage import attempt_delivery, find_destination
from streams.destinations import DestinationStates
from streams.exceptions import DeliveryFailed
from streams.observability import PENDING_RETRIES, UNDELIVERED
from streams.registry import SpecRegistry
from streams.topics import Variant, variant_pattern
from streams.transform import Outgoing, Record, dead_letter

logger = logging.getLogger("switchyard.retry")

COMMIT_EVERY_S = 1.0


@dataclass(order=True)
class _Due:
    due_at: float
    seq: int
    tp: TopicPartition = field(compare=False)
    record: Record = field(compare=False)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, stage: RetryStage) -> None:
        self._stage = stage

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._stage.commit()
        self._stage.forget(set(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        return None


class RetryStage:
    def __init__(
        self,
        *,
        env: str,
        group: str,
        consumer_factory,  # type: ignore[no-untyped-def]
        registry: SpecRegistry,
        sink: HttpDestination,
        states: DestinationStates,
        producer: AIOKafkaProducer,
    ) -> None:
        self._pattern = variant_pattern(env=env, variant=Variant.RETRY)
        self._factory = consumer_factory
        self._registry = registry
        self._sink = sink
        self._states = states
        self._producer = producer
        self._heap: list[_Due] = []
        self._seq = itertools.count()
        self._pending: dict[TopicPartition, set[int]] = defaultdict(set)
        self._next_offset: dict[TopicPartition, int] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        # Highest attempt seen per (event, destination): after a crash the older record of a chain
        # is read again next to its successor; only the successor may go on (no forked chains).
        self._latest_attempt: dict[tuple[str, str], int] = {}
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def pending_count(self) -> int:
        return sum(len(p) for p in self._pending.values())

    async def run(self) -> None:
        consumer = self._consumer = self._factory()
        await consumer.start()
        consumer.subscribe(pattern=self._pattern, listener=_Rebalance(self))
        logger.info("retry stage subscribed to %s", self._pattern)
        last_commit = time.monotonic()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=200, max_records=1000)
                for tp, messages in batch.items():
                    for message in messages:
                        self._hold(tp, to_record(message))
                self._dispatch_due()
                if time.monotonic() - last_commit >= COMMIT_EVERY_S:
                    await self.commit()
                    self._report()
                    last_commit = time.monotonic()
        finally:
            for task in self._inflight:
                task.cancel()
            await consumer.stop()

    def _hold(self, tp: TopicPartition, record: Record) -> None:
        due_ms = envelope.header(record.headers, envelope.DUE_AT)
        due_at = int(due_ms) / 1000 if due_ms and due_ms.isdigit() else 0.0
        self._pending[tp].add(record.offset)
        self._next_offset[tp] = record.offset + 1
        chain = _chain(record)
        self._latest_attempt[chain] = max(self._latest_attempt.get(chain, 0), _attempts(record))
        heapq.heappush(self._heap, _Due(due_at, next(self._seq), tp, record))

    def _dispatch_due(self) -> None:
        now = time.time()
        while self._heap and self._heap[0].due_at <= now:
            item = heapq.heappop(self._heap)
            if item.record.offset not in self._pending.get(item.tp, ()):
                continue  # its partition was revoked
            task = asyncio.create_task(self._attempt(item))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _attempt(self, item: _Due) -> None:
        record = item.record
        pipeline_id = envelope.header(record.headers, envelope.PIPELINE)
        spec = self._registry.pipeline(pipeline_id) if pipeline_id else None
        destination = find_destination(spec, envelope.header(record.headers, envelope.DESTINATION) or "")
        if _attempts(record) < self._latest_attempt.get(_chain(record), 0):
            self._pending.get(item.tp, set()).discard(record.offset)  # superseded by a later attempt
            return
        try:
            if spec is None or destination is None:
                error = DeliveryFailed(
                    "the pipeline or destination of this retry no longer exists", error_type="UnknownDestination"
                )
                await self._produce(dead_letter(record, error, attempts=_attempts(record), pipeline=spec))
            elif not spec.is_active:  # paused: hold the retry, spend no attempt
                heapq.heappush(self._heap, _Due(time.time() + 5, next(self._seq), item.tp, record))
                return
            else:
                outcome = await attempt_delivery(
                    sink=self._sink,
                    states=self._states,
                    spec=spec,
                    destination=destination,
                    record=record,
                    attempts_before=_attempts(record),
                )
                if outcome is False:  # circuit open: wait for the next probe time, no attempt spent
                    retry_at = self._states.get(destination).breaker.retry_at()
                    delay = max(1.0, (retry_at - time.monotonic()) if retry_at else 1.0)
                    heapq.heappush(self._heap, _Due(time.time() + delay, next(self._seq), item.tp, record))
                    return
                if isinstance(outcome, Outgoing):
                    await self._produce(outcome)
                if outcome is None or (isinstance(outcome, Outgoing) and outcome.topic.endswith(".dlq")):
                    self._latest_attempt.pop(_chain(record), None)  # the chain has ended
        except Exception:
            # Not handled: retry it shortly rather than lose it (the offset stays uncommitted).
            logger.exception("retry of %s[%d]@%d failed unexpectedly", record.topic, record.partition, record.offset)
            heapq.heappush(self._heap, _Due(time.time() + 5, next(self._seq), item.tp, record))
            return
        self._pending.get(item.tp, set()).discard(record.offset)

    def _report(self) -> None:
        PENDING_RETRIES.set(self.pending_count)
        oldest: dict[str, float] = {}
        for item in self._heap:
            pipeline = envelope.header(item.record.headers, envelope.PIPELINE) or "?"
            ts = (item.record.timestamp_ms or 0) / 1000
            received = envelope.header(item.record.headers, envelope.RECEIVED_AT)
            if received:
                with contextlib.suppress(ValueError):
                    ts = datetime.fromisoformat(received.replace("Z", "+00:00")).timestamp()
            oldest[pipeline] = min(oldest.get(pipeline, ts), ts)
        UNDELIVERED.replace("retry", oldest)

    async def _produce(self, out: Outgoing) -> None:
        await (await self._producer.send(out.topic, value=out.value, key=out.key, headers=out.headers))

    async def commit(self) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        assigned = consumer.assignment()
        offsets = {}
        for tp, next_offset in self._next_offset.items():
            if tp in assigned:
                pending = self._pending.get(tp)
                offsets[tp] = min(pending) if pending else next_offset
        if offsets:
            await consumer.commit(offsets)

    def forget(self, revoked: set[TopicPartition]) -> None:
        for tp in revoked:
            self._pending.pop(tp, None)
            self._next_offset.pop(tp, None)
        self._heap = [item for item in self._heap if item.tp not in revoked]
        heapq.heapify(self._heap)


def _chain(record: Record) -> tuple[str, str]:
    event_id = envelope.header(record.headers, envelope.EVENT_ID) or f"{record.topic}@{record.offset}"
    return event_id, envelope.header(record.headers, envelope.DESTINATION) or ""


def _attempts(record: Record) -> int:
    value = envelope.header(record.headers, envelope.ATTEMPT)
    return int(value) if value and value.isdigit() else 1
