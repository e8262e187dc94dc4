"""Reading DLQ topics from Kafka by partition and offset (confluent-kafka): event detail, scans, end offsets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from django.conf import settings

from control.core.exceptions import KafkaUnavailable
from streams.transform import Record


def _consumer() -> Consumer:
    # A throwaway group that never commits: reads are positioned by assign(), not by a group's offsets.
    return Consumer(
        {
            "bootstrap.servers": settings.KAFKA_BOOTSTRAP,
            "group.id": f"switchyard-{settings.SWITCHYARD_ENV}-control-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "log_level": 3,
        }
    )


def to_record(message: Any) -> Record:
    _, timestamp = message.timestamp()
    return Record(
        topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
        key=message.key(),
        value=message.value(),
        headers=[(k, v) for k, v in (message.headers() or []) if v is not None],
        timestamp_ms=timestamp if timestamp and timestamp > 0 else None,
    )


def end_offsets(topic: str) -> dict[int, int]:
    """The high watermark of every partition of `topic`: where a reader starting now would stop."""
    consumer = _consumer()
    timeout = settings.KAFKA_TIMEOUT_S
    try:
        metadata = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise KafkaUnavailable(f"topic {topic} is not available in Kafka at {settings.KAFKA_BOOTSTRAP}")
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)[1] for p in metadata.partitions
        }
    except KafkaException as exc:
        raise KafkaUnavailable(f"Kafka at {settings.KAFKA_BOOTSTRAP} did not answer: {exc}") from exc
    finally:
        consumer.close()


def record_read(topic: str, partition: int, offset: int) -> Record | None:
    """The record at exactly this position, or None if retention or compaction removed it."""
    for record in records_scan(topic, starts={partition: offset}, ends={partition: offset + 1}):
        return record if record.offset == offset else None
    return None


def records_scan(topic: str, *, starts: dict[int, int], ends: dict[int, int]) -> Iterator[Record]:
    """Every record from `starts[p]` up to (not including) `ends[p]`, partition after partition."""
    todo = {p: (starts.get(p, 0), end) for p, end in ends.items() if end > starts.get(p, 0)}
    if not todo:
        return
    consumer = _consumer()
    deadline_polls = max(3, int(settings.KAFKA_TIMEOUT_S / 0.5))
    try:
        for partition, (start, end) in sorted(todo.items()):
            consumer.assign([TopicPartition(topic, partition, start)])
            idle = 0
            while True:
                message = consumer.poll(0.5)
                if message is None:
                    idle += 1
                    if idle > deadline_polls:
                        raise KafkaUnavailable(f"Kafka did not return {topic}[{partition}] from offset {start}")
                    continue
                idle = 0
                if message.error() is not None:
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        break
                    raise KafkaUnavailable(f"reading {topic}[{partition}]: {message.error()}")
                if message.offset() >= end:
                    break
                yield to_record(message)
                if message.offset() + 1 >= end:
                    break
            consumer.unassign()
    except KafkaException as exc:
        raise KafkaUnavailable(f"Kafka at {settings.KAFKA_BOOTSTRAP} did not answer: {exc}") from exc
    finally:
        consumer.close()
