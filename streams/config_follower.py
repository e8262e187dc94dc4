"""Follows the compacted config topic into the SpecRegistry, from the beginning, forever."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.kafka_clients import make_reader
from streams.registry import SpecRegistry
from streams.settings import Settings
from streams.topics import config_topic

logger = logging.getLogger("switchyard.config")


class ConfigFollower:
    """Every worker reads the whole config topic (no consumer group): each needs every spec."""

    def __init__(self, settings: Settings, registry: SpecRegistry) -> None:
        self._settings = settings
        self._registry = registry
        self.caught_up = asyncio.Event()

    async def run(self) -> None:
        topic = config_topic(self._settings.env)
        consumer = make_reader(self._settings, client_id=f"{self._settings.worker_id}-config")
        await consumer.start()
        try:
            partitions = await self._partitions(consumer, topic)
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            logger.info("reading specs from %s (%d records to catch up)", topic, sum(end.values()))
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        key = record.key.decode() if record.key else ""
                        self._registry.apply(key, record.value)
                        logger.info("spec %s applied (offset %d)", key, record.offset)
                if not self.caught_up.is_set() and await self._reached(consumer, end):
                    logger.info("config caught up")
                    self.caught_up.set()
        finally:
            await consumer.stop()

    @staticmethod
    async def _reached(consumer: AIOKafkaConsumer, end: dict[TopicPartition, int]) -> bool:
        for tp, offset in end.items():
            if await consumer.position(tp) < offset:
                return False
        return True

    @staticmethod
    async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
        while topic not in await consumer.topics():  # a remote metadata call, so a new topic shows up
            logger.warning("config topic %s not found yet; is the control plane provisioned?", topic)
            await asyncio.sleep(1)
        # aiokafka keeps metadata only for topics it consumes: assign partition 0 (which always
        # exists) to learn the others.
        consumer.assign([TopicPartition(topic, 0)])
        while not (parts := consumer.partitions_for_topic(topic)):
            await asyncio.sleep(0.2)
        return [TopicPartition(topic, p) for p in sorted(parts)]
