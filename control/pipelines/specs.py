"""Compile control-plane objects into the specs the workers run (pure: no I/O)."""

from __future__ import annotations

from django.conf import settings

from control.pipelines.models import Pipeline, Stream
from streams.spec import HttpDestinationSpec, PipelineSpec, SourceSpec, build_pipeline_spec, build_source_spec


def stream_source_spec(stream: Stream) -> SourceSpec:
    return build_source_spec(env=settings.SWITCHYARD_ENV, workspace=stream.workspace.slug, stream=stream.name)


def pipeline_spec(pipeline: Pipeline) -> PipelineSpec:
    return build_pipeline_spec(
        env=settings.SWITCHYARD_ENV,
        id=str(pipeline.pk),
        workspace=pipeline.workspace.slug,
        name=pipeline.name,
        revision=pipeline.revision,
        state=pipeline.state,
        source_stream=pipeline.source.name,
        target_stream=pipeline.target.name,
        mapping=pipeline.mapping,
        destinations=[HttpDestinationSpec(id="default", url=pipeline.destination_url)],
    )
