"""transform_event and dead_letter: pure functions of spec and record."""

from __future__ import annotations

import json
import re

import pytest

from streams import envelope
from streams.exceptions import DeliveryFailed, TransformFailed, ValidationFailed
from streams.mapping import MappingCache
from streams.spec import PipelineSpec, SchemaRef, build_pipeline_spec
from streams.transform import Outgoing, Record, dead_letter, transform_event

ORIGINAL_HEADERS = [
    (envelope.EVENT_ID, b"0190a1b2-0000-7000-8000-000000000001"),
    (envelope.CORRELATION_ID, b"corr-42"),
    (envelope.SOURCE, b"http:orders"),
    ("traceparent", b"00-abc-def-01"),
]


def make_spec(
    *, mapping: str = '{"id": order.id, "who": $uppercase(customer)}', revision: int = 3, **options: object
) -> PipelineSpec:
    return build_pipeline_spec(
        env="dev",
        id="p-7",
        workspace="acme",
        name="orders to crm",
        revision=revision,
        state="active",
        source_stream="orders",
        target_stream="crm-orders",
        mapping=mapping,
        destinations=[],
        **options,
    )


def make_record(
    value: bytes | None = b'{"order": {"id": 11}, "customer": "bo"}',
    *,
    topic: str = "dev.acme.orders.raw",
    headers: list[tuple[str, bytes]] | None = None,
) -> Record:
    return Record(
        topic=topic,
        partition=2,
        offset=1234,
        key=b"order-11",
        value=value,
        headers=list(ORIGINAL_HEADERS if headers is None else headers),
    )


@pytest.fixture(scope="module")
def mappings() -> MappingCache:
    return MappingCache()


def as_dict(headers: list[tuple[str, bytes]]) -> dict[str, str]:
    return {k: v.decode() for k, v in headers}


def test_transform_event_output_topic_key_and_value(mappings: MappingCache) -> None:
    out = transform_event(make_spec(), make_record(), mappings)
    assert isinstance(out, Outgoing)
    assert out.topic == "dev.acme.crm-orders.enriched"
    assert out.key == b"order-11"
    assert isinstance(out.value, bytes)
    assert json.loads(out.value) == {"id": 11, "who": "BO"}


def test_transform_event_adds_pipeline_headers_and_keeps_the_originals(mappings: MappingCache) -> None:
    out = transform_event(make_spec(revision=9), make_record(), mappings)
    assert out.headers[: len(ORIGINAL_HEADERS)] == ORIGINAL_HEADERS
    assert envelope.header(out.headers, envelope.PIPELINE) == "p-7"
    assert envelope.header(out.headers, envelope.PIPELINE_REVISION) == "9"
    assert envelope.header(out.headers, envelope.MAPPING_VERSION) == "0"
    assert len(out.headers) == len(ORIGINAL_HEADERS) + 3


def test_transform_event_replaces_stale_pipeline_headers(mappings: MappingCache) -> None:
    headers = [*ORIGINAL_HEADERS, (envelope.PIPELINE, b"old"), (envelope.PIPELINE_REVISION, b"1")]
    out = transform_event(make_spec(revision=4), make_record(headers=headers), mappings)
    names = [k for k, _ in out.headers]
    assert names.count(envelope.PIPELINE) == 1
    assert names.count(envelope.PIPELINE_REVISION) == 1
    assert as_dict(out.headers)[envelope.PIPELINE] == "p-7"
    assert as_dict(out.headers)[envelope.PIPELINE_REVISION] == "4"


def test_transform_event_does_not_mutate_the_record(mappings: MappingCache) -> None:
    record = make_record()
    transform_event(make_spec(), record, mappings)
    assert record.headers == ORIGINAL_HEADERS


@pytest.mark.parametrize("value", [b"{not json", b"", b'{"a": 1', b"\xff\xfe{}"])
def test_invalid_json_is_validation_failed(value: bytes, mappings: MappingCache) -> None:
    with pytest.raises(ValidationFailed) as info:
        transform_event(make_spec(), make_record(value), mappings)
    assert info.value.error_type == "InvalidJson"
    assert info.value.stage == "validate"
    assert "not JSON" in str(info.value)


def test_tombstone_is_validation_failed_empty_value(mappings: MappingCache) -> None:
    with pytest.raises(ValidationFailed) as info:
        transform_event(make_spec(), make_record(None), mappings)
    assert info.value.error_type == "EmptyValue"


def test_mapping_failures_surface_as_transform_failed(mappings: MappingCache) -> None:
    with pytest.raises(TransformFailed) as info:
        transform_event(make_spec(mapping='"a" + order.id'), make_record(), mappings)
    assert info.value.error_type == "T2001"
    with pytest.raises(TransformFailed) as info:
        transform_event(make_spec(mapping="nothing.here"), make_record(), mappings)
    assert info.value.error_type == "EmptyResult"


