"""The worker's registry: the latest spec per key wins, a tombstone removes, garbage is ignored."""

from __future__ import annotations

import logging

import pytest

from streams.registry import SpecRegistry
from streams.spec import (
    HttpDestinationSpec,
    PipelineSpec,
    SourceSpec,
    build_pipeline_spec,
    build_source_spec,
    dump_spec,
    pipeline_key,
    source_key,
)


def pipeline(
    id: str = "p-1", *, revision: int = 1, source_stream: str = "orders", mapping: str = "order"
) -> PipelineSpec:
    return build_pipeline_spec(
        env="dev",
        id=id,
        workspace="acme",
        name=f"pipeline {id}",
        revision=revision,
        state="active",
        source_stream=source_stream,
        target_stream=f"{source_stream}-out",
        mapping=mapping,
        destinations=[HttpDestinationSpec(id="d", url="https://example.com/hook")],
    )


def source(stream: str = "orders") -> SourceSpec:
    return build_source_spec(env="dev", workspace="acme", stream=stream)


def apply(registry: SpecRegistry, spec: PipelineSpec | SourceSpec) -> None:
    registry.apply(spec.key, dump_spec(spec))


def ids(specs: object) -> list[str]:
    return sorted(s.id for s in specs)  # type: ignore[attr-defined]


def test_an_empty_registry_knows_nothing() -> None:
    registry = SpecRegistry()
    assert registry.pipeline("p-1") is None
    assert registry.source("acme", "orders") is None
    assert registry.pipelines_for_source("dev.acme.orders.raw") == []
    assert list(registry.pipelines()) == []


def test_apply_pipeline_spec() -> None:
    registry = SpecRegistry()
    spec = pipeline()
    apply(registry, spec)
    assert registry.pipeline("p-1") == spec
    assert list(registry.pipelines()) == [spec]
    assert registry.pipelines_for_source("dev.acme.orders.raw") == [spec]
    assert registry.source("acme", "orders") is None


def test_apply_source_spec() -> None:
    registry = SpecRegistry()
    spec = source()
    apply(registry, spec)
    assert registry.source("acme", "orders") == spec
    assert registry.source("acme", "clicks") is None
    assert registry.source("other", "orders") is None
    assert list(registry.pipelines()) == []


def test_newer_revision_replaces_older() -> None:
    registry = SpecRegistry()
    apply(registry, pipeline(revision=1, mapping="order"))
    newer = pipeline(revision=2, mapping="order.id")
    apply(registry, newer)
    assert registry.pipeline("p-1") == newer
    assert registry.pipelines_for_source("dev.acme.orders.raw") == [newer]
    assert len(list(registry.pipelines())) == 1


def test_revision_moving_the_source_reindexes() -> None:
    registry = SpecRegistry()
    apply(registry, pipeline(revision=1, source_stream="orders"))
    moved = pipeline(revision=2, source_stream="invoices")
    apply(registry, moved)
    assert registry.pipelines_for_source("dev.acme.orders.raw") == []
    assert registry.pipelines_for_source("dev.acme.invoices.raw") == [moved]


def test_newer_source_spec_replaces_older() -> None:
    registry = SpecRegistry()
    apply(registry, source())
    replacement = SourceSpec(workspace="acme", stream="orders", raw_topic="dev.acme.orders-v2.raw")
    registry.apply(replacement.key, dump_spec(replacement))
    assert registry.source("acme", "orders") == replacement


@pytest.mark.parametrize("tombstone", [None, b""])
def test_tombstone_removes_a_pipeline(tombstone: bytes | None) -> None:
    registry = SpecRegistry()
    apply(registry, pipeline("p-1"))
    apply(registry, pipeline("p-2"))
    registry.apply(pipeline_key("p-1"), tombstone)
    assert registry.pipeline("p-1") is None
    assert registry.pipeline("p-2") is not None
    assert ids(registry.pipelines_for_source("dev.acme.orders.raw")) == ["p-2"]
    assert ids(registry.pipelines()) == ["p-2"]


@pytest.mark.parametrize("tombstone", [None, b""])
def test_tombstone_removes_a_source(tombstone: bytes | None) -> None:
    registry = SpecRegistry()
    apply(registry, source("orders"))
    apply(registry, source("clicks"))
    registry.apply(source_key("acme", "orders"), tombstone)
    assert registry.source("acme", "orders") is None
    assert registry.source("acme", "clicks") == source("clicks")


def test_tombstone_for_an_unknown_key_is_harmless() -> None:
    registry = SpecRegistry()
    apply(registry, pipeline())
    registry.apply(pipeline_key("nope"), None)
    registry.apply(source_key("acme", "nope"), None)
    registry.apply("weird-key", None)
    assert registry.pipeline("p-1") == pipeline()


def test_pipeline_can_come_back_after_a_tombstone() -> None:
    registry = SpecRegistry()
    apply(registry, pipeline(revision=1))
    registry.apply(pipeline_key("p-1"), None)
    apply(registry, pipeline(revision=5))
    spec = registry.pipeline("p-1")
    assert spec is not None
    assert spec.revision == 5


@pytest.mark.parametrize(
    "garbage",
    [b"not json", b"{}", b'{"kind": "pipeline", "spec_version": 99}', b'{"kind": "sink", "spec_version": 1}', b"[1]"],
)
def test_garbage_record_is_ignored_and_the_previous_spec_stays(
    garbage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    registry = SpecRegistry()
    good = pipeline(revision=4)
    apply(registry, good)
    with caplog.at_level(logging.ERROR, logger="switchyard.registry"):
        registry.apply(good.key, garbage)
    assert registry.pipeline("p-1") == good
    assert registry.pipelines_for_source("dev.acme.orders.raw") == [good]
    assert any("ignoring config record pipeline:p-1" in r.getMessage() for r in caplog.records)


def test_json_scalar_record_is_ignored_too() -> None:
    registry = SpecRegistry()
    apply(registry, pipeline())
    registry.apply(pipeline_key("p-1"), b"null")
    assert registry.pipeline("p-1") == pipeline()


def test_pipelines_for_source_lists_only_that_source() -> None:
    registry = SpecRegistry()
    apply(registry, pipeline("p-1", source_stream="orders"))
    apply(registry, pipeline("p-2", source_stream="orders"))
    apply(registry, pipeline("p-3", source_stream="clicks"))
    assert ids(registry.pipelines_for_source("dev.acme.orders.raw")) == ["p-1", "p-2"]
    assert ids(registry.pipelines_for_source("dev.acme.clicks.raw")) == ["p-3"]
    assert registry.pipelines_for_source("dev.acme.orders.enriched") == []
    assert registry.pipelines_for_source("prod.acme.orders.raw") == []


def test_pipelines_for_source_returns_a_copy() -> None:
    registry = SpecRegistry()
    apply(registry, pipeline())
    registry.pipelines_for_source("dev.acme.orders.raw").clear()
    registry.pipelines_for_source("dev.acme.unknown.raw").append(pipeline("p-9"))
    assert ids(registry.pipelines_for_source("dev.acme.orders.raw")) == ["p-1"]
    assert registry.pipelines_for_source("dev.acme.unknown.raw") == []
