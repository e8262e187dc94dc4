"""Test helpers: real DLQ records on the broker, made by the data plane's own dead_letter()."""

from __future__ import annotations

import json
import uuid
from typing import Any

from confluent_kafka import Producer
from django.conf import settings

from control.dlq.services import dlq_topic
from control.monitoring.consumer import StatusConsumer
from streams import envelope
from streams.exceptions import EventError, ValidationFailed
from streams.spec import PipelineSpec
from streams.topics import Variant, topic_name
from streams.transform import Record, dead_letter
from tests.conftest import wait_for


def dlq_produce(
    stream: Any, events: list[tuple[dict[str, Any], EventError]], *, pipeline: PipelineSpec | None
) -> list[str]:
    """Dead-letter each (event, error) as the transform stage would; returns the event ids."""
    raw = topic_name(
        env=settings.SWITCHYARD_ENV, workspace=stream.workspace.slug, stream=stream.name, variant=Variant.RAW
    )
    producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP, "acks": "all", "log_level": 2})
    ids = []
    for offset, (event, error) in enumerate(events):
        event_id = envelope.new_event_id()
        headers = envelope.ingest_headers(event_id=event_id, correlation_id=uuid.uuid4().hex, source="test")
        record = Record(raw, 0, offset, event_id.encode(), json.dumps(event).encode(), headers)
        out = dead_letter(record, error, attempts=1, pipeline=pipeline)
        assert out.topic == dlq_topic(stream)
        producer.produce(out.topic, key=out.key, value=out.value, headers=out.headers, partition=0)
        ids.append(event_id)
    assert producer.flush(15) == 0
    return ids


def missing_id() -> EventError:
    return ValidationFailed("the event: 'id' is a required property", error_type="required", pointer="")


def index_until(count: int, stream: Any) -> None:
    """Run the status consumer (its own group) until the stream's index holds `count` records."""
    from control.dlq.models import DlqRecord

    consumer = StatusConsumer(group=f"test-{uuid.uuid4().hex[:8]}")
    try:
        wait_for(
            lambda: consumer.poll_once(timeout=0.5) >= 0 and DlqRecord.objects.filter(stream=stream).count() >= count,
            timeout=60,
            what=f"{count} DLQ records indexed",
        )
    finally:
        consumer.close()
