"""Writes for streams and pipelines. Every change a worker must know is published before it commits."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from control.core.exceptions import ValidationError
from control.core.kafka import DAY_MS, TopicSpec, record_publish, topics_ensure
from control.pipelines.choices import PipelineState
from control.pipelines.models import Pipeline, Stream
from control.pipelines.specs import pipeline_spec, stream_source_spec
from control.workspaces.models import Workspace
from streams.mapping import check_expression
from streams.spec import dump_spec
from streams.topics import Variant, config_topic, topic_name

logger = logging.getLogger("switchyard.control.pipelines")

# The DLQ keeps longest: it is where people come back to fix and replay.
RETENTION_DAYS = {Variant.RAW: 7, Variant.ENRICHED: 7, Variant.RETRY: 7, Variant.DLQ: 30}


def _full_clean(obj: Stream | Pipeline) -> None:
    try:
        obj.full_clean()
    except DjangoValidationError as exc:
        raise ValidationError(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()), details=exc.message_dict
        ) from exc


def stream_topics(stream: Stream) -> list[TopicSpec]:
    return [
        TopicSpec(
            topic_name(env=settings.SWITCHYARD_ENV, workspace=stream.workspace.slug, stream=stream.name, variant=v),
            partitions=stream.partitions,
            config={"retention.ms": str(RETENTION_DAYS[v] * DAY_MS)},
        )
        for v in Variant
    ]


def stream_get_or_create(*, workspace: Workspace, name: str, partitions: int = 3) -> tuple[Stream, bool]:
    """Provision the stream's four topics (idempotently), then record it and publish its source spec."""
    existing = Stream.objects.filter(workspace=workspace, name=name).first()
    if existing is not None:
        return existing, False
    stream = Stream(workspace=workspace, name=name, partitions=partitions)
    _full_clean(stream)
    # Topics first: if Kafka is unreachable, nothing is saved and the caller is told so.
    topics_ensure(stream_topics(stream))
    with transaction.atomic():
        stream.save()
        _publish(stream_source_spec(stream).key, dump_spec(stream_source_spec(stream)))
    return stream, True


def _check_pipeline(pipeline: Pipeline) -> None:
    _full_clean(pipeline)
    if pipeline.source.workspace_id != pipeline.workspace_id or pipeline.target.workspace_id != pipeline.workspace_id:
        raise ValidationError("source and target streams must belong to the pipeline's workspace")
    error = check_expression(pipeline.mapping)
    if error is not None:
        where = f" at position {error.position}" if error.position is not None else ""
        raise ValidationError(
            f"the mapping does not compile{where}: {error.message}",
            details={"mapping": {"code": error.code, "message": error.message, "position": error.position}},
        )


def pipeline_save(*, pipeline: Pipeline) -> Pipeline:
    """Validate, bump the revision and publish the compiled spec; the save and the publish stand or fall together."""
    _check_pipeline(pipeline)
    with transaction.atomic():
        pipeline.revision += 1
        pipeline.save()
        spec = pipeline_spec(pipeline)
        _publish(spec.key, dump_spec(spec))
    logger.info("pipeline %s saved at revision %d", pipeline, pipeline.revision)
    return pipeline


def pipeline_create(
    *,
    workspace: Workspace,
    name: str,
    source: Stream,
    target: Stream,
    mapping: str,
    destination_url: str,
    state: str = PipelineState.ACTIVE,
) -> Pipeline:
    pipeline = Pipeline(
        workspace=workspace,
        name=name,
        source=source,
        target=target,
        mapping=mapping,
        destination_url=destination_url,
        state=state,
    )
    return pipeline_save(pipeline=pipeline)


def specs_republish() -> int:
    """Publish every stream's and pipeline's current spec again (e.g. after the config topic was lost)."""
    count = 0
    for stream in Stream.objects.select_related("workspace"):
        _publish(stream_source_spec(stream).key, dump_spec(stream_source_spec(stream)))
        count += 1
    for pipeline in Pipeline.objects.select_related("workspace", "source", "target"):
        spec = pipeline_spec(pipeline)
        _publish(spec.key, dump_spec(spec))
        count += 1
    return count


def _publish(key: str, value: bytes) -> None:
    record_publish(topic=config_topic(settings.SWITCHYARD_ENV), key=key, value=value)
