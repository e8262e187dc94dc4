"""The pipeline spec: the versioned, self-contained document a worker needs to run one pipeline.

The control plane compiles it and publishes it to the compacted config topic (key
`pipeline:<id>`); workers read it back with `parse_spec`. A tombstone (empty value) removes it.
Streams that accept events over HTTP are published the same way as source specs (`source:<ws>.<stream>`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from streams.exceptions import InvalidSpec
from streams.topics import Variant, topic_name

SPEC_VERSION = 1


@dataclass(frozen=True)
class HttpDestinationSpec:
    id: str
    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 10.0


@dataclass(frozen=True)
class PipelineSpec:
    id: str
    workspace: str
    name: str
    revision: int
    state: str  # "active" | "paused" | "draft"
    source_stream: str
    target_stream: str
    source_topic: str
    target_topic: str
    mapping: str
    destinations: tuple[HttpDestinationSpec, ...]
    spec_version: int = SPEC_VERSION

    @property
    def key(self) -> str:
        return pipeline_key(self.id)

    @property
    def is_active(self) -> bool:
        return self.state == "active"


@dataclass(frozen=True)
class SourceSpec:
    """A stream that accepts events on `POST /ingest/<workspace>/<stream>`."""

    workspace: str
    stream: str
    raw_topic: str
    spec_version: int = SPEC_VERSION

    @property
    def key(self) -> str:
        return source_key(self.workspace, self.stream)


def pipeline_key(pipeline_id: str) -> str:
    return f"pipeline:{pipeline_id}"


def source_key(workspace: str, stream: str) -> str:
    return f"source:{workspace}.{stream}"


def build_pipeline_spec(
    *,
    env: str,
    id: str,
    workspace: str,
    name: str,
    revision: int,
    state: str,
    source_stream: str,
    target_stream: str,
    mapping: str,
    destinations: list[HttpDestinationSpec],
) -> PipelineSpec:
    return PipelineSpec(
        id=id,
        workspace=workspace,
        name=name,
        revision=revision,
        state=state,
        source_stream=source_stream,
        target_stream=target_stream,
        source_topic=topic_name(env=env, workspace=workspace, stream=source_stream, variant=Variant.RAW),
        target_topic=topic_name(env=env, workspace=workspace, stream=target_stream, variant=Variant.ENRICHED),
        mapping=mapping,
        destinations=tuple(destinations),
    )


def build_source_spec(*, env: str, workspace: str, stream: str) -> SourceSpec:
    return SourceSpec(
        workspace=workspace,
        stream=stream,
        raw_topic=topic_name(env=env, workspace=workspace, stream=stream, variant=Variant.RAW),
    )


def dump_spec(spec: PipelineSpec | SourceSpec) -> bytes:
    kind = "pipeline" if isinstance(spec, PipelineSpec) else "source"
    return json.dumps({"kind": kind, **asdict(spec)}, sort_keys=True).encode()


def parse_spec(value: bytes) -> PipelineSpec | SourceSpec:
    try:
        doc: dict[str, Any] = json.loads(value)
        if not isinstance(doc, dict):
            raise InvalidSpec("a spec must be a JSON object")
        kind = doc.pop("kind")
        if doc.get("spec_version") != SPEC_VERSION:
            raise InvalidSpec(
                f"unsupported spec_version {doc.get('spec_version')!r} (this worker reads {SPEC_VERSION})"
            )
        if kind == "source":
            return SourceSpec(**doc)
        if kind == "pipeline":
            doc["destinations"] = tuple(HttpDestinationSpec(**d) for d in doc["destinations"])
            return PipelineSpec(**doc)
    except InvalidSpec:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidSpec(f"spec does not parse: {exc}") from exc
    raise InvalidSpec(f"unknown spec kind {kind!r}")
