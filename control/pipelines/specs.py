"""Compile a pipeline's configuration into the PipelineSpec the workers run, and show it without secrets."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils import timezone

from control.destinations.models import Destination
from control.pipelines.models import Pipeline
from control.schemas.models import SchemaVersion
from streams.spec import HttpDestinationSpec, PipelineSpec, SchemaRef, build_pipeline_spec, dump_spec

MASK = "********"
# Records are stamped by the workers' clocks, start times by ours: start a minute early rather than
# skip events because of clock skew (at-least-once; receivers de-duplicate on the event id).
CLOCK_SKEW_MARGIN_MS = 60_000
SECRET_FIELDS = ("auth_secret_enc", "signing_secret_enc")


def _schema_ref(version: SchemaVersion | None) -> SchemaRef | None:
    if version is None:
        return None
    return SchemaRef(id=str(version.schema_id), version=version.version, schema=version.definition)


def destination_spec(destination: Destination, *, start_at_ms: int | None = None) -> HttpDestinationSpec:
    return HttpDestinationSpec(
        id=str(destination.pk),
        name=destination.name,
        url=destination.url,
        method=destination.method,
        headers=dict(destination.headers),
        timeout_s=float(destination.timeout_s),
        auth_type=destination.auth_type,
        auth_username=destination.auth_username,
        auth_secret_enc=destination.auth_secret_enc,
        signing_secret_enc=destination.signing_secret_enc,
        retry_schedule_s=tuple(float(s) for s in destination.retry_schedule_s),
        max_concurrency=destination.max_concurrency,
        circuit_failure_threshold=destination.circuit_failure_threshold,
        start_at_ms=start_at_ms,
    )


def _destination_starts(pipeline: Pipeline) -> dict[int, int]:
    """When each destination first joined an activated revision (ms); one joining now starts now.

    The workers deliver to a destination only what was enriched after that, so adding a destination
    to a running pipeline does not send it the stream's history.
    """
    starts: dict[int, int] = {}
    for revision in pipeline.revisions.order_by("number") if pipeline.pk else ():
        for destination_id in revision.destination_ids:
            starts.setdefault(int(destination_id), int(revision.created_at.timestamp() * 1000) - CLOCK_SKEW_MARGIN_MS)
    return starts


def pipeline_spec_compile(pipeline: Pipeline, *, revision: int, state: str) -> PipelineSpec:
    start = pipeline.first_activated_at
    starts = _destination_starts(pipeline)
    now_ms = int(timezone.now().timestamp() * 1000) - CLOCK_SKEW_MARGIN_MS
    return build_pipeline_spec(
        env=settings.SWITCHYARD_ENV,
        id=str(pipeline.pk),
        workspace=pipeline.workspace.slug,
        name=pipeline.name,
        revision=revision,
        state=state,
        source_stream=pipeline.source.name,
        target_stream=pipeline.target.name,
        mapping=pipeline.mapping_version.expression,
        mapping_version=pipeline.mapping_version.version,
        input_schema=_schema_ref(pipeline.input_schema_version),
        output_schema=_schema_ref(pipeline.output_schema_version),
        target_key_path=pipeline.target.key_path or None,
        destinations=[
            destination_spec(d, start_at_ms=starts.get(d.pk, now_ms)) for d in pipeline.destinations.order_by("pk")
        ],
        start_at_ms=int(start.timestamp() * 1000) - CLOCK_SKEW_MARGIN_MS if start else None,
    )


def spec_document(spec: PipelineSpec) -> dict[str, Any]:
    """The spec as the JSON document on the config topic (what a revision stores)."""
    document: dict[str, Any] = json.loads(dump_spec(spec))
    return document


def spec_bytes(document: dict[str, Any], *, state: str) -> bytes:
    """A stored revision document as config-topic bytes, in the given state (pause keeps the revision)."""
    return json.dumps({**document, "state": state}, sort_keys=True).encode()


def spec_masked(document: dict[str, Any]) -> dict[str, Any]:
    """For people: the document with every destination secret replaced by a mask."""
    destinations = [
        {**d, **{name: MASK for name in SECRET_FIELDS if d.get(name)}} for d in document.get("destinations", [])
    ]
    return {**document, "destinations": destinations}
