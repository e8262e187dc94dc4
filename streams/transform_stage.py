"""Transform stage of one pipeline: its source `raw` topic -> its target `enriched` topic (or the DLQ).

One consumer group per pipeline (`switchyard-<env>-transform-<pipeline id>`), so pausing one
pipeline leaves its events waiting in Kafka while other pipelines on the same stream go on.
The spec is looked up per batch: a new revision applies to the next batch, without a restart.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer, TopicPartition

from streams import envelope
from streams.consumer_loop import Batch, to_record
from streams.exceptions import EventError
from streams.mapping import MappingCache
from streams.observability import DLQ_EVENTS, EVENTS, log_context
from streams.registry import SpecRegistry
from streams.transform import Outgoing, dead_letter, transform_event
from streams.validation import ValidatorCache

logger = logging.getLogger("switchyard.transform")


class TransformStage:
    def __init__(
        self,
        *,
        pipeline_id: str,
        registry: SpecRegistry,
        mappings: MappingCache,
        validators: ValidatorCache,
        producer: AIOKafkaProducer,
    ) -> None:
        self.pipeline_id = pipeline_id
        self._registry = registry
        self._mappings = mappings
        self._validators = validators
        self._producer = producer

    def paused(self) -> bool:
        spec = self._registry.pipeline(self.pipeline_id)
        return spec is None or not spec.is_active

    async def handle(self, batch: Batch) -> dict[TopicPartition, int] | None:
        spec = self._registry.pipeline(self.pipeline_id)
        if spec is None or not spec.is_active:
            # Paused (or removed) between poll and handling: commit nothing, read again later.
            return {tp: records[0].offset for tp, records in batch.items()}
        sends = []
        for messages in batch.values():
            for message in messages:
                record = to_record(message)
                if spec.start_at_ms is not None and (record.timestamp_ms or 0) < spec.start_at_ms:
                    continue  # written before this pipeline was activated
                if envelope.header(record.headers, envelope.REPLAY_PIPELINE) not in (None, "", spec.id):
                    continue  # replayed for another pipeline of this stream
                with log_context(
                    correlation_id=envelope.header(record.headers, envelope.CORRELATION_ID),
                    event_id=envelope.header(record.headers, envelope.EVENT_ID),
                    pipeline=spec.id,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                ):
                    out = self._process(spec, record)
                sends.append(await self._producer.send(out.topic, value=out.value, key=out.key, headers=out.headers))
        # Every output acknowledged before the batch counts as done (the loop commits after this).
        await asyncio.gather(*sends)
        return None

    def _process(self, spec, record) -> Outgoing:  # type: ignore[no-untyped-def]
        try:
            out = transform_event(spec, record, self._mappings, self._validators)
            EVENTS.labels(spec.id, "transform", "ok").inc()
            return out
        except EventError as exc:
            EVENTS.labels(spec.id, exc.stage, "dlq").inc()
            DLQ_EVENTS.labels(spec.id, exc.stage, exc.error_type).inc()
            logger.info(
                "event %s of pipeline %s to the DLQ at %s: %s (%s[%d]@%d)",
                envelope.header(record.headers, envelope.EVENT_ID),
                spec.id,
                exc.stage,
                exc,
                record.topic,
                record.partition,
                record.offset,
            )
            previous = envelope.header(record.headers, envelope.ATTEMPT)  # set on replayed records
            attempts = int(previous) + 1 if previous and previous.isdigit() else 1
            return dead_letter(record, exc, attempts=attempts, pipeline=spec)
