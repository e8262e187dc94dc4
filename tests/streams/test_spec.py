"""Pipeline and source specs: dump/parse round trip, and every bad record refused with InvalidSpec."""

from __future__ import annotations

import json

import pytest

from streams.exceptions import InvalidSpec
from streams.spec import (
    SPEC_VERSION,
    HttpDestinationSpec,
    PipelineSpec,
    SourceSpec,
    build_pipeline_spec,
    build_source_spec,
    dump_spec,
    parse_spec,
)


def make_pipeline(**overrides: object) -> PipelineSpec:
    kwargs: dict[str, object] = {
        "env": "dev",
        "id": "p-1",
        "workspace": "acme",
        "name": "Orders to CRM",
        "revision": 3,
        "state": "active",
        "source_stream": "orders",
        "target_stream": "orders-crm",
        "mapping": '{"id": order.id}',
        "destinations": [
            HttpDestinationSpec(id="d-1", url="https://crm.example.com/hook"),
            HttpDestinationSpec(
                id="d-2",
                url="https://erp.example.com/in",
                method="PUT",
                headers={"Authorization": "Bearer t", "X-Tenant": "acme"},
                timeout_s=2.5,
            ),
        ],
    }
    kwargs.update(overrides)
    return build_pipeline_spec(**kwargs)  # type: ignore[arg-type]


def pipeline_doc(**overrides: object) -> dict[str, object]:
    doc = json.loads(dump_spec(make_pipeline()))
    doc.update(overrides)
    return doc


def test_build_pipeline_spec_derives_topics_and_key() -> None:
    spec = make_pipeline()
    assert spec.source_topic == "dev.acme.orders.raw"
    assert spec.target_topic == "dev.acme.orders-crm.enriched"
    assert spec.key == "pipeline:p-1"
    assert spec.spec_version == SPEC_VERSION
    assert isinstance(spec.destinations, tuple)
    assert spec.is_active
    assert not make_pipeline(state="paused").is_active
    assert not make_pipeline(state="draft").is_active


def test_pipeline_spec_round_trips() -> None:
    spec = make_pipeline()
    parsed = parse_spec(dump_spec(spec))
    assert isinstance(parsed, PipelineSpec)
    assert parsed == spec
    assert isinstance(parsed.destinations, tuple)
    assert all(isinstance(d, HttpDestinationSpec) for d in parsed.destinations)
    assert parsed.destinations[1].headers == {"Authorization": "Bearer t", "X-Tenant": "acme"}
    assert parsed.destinations[1].timeout_s == 2.5


def test_pipeline_spec_without_destinations_round_trips() -> None:
    spec = make_pipeline(destinations=[])
    assert parse_spec(dump_spec(spec)) == spec


def test_source_spec_round_trips() -> None:
    spec = build_source_spec(env="prod", workspace="acme", stream="orders")
    assert spec.raw_topic == "prod.acme.orders.raw"
    assert spec.key == "source:acme.orders"
    parsed = parse_spec(dump_spec(spec))
    assert isinstance(parsed, SourceSpec)
    assert parsed == spec


def test_dump_spec_is_tagged_json_with_stable_key_order() -> None:
    pipeline_doc_ = json.loads(dump_spec(make_pipeline()))
    source_doc = json.loads(dump_spec(build_source_spec(env="dev", workspace="acme", stream="orders")))
    assert pipeline_doc_["kind"] == "pipeline"
    assert source_doc["kind"] == "source"
    assert pipeline_doc_["spec_version"] == SPEC_VERSION
    assert dump_spec(make_pipeline()) == dump_spec(make_pipeline())
    assert list(source_doc) == sorted(source_doc)


def test_build_refuses_invalid_names() -> None:
    with pytest.raises(ValueError, match="workspace"):
        make_pipeline(workspace="Acme")
    with pytest.raises(ValueError, match="stream"):
        build_source_spec(env="dev", workspace="acme", stream="or_ders")


def test_unknown_kind_is_refused() -> None:
    value = json.dumps(pipeline_doc(kind="sink")).encode()
    with pytest.raises(InvalidSpec, match="unknown spec kind 'sink'"):
        parse_spec(value)


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_wrong_spec_version_is_refused(version: object) -> None:
    value = json.dumps(pipeline_doc(spec_version=version)).encode()
    with pytest.raises(InvalidSpec, match="unsupported spec_version"):
        parse_spec(value)


def test_missing_spec_version_is_refused() -> None:
    doc = pipeline_doc()
    del doc["spec_version"]
    with pytest.raises(InvalidSpec, match="unsupported spec_version None"):
        parse_spec(json.dumps(doc).encode())


def _without(field: str) -> bytes:
    doc = pipeline_doc()
    del doc[field]
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"not json",
        b"{",
        b"\xff\xfe\x00",
        b"{}",
        b"[]",
        b'{"kind": "source", "spec_version": 1}',
        b'{"kind": "source", "spec_version": 1, "workspace": "a", "stream": "b", "raw_topic": "t", "x": 1}',
        _without("kind"),
        _without("mapping"),
        _without("destinations"),
        json.dumps(pipeline_doc(destinations=[{"id": "d"}])).encode(),
        json.dumps(pipeline_doc(destinations=[{"id": "d", "url": "u", "verb": "POST"}])).encode(),
        json.dumps(pipeline_doc(destinations=None)).encode(),
        json.dumps(pipeline_doc(destinations=[5])).encode(),
        json.dumps(pipeline_doc(unexpected=True)).encode(),
    ],
)
def test_garbage_is_refused_with_invalid_spec(value: bytes) -> None:
    with pytest.raises(InvalidSpec):
        parse_spec(value)


@pytest.mark.parametrize("value", [b'"pipeline"', b"5", b"null", b"true"])
def test_json_scalar_is_refused_with_invalid_spec(value: bytes) -> None:
    with pytest.raises(InvalidSpec):
        parse_spec(value)


def test_invalid_spec_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_spec(b"{}")
