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


# Delivery retry schedule (seconds after each failed attempt), then the DLQ. Jitter is applied by the worker.
DEFAULT_RETRY_SCHEDULE_S: tuple[float, ...] = (5, 30, 120, 600, 1800, 7200, 21600, 43200)


@dataclass(frozen=True)
class HttpDestinationSpec:
    """Where and how to deliver. Secret fields hold Fernet tokens (streams/secrets.py), never plain text."""

    id: str
    url: str
    name: str = ""
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 10.0
    auth_type: str = "none"  # "none" | "basic" | "bearer"
    auth_username: str = ""
    auth_secret_enc: str = ""  # the basic-auth password or the bearer token, encrypted
    signing_secret_enc: str = ""  # a Standard Webhooks secret ("whsec_..."), encrypted; empty: unsigned
    retry_schedule_s: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE_S
    max_concurrency: int = 10
    circuit_failure_threshold: int = 5  # consecutive failures that open the circuit breaker
    circuit_open_s: float = 30.0  # how long an open circuit waits before a probe (doubles while probes fail)
    # Records older than this (ms since epoch) are not delivered here: a destination added to a
    # running pipeline starts from when it was added, not from the start of the topic.
    start_at_ms: int | None = None


@dataclass(frozen=True)
class SchemaRef:
    """One immutable JSON Schema version, carried whole so the worker needs nothing else."""

    id: str
    version: int
    schema: dict[str, Any]


@dataclass(frozen=True)
class IngestKeySpec:
    """An ingest key as the worker knows it: its SHA-256 (streams/secrets.py:hash_ingest_key), never the key."""

    id: str
    sha256: str
    prefix: str = ""


@dataclass(frozen=True)
class SignatureSpec:
    """Optional verification of incoming requests: "none", "standard-webhooks" or "hmac-sha256"."""

    type: str = "none"
    secret_enc: str = ""
    header: str = "X-Hub-Signature-256"  # for hmac-sha256: the header carrying "sha256=<hex>"
    tolerance_s: int = 300


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
    mapping_version: int = 0
    input_schema: SchemaRef | None = None
    output_schema: SchemaRef | None = None
    target_key_path: str | None = None  # dotted path into the output whose value becomes the Kafka key
    # Source records older than this (ms since epoch, usually the first activation) are skipped:
    # a new pipeline on an existing stream starts from its activation, not from the topic's start.
    start_at_ms: int | None = None
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
    key_path: str | None = None  # dotted path into the event whose value becomes the Kafka key
    ingest_keys: tuple[IngestKeySpec, ...] = ()
    require_key: bool = True  # False only for a stream opened explicitly to anonymous producers
    signature: SignatureSpec = field(default_factory=SignatureSpec)
    max_batch: int = 100
    rate_limit_per_s: float = 100.0  # per ingest key, token bucket
    rate_limit_burst: int = 200
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
    **options: Any,
) -> PipelineSpec:
    """`options`: the optional PipelineSpec fields (mapping_version, schemas, target_key_path)."""
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
        **options,
    )


def build_source_spec(*, env: str, workspace: str, stream: str, **options: Any) -> SourceSpec:
    """`options`: the optional SourceSpec fields (key_path, ingest_keys, signature, limits)."""
    return SourceSpec(
        workspace=workspace,
        stream=stream,
        raw_topic=topic_name(env=env, workspace=workspace, stream=stream, variant=Variant.RAW),
        **options,
    )


def _destination(doc: dict[str, Any]) -> HttpDestinationSpec:
    if "retry_schedule_s" in doc:
        doc = {**doc, "retry_schedule_s": tuple(doc["retry_schedule_s"])}
    return HttpDestinationSpec(**doc)


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
            doc["ingest_keys"] = tuple(IngestKeySpec(**k) for k in doc.get("ingest_keys", ()))
            doc["signature"] = SignatureSpec(**doc.get("signature", {}))
            return SourceSpec(**doc)
        if kind == "pipeline":
            doc["destinations"] = tuple(_destination(d) for d in doc["destinations"])
            for name in ("input_schema", "output_schema"):
                if doc.get(name) is not None:
                    doc[name] = SchemaRef(**doc[name])
            return PipelineSpec(**doc)
    except InvalidSpec:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidSpec(f"spec does not parse: {exc}") from exc
    raise InvalidSpec(f"unknown spec kind {kind!r}")
