"""Delivery stage of one destination of one pipeline: its `enriched` records -> one HTTP attempt each.

One consumer group per (pipeline, destination), so a slow or failing destination holds back only
itself. Records of a batch are sent concurrently up to the destination's limit. A retryable
failure is scheduled on the stream's `retry` topic (the retry stage takes it from there); a
permanent one goes to the DLQ. Either way the record is done here and later records go on.
While the destination's circuit is open, this stage does not consume: events wait in Kafka.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka import AIOKafkaProducer, TopicPartition

from connectors.http_sink import HttpDestination
from streams import envelope
from streams.circuit import CircuitState
from streams.consumer_loop import Batch, to_record
from streams.destinations import DestinationStates
from streams.exceptions import DeliveryFailed
from streams.observability import DELIVERY_SECONDS, DLQ_EVENTS, EVENTS, RETRIES, UNDELIVERED, log_context
from streams.registry import SpecRegistry
from streams.retry_policy import next_delay_s
from streams.spec import HttpDestinationSpec, PipelineSpec
from streams.topics import Variant, parse_topic, topic_name
from streams.transform import Outgoing, Record, dead_letter

logger = logging.getLogger("switchyard.delivery")


def find_destination(spec: PipelineSpec | None, destination_id: str) -> HttpDestinationSpec | None:
    if spec is None:
        return None
    return next((d for d in spec.destinations if d.id == destination_id), None)


def retry_record(
    record: Record, destination: HttpDestinationSpec, error: DeliveryFailed, *, attempts: int, delay_s: float
) -> Outgoing:
    """The record to put on the stream's retry topic: the same value and headers, plus when and why."""
    origin = parse_topic(record.topic)
    retry_topic = topic_name(env=origin.env, workspace=origin.workspace, stream=origin.stream, variant=Variant.RETRY)
    headers = envelope.replace_headers(
        record.headers,
        {
            envelope.DESTINATION: destination.id,
            envelope.ATTEMPT: str(attempts),
            envelope.DUE_AT: str(int((time.time() + delay_s) * 1000)),
            envelope.LAST_ERROR: f"{error.error_type}: {error}"[:500],
            # Where the record came from first; kept across hops through the retry topic.
            envelope.ORIGIN_TOPIC: envelope.header(record.headers, envelope.ORIGIN_TOPIC) or record.topic,
        },
    )
    return Outgoing(topic=retry_topic, key=record.key, value=record.value or b"", headers=headers)


async def attempt_delivery(
    *,
    sink: HttpDestination,
    states: DestinationStates,
    spec: PipelineSpec,
    destination: HttpDestinationSpec,
    record: Record,
    attempts_before: int,
) -> Outgoing | bool | None:
    """One attempt. Returns None when delivered, the retry/DLQ record to produce on failure, or
    False when the circuit breaker did not allow an attempt (the record is not handled)."""
    state = states.get(destination)
    event_id = (
        envelope.header(record.headers, envelope.EVENT_ID) or f"{record.topic}:{record.partition}:{record.offset}"
    )
    attempts = attempts_before + 1
    context = log_context(
        correlation_id=envelope.header(record.headers, envelope.CORRELATION_ID),
        event_id=event_id,
        pipeline=spec.id,
        destination=destination.id,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
    )
    with context:
        return await _attempt(sink, states, state, spec, destination, record, event_id, attempts)


