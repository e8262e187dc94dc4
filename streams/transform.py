"""Validate and transform one raw event for one pipeline: a pure function of spec and record."""

from __future__ import annotations

import json
from dataclasses import dataclass

from streams import envelope
from streams.envelope import Headers
from streams.exceptions import EventError, ValidationFailed
from streams.jsonutil import strict_loads
from streams.keys import extract_key
from streams.mapping import MappingCache, apply_mapping
from streams.spec import PipelineSpec, SchemaRef
from streams.topics import Variant, parse_topic, topic_name
from streams.validation import ValidatorCache, validate


@dataclass(frozen=True)
class Record:
    """A consumed Kafka record, as much of it as the domain needs."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    timestamp_ms: int | None = None


@dataclass(frozen=True)
class Outgoing:
    """A record to produce: onward to the next topic, or to a DLQ."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers


def transform_event(
    spec: PipelineSpec, record: Record, mappings: MappingCache, validators: ValidatorCache | None = None
) -> Outgoing:
    """The enriched record for `spec`: validate the input, map, validate the output, key it.

    Raises an EventError saying which stage failed and why (the caller dead-letters the record).
    """
    if record.value is None:
        raise ValidationFailed("the record has no value (a tombstone)", error_type="EmptyValue")
    try:
        document = record.value.decode("utf-8")
        event = strict_loads(document)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(f"the value is not JSON: {exc}", error_type="InvalidJson") from exc
    validators = validators or ValidatorCache()
    if spec.input_schema is not None:
        validate(_validator(validators, spec.input_schema), event, what="the event")
    output = apply_mapping(mappings, spec.mapping, document)
    result = json.loads(output)
    if spec.output_schema is not None:
        validate(_validator(validators, spec.output_schema), result, what="the mapping's output")
    key = extract_key(result, spec.target_key_path) if spec.target_key_path else record.key
    headers = envelope.replace_headers(record.headers, version_headers(spec))
    return Outgoing(topic=spec.target_topic, key=key, value=output.encode(), headers=headers)


def _validator(validators: ValidatorCache, ref: SchemaRef):  # type: ignore[no-untyped-def]
    return validators.get(ref.id, ref.version, ref.schema)


def version_headers(spec: PipelineSpec) -> dict[str, str]:
    """Which configuration handled the event: pipeline revision, mapping and schema versions."""
    headers = {
        envelope.PIPELINE: spec.id,
        envelope.PIPELINE_REVISION: str(spec.revision),
        envelope.MAPPING_VERSION: str(spec.mapping_version),
    }
    if spec.input_schema is not None:
        headers[envelope.INPUT_SCHEMA] = f"{spec.input_schema.id}:{spec.input_schema.version}"
    if spec.output_schema is not None:
        headers[envelope.OUTPUT_SCHEMA] = f"{spec.output_schema.id}:{spec.output_schema.version}"
    return headers


def dead_letter(
    record: Record,
    error: EventError,
    *,
    attempts: int,
    pipeline: PipelineSpec | None,
    extra: dict[str, str] | None = None,
) -> Outgoing:
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
        updates.update(version_headers(pipeline))
    updates.update(extra or {})
    dlq = topic_name(env=origin.env, workspace=origin.workspace, stream=origin.stream, variant=Variant.DLQ)
    return Outgoing(
        topic=dlq,
        key=record.key,
        value=record.value or b"",
        headers=envelope.replace_headers(record.headers, updates),
    )