def test_dead_letter_keeps_the_original_and_says_why(mappings: MappingCache) -> None:
    record = make_record(b"{not json")
    with pytest.raises(ValidationFailed) as info:
        transform_event(make_spec(), record, mappings)
    out = dead_letter(record, info.value, attempts=1, pipeline=make_spec(revision=6))

    assert out.topic == "dev.acme.orders.dlq"
    assert out.key == b"order-11"
    assert out.value == b"{not json"
    assert out.headers[: len(ORIGINAL_HEADERS)] == ORIGINAL_HEADERS
    added = as_dict(out.headers[len(ORIGINAL_HEADERS) :])
    assert added[envelope.ERROR_STAGE] == "validate"
    assert added[envelope.ERROR_TYPE] == "InvalidJson"
    assert added[envelope.ERROR_MESSAGE] == str(info.value)
    assert added[envelope.ORIGIN_TOPIC] == "dev.acme.orders.raw"
    assert added[envelope.ORIGIN_PARTITION] == "2"
    assert added[envelope.ORIGIN_OFFSET] == "1234"
    assert added[envelope.ATTEMPT] == "1"
    assert added[envelope.PIPELINE] == "p-7"
    assert added[envelope.PIPELINE_REVISION] == "6"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", added[envelope.FAILED_AT])
    assert envelope.ERROR_POINTER not in added


def test_dead_letter_records_the_pointer_when_there_is_one() -> None:
    error = ValidationFailed("'id' is a required property", error_type="required", pointer="/order")
    out = dead_letter(make_record(), error, attempts=1, pipeline=None)
    assert envelope.header(out.headers, envelope.ERROR_POINTER) == "/order"
    assert envelope.header(out.headers, envelope.ERROR_TYPE) == "required"


def test_dead_letter_without_pipeline_adds_no_pipeline_headers() -> None:
    error = TransformFailed("boom", error_type="D3137")
    out = dead_letter(make_record(), error, attempts=2, pipeline=None)
    assert envelope.header(out.headers, envelope.PIPELINE) is None
    assert envelope.header(out.headers, envelope.PIPELINE_REVISION) is None
    assert envelope.header(out.headers, envelope.ERROR_STAGE) == "transform"
    assert envelope.header(out.headers, envelope.ATTEMPT) == "2"


def test_dead_letter_of_a_delivery_failure_goes_to_the_enriched_streams_dlq() -> None:
    record = make_record(b'{"id": 11}', topic="dev.acme.crm-orders.enriched")
    error = DeliveryFailed("destination answered HTTP 400: nope", error_type="HTTP400", status=400)
    out = dead_letter(record, error, attempts=5, pipeline=make_spec())
    assert out.topic == "dev.acme.crm-orders.dlq"
    assert out.value == b'{"id": 11}'
    assert envelope.header(out.headers, envelope.ERROR_STAGE) == "deliver"
    assert envelope.header(out.headers, envelope.ERROR_TYPE) == "HTTP400"
    assert envelope.header(out.headers, envelope.ORIGIN_TOPIC) == "dev.acme.crm-orders.enriched"
    assert envelope.header(out.headers, envelope.ATTEMPT) == "5"


def test_dead_letter_replaces_earlier_error_headers_instead_of_stacking_them() -> None:
    headers = [*ORIGINAL_HEADERS, (envelope.ERROR_TYPE, b"Old"), (envelope.ATTEMPT, b"1")]
    out = dead_letter(make_record(headers=headers), TransformFailed("x", error_type="New"), attempts=3, pipeline=None)
    names = [k for k, _ in out.headers]
    assert names.count(envelope.ERROR_TYPE) == 1
    assert names.count(envelope.ATTEMPT) == 1
    assert envelope.header(out.headers, envelope.ERROR_TYPE) == "New"
    assert envelope.header(out.headers, envelope.ATTEMPT) == "3"


def test_dead_letter_of_a_tombstone_has_an_empty_value() -> None:
    out = dead_letter(
        make_record(None), ValidationFailed("tombstone", error_type="EmptyValue"), attempts=1, pipeline=None
    )
    assert out.value == b""
    assert out.topic == "dev.acme.orders.dlq"


def test_dead_letter_truncates_a_long_message() -> None:
    out = dead_letter(make_record(), TransformFailed("x" * 5000, error_type="T"), attempts=1, pipeline=None)
    assert envelope.header(out.headers, envelope.ERROR_MESSAGE) == "x" * 2000


SCHEMA = SchemaRef(
    id="s-1",
    version=2,
    schema={"type": "object", "required": ["order"], "properties": {"order": {"type": "object"}}},
)


def test_schema_violation_names_the_failing_field(mappings: MappingCache) -> None:
    spec = make_spec(input_schema=SCHEMA)
    record = make_record(value=b'{"order": 5}')
    with pytest.raises(ValidationFailed) as info:
        transform_event(spec, record, mappings)
    assert info.value.error_type == "SchemaViolation"
    assert info.value.pointer == "/order"
    assert 'is not of type "object"' in str(info.value)


def test_output_schema_and_key_path_apply_to_the_mapping_result(mappings: MappingCache) -> None:
    out_schema = SchemaRef(id="s-2", version=1, schema={"type": "object", "required": ["id", "who"]})
    spec = make_spec(input_schema=SCHEMA, output_schema=out_schema, target_key_path="who", mapping_version=4)
    out = transform_event(spec, make_record(), mappings)
    assert out.key == b"BO"
    assert envelope.header(out.headers, envelope.INPUT_SCHEMA) == "s-1:2"
    assert envelope.header(out.headers, envelope.OUTPUT_SCHEMA) == "s-2:1"
    assert envelope.header(out.headers, envelope.MAPPING_VERSION) == "4"

    strict = SchemaRef(id="s-3", version=1, schema={"type": "object", "required": ["missing"]})
    with pytest.raises(ValidationFailed) as info:
        transform_event(make_spec(output_schema=strict), make_record(), mappings)
    assert "mapping's output" in str(info.value)