async def _attempt(  # type: ignore[no-untyped-def]
    sink: HttpDestination, states: DestinationStates, state, spec, destination, record, event_id: str, attempts: int
) -> Outgoing | bool | None:
    async with state.limit:
        # Asked only once a slot is free: when the circuit opens, the records still queued for a
        # slot stop at once instead of each waiting out its timeout.
        if not state.breaker.allow():
            return False
        started = time.monotonic()
        try:
            status = await sink.send(
                destination,
                body=record.value or b"",
                event_id=event_id,
                correlation_id=envelope.header(record.headers, envelope.CORRELATION_ID),
                replay_job_id=envelope.header(record.headers, envelope.REPLAY_JOB),
            )
        except DeliveryFailed as exc:
            DELIVERY_SECONDS.labels(destination.id).observe(time.monotonic() - started)
            # A permanent refusal (4xx) still shows the destination is up: only retryable failures trip the breaker.
            states.record(state, success=not exc.retryable)
            logger.warning("event %s to %s: attempt %d failed: %s", event_id, destination.id, attempts, exc)
            delay = (
                next_delay_s(destination.retry_schedule_s, attempts, retry_after_s=exc.retry_after)
                if exc.retryable
                else None
            )
            if delay is not None:
                EVENTS.labels(spec.id, "deliver", "retry").inc()
                RETRIES.labels(spec.id, destination.id).inc()
                return retry_record(record, destination, exc, attempts=attempts, delay_s=delay)
            EVENTS.labels(spec.id, "deliver", "dlq").inc()
            DLQ_EVENTS.labels(spec.id, "deliver", exc.error_type).inc()
            return dead_letter(
                record, exc, attempts=attempts, pipeline=spec, extra={envelope.DESTINATION: destination.id}
            )
    DELIVERY_SECONDS.labels(destination.id).observe(time.monotonic() - started)
    EVENTS.labels(spec.id, "deliver", "delivered").inc()
    states.record(state, success=True)
    logger.info("event %s delivered to %s (HTTP %d, attempt %d)", event_id, destination.id, status, attempts)
    return None


class DeliveryStage:
    def __init__(
        self,
        *,
        pipeline_id: str,
        destination_id: str,
        registry: SpecRegistry,
        sink: HttpDestination,
        states: DestinationStates,
        producer: AIOKafkaProducer,
    ) -> None:
        self.pipeline_id = pipeline_id
        self.destination_id = destination_id
        self._registry = registry
        self._sink = sink
        self._states = states
        self._producer = producer

    def paused(self) -> bool:
        spec = self._registry.pipeline(self.pipeline_id)
        destination = find_destination(spec, self.destination_id)
        if spec is None or destination is None or not spec.is_active:
            return True  # a paused pipeline holds its deliveries too: they wait in Kafka
        return self._states.get(destination).breaker.state == CircuitState.OPEN

    async def handle(self, batch: Batch) -> dict[TopicPartition, int] | None:
        spec = self._registry.pipeline(self.pipeline_id)
        destination = find_destination(spec, self.destination_id)
        if spec is None or destination is None or not spec.is_active:
            return {tp: records[0].offset for tp, records in batch.items()}
        commit_to: dict[TopicPartition, int] = {}
        source = f"deliver:{destination.id}"
        oldest = min((m.timestamp for messages in batch.values() for m in messages), default=None)
        UNDELIVERED.set(spec.id, source, oldest / 1000 if oldest is not None else None)
        results = await asyncio.gather(
            *(self._partition(spec, destination, tp, messages, commit_to) for tp, messages in batch.items())
        )
        del results
        UNDELIVERED.set(spec.id, source, None)
        return commit_to

    async def _partition(self, spec, destination, tp, messages, commit_to) -> None:  # type: ignore[no-untyped-def]
        records = [to_record(m) for m in messages]
        outcomes = await asyncio.gather(*(self._one(spec, destination, r) for r in records))
        sends = []
        done_until = records[-1].offset + 1
        for record, outcome in zip(records, outcomes, strict=True):
            if outcome is False:
                done_until = min(done_until, record.offset)
            elif isinstance(outcome, Outgoing):
                sends.append(
                    await self._producer.send(
                        outcome.topic, value=outcome.value, key=outcome.key, headers=outcome.headers
                    )
                )
        await asyncio.gather(*sends)
        commit_to[tp] = done_until

    async def _one(
        self, spec: PipelineSpec, destination: HttpDestinationSpec, record: Record
    ) -> Outgoing | bool | None:
        if envelope.header(record.headers, envelope.PIPELINE) != spec.id:
            return None  # another pipeline's output on the same stream
        start_at_ms = destination.start_at_ms if destination.start_at_ms is not None else spec.start_at_ms
        if start_at_ms is not None and (record.timestamp_ms or 0) < start_at_ms:
            return None  # enriched before this destination (or its pipeline) started
        return await attempt_delivery(
            sink=self._sink, states=self._states, spec=spec, destination=destination, record=record, attempts_before=0
        )
