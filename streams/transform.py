"""Validate and transform one raw event for one pipeline: a pure function of spec and record."""

from __future__ import annotations

import json
from dataclasses import dataclass

from streams import envelope
from streams.envelope import Headers
from streams.exceptions import EventError, ValidationFailed
from streams.mapping import MappingCache, apply_mapping
from streams.spec import PipelineSpec
from streams.topics import Variant, parse_topic, topic_name


@dataclass(frozen=True)
class Record:
    """A consumed Kafka record, as much of it as the domain needs."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers


@dataclass(frozen=True)
class Outgoing:
    """A record to produce: onward to the next topic, or to a DLQ."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers


def transform_event(spec: PipelineSpec, record: Record, mappings: MappingCache) -> Outgoing:
    """The enriched record for `spec`, or an EventError saying which stage failed and why."""
    if record.value is None:
        raise ValidationFailed("the record has no value (a tombstone)", error_type="EmptyValue")
    try:
        document = record.value.decode("utf-8")
        json.loads(document)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(f"the value is not JSON: {exc}", error_type="InvalidJson") from exc
    output = apply_mapping(mappings, spec.mapping, document)
    headers = envelope.replace_headers(
        record.headers,
        {envelope.PIPELINE: spec.id, envelope.PIPELINE_REVISION: str(spec.revision)},
    )
    return Outgoing(topic=spec.target_topic, key=record.key, value=output.encode(), headers=headers)


def dead_letter(record: Record, error: EventError, *, attempts: int, pipeline: PipelineSpec | None) -> Outgoing:
    """The DLQ record for a failure: original value and headers untouched, plus why and where from."""
    origin = parse_topic(record.topic)
    updates = {
        envelope.ERROR_STAGE: error.stage,
        envelope.ERROR_TYPE: error.error_type,
        envelope.ERROR_MESSAGE: str(error)[:2000],
        envelope.FAILED_AT: envelope.now_iso(),
        envelope.ATTEMPT: str(attempts),
        envelope.ORIGIN_TOPIC: record.topic,
        envelope.ORIGIN_PARTITION: str(record.partition),
        envelope.ORIGIN_OFFSET: str(record.offset),
    }
    if error.pointer is not None:
        updates[envelope.ERROR_POINTER] = error.pointer
    if pipeline is not None:
        updates[envelope.PIPELINE] = pipeline.id
        updates[envelope.PIPELINE_REVISION] = str(pipeline.revision)
    dlq = topic_name(env=origin.env, workspace=origin.workspace, stream=origin.stream, variant=Variant.DLQ)
    return Outgoing(
        topic=dlq,
        key=record.key,
        value=record.value or b"",
        headers=envelope.replace_headers(record.headers, updates),
    )
