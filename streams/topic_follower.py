"""Reads a whole compacted topic from the beginning and keeps following it (no consumer group).

Every worker needs every record of the config topic (all specs) and of the idempotency topic
(all stored answers), so each reads them entirely rather than sharing partitions in a group.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.kafka_clients import make_reader
from streams.settings import Settings

logger = logging.getLogger("switchyard.follower")

Apply = Callable[[bytes | None, bytes | None], None]


class TopicFollower:
    def __init__(
        self, settings: Settings, *, topic: str, apply: Apply, on_batch: Callable[[], None] | None = None
    ) -> None:
        self._settings = settings
        self.topic = topic
        self._apply = apply
        self._on_batch = on_batch
        self.caught_up = asyncio.Event()

    async def run(self) -> None:
        consumer = make_reader(self._settings, client_id=f"{self._settings.worker_id}-{self.topic}")
        await consumer.start()
        try:
            partitions = await self._partitions(consumer)
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            logger.info("reading %s (%d records to catch up)", self.topic, sum(end.values()))
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        self._apply(record.key, record.value)
                if batch and self._on_batch is not None:
                    self._on_batch()
                if not self.caught_up.is_set() and await self._reached(consumer, end):
                    logger.info("%s caught up", self.topic)
                    self.caught_up.set()
                    if self._on_batch is not None:
                        self._on_batch()
        finally:
            await consumer.stop()

    @staticmethod
    async def _reached(consumer: AIOKafkaConsumer, end: dict[TopicPartition, int]) -> bool:
        for tp, offset in end.items():
            if await consumer.position(tp) < offset:
                return False
        return True

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        while self.topic not in await consumer.topics():  # a remote metadata call, so a new topic shows up
            logger.warning("topic %s not found yet; is the platform provisioned (manage.py provision)?", self.topic)
            await asyncio.sleep(1)
        # aiokafka keeps metadata only for topics it consumes: assign partition 0 (which always
        # exists) to learn the others.
        consumer.assign([TopicPartition(self.topic, 0)])
        while not (parts := consumer.partitions_for_topic(self.topic)):
            await asyncio.sleep(0.2)
        return [TopicPartition(self.topic, p) for p in sorted(parts)]
