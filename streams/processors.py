"""The worker's two stages: transform (raw -> enriched) and deliver (enriched -> HTTP).

Each stage is a consumer group subscribed by pattern to one topic variant, so a stream created
after the worker started is picked up on the next metadata refresh (faust's own pattern
subscription does not work; see docs/decisions/0002-worker-consumers.md). Offsets are committed
only after every record of a batch was produced onward or dead-lettered: at-least-once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError

from connectors.http_sink import HttpDestination
from streams import envelope
from streams.exceptions import DeliveryFailed, EventError
from streams.mapping import MappingCache
from streams.registry import SpecRegistry
from streams.spec import HttpDestinationSpec, PipelineSpec
from streams.topics import Variant, variant_pattern
from streams.transform import Outgoing, Record, dead_letter, transform_event

logger = logging.getLogger("switchyard.processors")

Handler = Callable[[Record], Awaitable[list[Outgoing]]]

IN_PROCESS_DELIVERY_ATTEMPTS = 3


def to_record(message: ConsumerRecord) -> Record:  # type: ignore[type-arg]
    return Record(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=list(message.headers or ()),
    )


class PatternStage:
    """Consume every topic of one variant, hand each record to `handler`, produce what it returns."""

    def __init__(
        self,
        *,
        name: str,
        env: str,
        variant: Variant,
        consumer_factory: Callable[[], AIOKafkaConsumer],
        producer: AIOKafkaProducer,
        handler: Handler,
        ready: asyncio.Event,
    ) -> None:
        self.name = name
        self._pattern = variant_pattern(env=env, variant=variant)
        self._consumer_factory = consumer_factory
        self._producer = producer
        self._handler = handler
        self._ready = ready

    async def run(self) -> None:
        # Wait for the specs first: a record read before its pipeline is known would be skipped.
        await self._ready.wait()
        consumer = self._consumer_factory()
        await consumer.start()
        consumer.subscribe(pattern=self._pattern)
        logger.info("%s stage subscribed to %s", self.name, self._pattern)
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                if not batch:
                    continue
                try:
                    await asyncio.gather(*(self._handle_partition(records) for records in batch.values()))
                    await consumer.commit()
                except KafkaError as exc:
                    # Kafka could not take the output: nothing of this batch is committed; read it again.
                    logger.warning("%s stage: producing failed (%s); retrying the batch", self.name, exc)
                    for tp, records in batch.items():
                        consumer.seek(tp, records[0].offset)
                    await asyncio.sleep(1)
        finally:
            await consumer.stop()

    async def _handle_partition(self, messages: list[ConsumerRecord]) -> None:  # type: ignore[type-arg]
        # In order within a partition: per-key ordering is kept for everything a record produces.
        for message in messages:
            record = to_record(message)
            outgoing = await self._handler(record)
            sends = [
                await self._producer.send(out.topic, value=out.value, key=out.key, headers=out.headers)
                for out in outgoing
            ]
            await asyncio.gather(*sends)


def transform_handler(registry: SpecRegistry, mappings: MappingCache) -> Handler:
    async def handle(record: Record) -> list[Outgoing]:
        outgoing = []
        for spec in registry.pipelines_for_source(record.topic):
            if not spec.is_active:
                continue
            try:
                outgoing.append(transform_event(spec, record, mappings))
            except EventError as exc:
                logger.info(
                    "event %s to DLQ at %s: %s (%s[%d]@%d)",
                    envelope.header(record.headers, envelope.EVENT_ID),
                    exc.stage,
                    exc,
                    record.topic,
                    record.partition,
                    record.offset,
                )
                outgoing.append(dead_letter(record, exc, attempts=1, pipeline=spec))
        return outgoing

    return handle


def delivery_handler(registry: SpecRegistry, sink: HttpDestination) -> Handler:
    async def handle(record: Record) -> list[Outgoing]:
        pipeline_id = envelope.header(record.headers, envelope.PIPELINE)
        spec = registry.pipeline(pipeline_id) if pipeline_id else None
        if spec is None:
            error = DeliveryFailed(f"no pipeline {pipeline_id!r} is known to this worker", error_type="UnknownPipeline")
            return [dead_letter(record, error, attempts=0, pipeline=None)]
        failures = await asyncio.gather(*(_deliver(sink, spec, d, record) for d in spec.destinations))
        return [dead_letter(record, f, attempts=a, pipeline=spec) for f, a in failures if f is not None]

    return handle


async def _deliver(
    sink: HttpDestination, spec: PipelineSpec, destination: HttpDestinationSpec, record: Record
) -> tuple[DeliveryFailed | None, int]:
    """Deliver with a few quick in-process attempts; the failure and attempt count if all failed."""
    event_id = (
        envelope.header(record.headers, envelope.EVENT_ID) or f"{record.topic}:{record.partition}:{record.offset}"
    )
    correlation_id = envelope.header(record.headers, envelope.CORRELATION_ID)
    failure: DeliveryFailed | None = None
    for attempt in range(1, IN_PROCESS_DELIVERY_ATTEMPTS + 1):
        try:
            status = await sink.send(
                destination,
                body=record.value or b"",
                event_id=event_id,
                correlation_id=correlation_id,
            )
            logger.info("event %s delivered by pipeline %s (HTTP %d, attempt %d)", event_id, spec.id, status, attempt)
            return None, attempt
        except DeliveryFailed as exc:
            failure = exc
            logger.warning("event %s delivery attempt %d failed: %s", event_id, attempt, exc)
            if not exc.retryable or attempt == IN_PROCESS_DELIVERY_ATTEMPTS:
                return exc, attempt
            await asyncio.sleep(min(exc.retry_after or 1.0, 2.0 * attempt))
    return failure, IN_PROCESS_DELIVERY_ATTEMPTS
