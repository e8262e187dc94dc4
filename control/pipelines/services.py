"""Writes for pipelines. Configuration edits are drafts; activation compiles an immutable revision whose spec
goes to the outbox in the same transaction, and the workers run exactly that."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from control.audit.services import audit_record, snapshot
from control.core.exceptions import Conflict, ValidationError
from control.core.services import model_assign
from control.core.validation import full_clean
from control.destinations.models import Destination
from control.destinations.services import destination_create
from control.mappings.models import MappingVersion
from control.mappings.services import mapping_create, mapping_version_create
from control.mappings.testing import SchemaUse, mapping_run
from control.outbox.services import outbox_enqueue
from control.pipelines.choices import PipelineState
from control.pipelines.models import Pipeline, PipelineRevision
from control.pipelines.specs import pipeline_spec_compile, spec_bytes, spec_document
from control.schemas.models import SchemaVersion
from control.streams.models import Stream
from control.workspaces.models import Workspace
from streams.spec import pipeline_key

logger = logging.getLogger("switchyard.control.pipelines")

PIPELINE_FIELDS = (
    "name",
    "description",
    "source",
    "input_schema_version",
    "mapping_version",
    "output_schema_version",
    "target",
    "state",
)
CONFIG_FIELDS = ("description", "source", "input_schema_version", "mapping_version", "output_schema_version", "target")


def _snapshot(pipeline: Pipeline) -> dict[str, Any]:
    data = snapshot(pipeline, PIPELINE_FIELDS)
    data["destinations"] = sorted(pipeline.destinations.values_list("pk", flat=True)) if pipeline.pk else []
    data["revision"] = pipeline.current_revision.number if pipeline.current_revision else None
    return data


def _check(pipeline: Pipeline, destinations: Iterable[Destination]) -> None:
    full_clean(pipeline, exclude=["workspace", "current_revision"])
    ws = pipeline.workspace_id
    foreign = {
        "source": pipeline.source.workspace_id != ws,
        "target": pipeline.target.workspace_id != ws,
        "mapping_version": pipeline.mapping_version.mapping.workspace_id != ws,
        "input_schema_version": bool(pipeline.input_schema_version)
        and pipeline.input_schema_version.schema.workspace_id != ws,  # type: ignore[union-attr]
        "output_schema_version": bool(pipeline.output_schema_version)
        and pipeline.output_schema_version.schema.workspace_id != ws,  # type: ignore[union-attr]
        "destinations": any(d.workspace_id != ws for d in destinations),
    }
    wrong = [name for name, bad in foreign.items() if bad]
    if wrong:
        # Said as "not found": another workspace's objects do not exist for this one.
        raise ValidationError(
            f"{', '.join(wrong)}: not found in workspace {pipeline.workspace.slug}",
            details={name: ["Not found in this workspace."] for name in wrong},
        )


def pipeline_create(
    *,
    workspace: Workspace,
    name: str,
    source: Stream,
    target: Stream,
    mapping_version: MappingVersion,
    destinations: Iterable[Destination] = (),
    input_schema_version: SchemaVersion | None = None,
    output_schema_version: SchemaVersion | None = None,
    description: str = "",
    actor: Any = None,
) -> Pipeline:
    """A draft: nothing reaches the workers until it is activated."""
    if Pipeline.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict(f"pipeline {name!r} already exists in {workspace.slug}", details={"name": ["Already exists."]})
    destinations = list(destinations)
    pipeline = Pipeline(
        workspace=workspace,
        name=name,
        description=description,
        source=source,
        target=target,
        mapping_version=mapping_version,
        input_schema_version=input_schema_version,
        output_schema_version=output_schema_version,
    )
    _check(pipeline, destinations)
    with transaction.atomic():
        pipeline.save()
        pipeline.destinations.set(destinations)
        audit_record(
            actor=actor, workspace=workspace, action="pipeline.create", obj=pipeline, after=_snapshot(pipeline)
        )
    return pipeline


def pipeline_update(
    *, pipeline: Pipeline, actor: Any, data: dict[str, Any], destinations: Iterable[Destination] | None = None
) -> Pipeline:
    """Edit the working configuration; the workers keep running the current revision until the next activation."""
    if pipeline.state == PipelineState.ARCHIVED:
        raise Conflict("an archived pipeline cannot change", details={"state": ["Archived."]})
    before = _snapshot(pipeline)
    model_assign(instance=pipeline, fields=CONFIG_FIELDS, data=data)
    chosen = list(destinations) if destinations is not None else list(pipeline.destinations.all())
    _check(pipeline, chosen)
    with transaction.atomic():
        pipeline.save()
        pipeline.destinations.set(chosen)
        audit_record(
            actor=actor,
            workspace=pipeline.workspace,
            action="pipeline.update",
            obj=pipeline,
            before=before,
            after=_snapshot(pipeline),
        )
    return pipeline


def _check_sample(pipeline: Pipeline) -> None:
    """Before a revision goes live, its mapping's own sample must pass the pipeline's schemas (same code as workers)."""
    version = pipeline.mapping_version
    if version.sample_input is None:
        return
    result = mapping_run(
        expression=version.expression,
        sample=version.sample_input,
        input_schema=_schema_use(pipeline.input_schema_version),
        output_schema=_schema_use(pipeline.output_schema_version),
    )
    if not result.ok:
        raise ValidationError(
            f"mapping {version}'s sample fails in this pipeline at {result.stage}: {result.message}",
            details={"mapping_version": [f"{result.stage}: {result.message}"]},
        )


def _schema_use(version: SchemaVersion | None) -> SchemaUse | None:
    if version is None:
        return None
    return SchemaUse(id=str(version.schema_id), version=version.version, definition=version.definition)


def _next_number(pipeline: Pipeline) -> int:
    latest = PipelineRevision.objects.filter(pipeline=pipeline).order_by("-number").first()
    return latest.number + 1 if latest else 1


def _publish(pipeline: Pipeline, revision: PipelineRevision, state: str) -> None:
    outbox_enqueue(key=pipeline_key(str(pipeline.pk)), value=spec_bytes(revision.spec, state=state))


def _go_live(pipeline: Pipeline, *, actor: Any, action: str, rolled_back_from: int | None = None) -> PipelineRevision:
    before = _snapshot(pipeline)
    with transaction.atomic():
        Pipeline.objects.select_for_update().filter(pk=pipeline.pk).first()
        if pipeline.first_activated_at is None:
            pipeline.first_activated_at = timezone.now()
        number = _next_number(pipeline)
        spec = pipeline_spec_compile(pipeline, revision=number, state=PipelineState.ACTIVE)
        revision = PipelineRevision.objects.create(
            pipeline=pipeline,
            number=number,
            spec=spec_document(spec),
            source=pipeline.source,
            target=pipeline.target,
            input_schema_version=pipeline.input_schema_version,
            mapping_version=pipeline.mapping_version,
            output_schema_version=pipeline.output_schema_version,
            destination_ids=sorted(pipeline.destinations.values_list("pk", flat=True)),
            rolled_back_from=rolled_back_from,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        pipeline.state = PipelineState.ACTIVE
        pipeline.current_revision = revision
        pipeline.save()
        _publish(pipeline, revision, PipelineState.ACTIVE)
        audit_record(
            actor=actor,
            workspace=pipeline.workspace,
            action=action,
            obj=pipeline,
            before=before,
            after=_snapshot(pipeline),
        )
    logger.info("pipeline %s: %s, revision %d", pipeline, action, number)
    return revision


def pipeline_activate(*, pipeline: Pipeline, actor: Any = None) -> PipelineRevision:
    """Compile the working configuration into a new revision and make it the one the workers run."""
    if pipeline.state == PipelineState.ARCHIVED:
        raise Conflict("an archived pipeline cannot be activated", details={"state": ["Archived."]})
    _check(pipeline, list(pipeline.destinations.all()))
    _check_sample(pipeline)
    return _go_live(pipeline, actor=actor, action="pipeline.activate")


def _set_state(pipeline: Pipeline, *, state: str, actor: Any, action: str) -> Pipeline:
    before = _snapshot(pipeline)
    with transaction.atomic():
        pipeline.state = state
        pipeline.save(update_fields=["state", "updated_at"])
        assert pipeline.current_revision is not None
        _publish(pipeline, pipeline.current_revision, state)
        audit_record(
            actor=actor,
            workspace=pipeline.workspace,
            action=action,
            obj=pipeline,
            before=before,
            after=_snapshot(pipeline),
        )
    return pipeline


def pipeline_pause(*, pipeline: Pipeline, actor: Any = None) -> Pipeline:
    """The workers keep the revision but stop transforming and delivering for it."""
    if pipeline.state != PipelineState.ACTIVE:
        raise Conflict(
            f"only an active pipeline can be paused; this one is {pipeline.state}", details={"state": [pipeline.state]}
        )
    return _set_state(pipeline, state=PipelineState.PAUSED, actor=actor, action="pipeline.pause")


def pipeline_resume(*, pipeline: Pipeline, actor: Any = None) -> Pipeline:
    if pipeline.state != PipelineState.PAUSED:
        raise Conflict(
            f"only a paused pipeline can be resumed; this one is {pipeline.state}", details={"state": [pipeline.state]}
        )
    return _set_state(pipeline, state=PipelineState.ACTIVE, actor=actor, action="pipeline.resume")


def pipeline_rollback(*, pipeline: Pipeline, revision: int, actor: Any = None) -> PipelineRevision:
    """Activate an earlier revision again: its exact spec becomes a new revision, and its configuration returns."""
    if pipeline.state == PipelineState.ARCHIVED:
        raise Conflict("an archived pipeline cannot be rolled back", details={"state": ["Archived."]})
    earlier = PipelineRevision.objects.filter(pipeline=pipeline, number=revision).first()
    if earlier is None:
        raise ValidationError(f"pipeline {pipeline} has no revision {revision}", details={"revision": ["Not found."]})
    if pipeline.current_revision_id == earlier.pk and pipeline.state == PipelineState.ACTIVE:
        raise Conflict(f"revision {revision} is already active", details={"revision": ["Already active."]})
    before = _snapshot(pipeline)
    with transaction.atomic():
        Pipeline.objects.select_for_update().filter(pk=pipeline.pk).first()
        number = _next_number(pipeline)
        # The spec is copied as it was (destination URLs and secrets of that time), under the new number.
        copy = PipelineRevision.objects.create(
            pipeline=pipeline,
            number=number,
            spec={**earlier.spec, "revision": number, "state": PipelineState.ACTIVE},
            source=earlier.source,
            target=earlier.target,
            input_schema_version=earlier.input_schema_version,
            mapping_version=earlier.mapping_version,
            output_schema_version=earlier.output_schema_version,
            destination_ids=earlier.destination_ids,
            rolled_back_from=earlier.number,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        for name in CONFIG_FIELDS[1:]:
            setattr(pipeline, name, getattr(earlier, name))
        pipeline.state = PipelineState.ACTIVE
        pipeline.current_revision = copy
        pipeline.save()
        pipeline.destinations.set(Destination.objects.filter(pk__in=earlier.destination_ids))
        _publish(pipeline, copy, PipelineState.ACTIVE)
        audit_record(
            actor=actor,
            workspace=pipeline.workspace,
            action="pipeline.rollback",
            obj=pipeline,
            before=before,
            after={**_snapshot(pipeline), "rolled_back_to": earlier.number},
        )
    return copy


def pipeline_archive(*, pipeline: Pipeline, actor: Any = None) -> Pipeline:
    """Stop it for good: the workers get a tombstone and forget it; the history stays."""
    if pipeline.state == PipelineState.ARCHIVED:
        return pipeline
    before = _snapshot(pipeline)
    with transaction.atomic():
        was_published = pipeline.current_revision_id is not None
        pipeline.state = PipelineState.ARCHIVED
        pipeline.save(update_fields=["state", "updated_at"])
        if was_published:
            outbox_enqueue(key=pipeline_key(str(pipeline.pk)), value=None)
        audit_record(
            actor=actor,
            workspace=pipeline.workspace,
            action="pipeline.archive",
            obj=pipeline,
            before=before,
            after=_snapshot(pipeline),
        )
    return pipeline


def pipeline_delete(*, pipeline: Pipeline, actor: Any = None) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            workspace=pipeline.workspace,
            action="pipeline.delete",
            obj=pipeline,
            before=_snapshot(pipeline),
        )
        if pipeline.current_revision_id is not None:
            outbox_enqueue(key=pipeline_key(str(pipeline.pk)), value=None)
        pipeline.current_revision = None
        pipeline.save(update_fields=["current_revision"])
        pipeline.delete()


def pipeline_specs_republish() -> int:
    """Queue every published pipeline's current spec again (manage.py reconcile_specs)."""
    count = 0
    with transaction.atomic():
        for pipeline in Pipeline.objects.select_related("current_revision"):
            if pipeline.state == PipelineState.ARCHIVED:
                outbox_enqueue(key=pipeline_key(str(pipeline.pk)), value=None)
            elif pipeline.current_revision is not None:
                _publish(pipeline, pipeline.current_revision, pipeline.state)
            else:
                continue
            count += 1
    return count


def pipeline_quickstart(
    *,
    workspace: Workspace,
    name: str,
    source: Stream,
    target: Stream,
    expression: str,
    destination_url: str,
    actor: Any = None,
) -> Pipeline:
    """One call for the demo and the end-to-end tests: a mapping, a destination and a pipeline, all named `name`,
    activated."""
    mapping = mapping_create(workspace=workspace, name=name, expression=expression, actor=actor)
    destination = destination_create(workspace=workspace, name=name, url=destination_url, actor=actor)
    pipeline = pipeline_create(
        workspace=workspace,
        name=name,
        source=source,
        target=target,
        mapping_version=mapping.versions.get(version=1),
        destinations=[destination],
        actor=actor,
    )
    pipeline_activate(pipeline=pipeline, actor=actor)
    return pipeline


def pipeline_mapping_change(*, pipeline: Pipeline, expression: str, actor: Any = None) -> PipelineRevision:
    """A new version of the pipeline's mapping, put into the pipeline and activated."""
    version = mapping_version_create(mapping=pipeline.mapping_version.mapping, expression=expression, actor=actor)
    pipeline_update(pipeline=pipeline, actor=actor, data={"mapping_version": version})
    return pipeline_activate(pipeline=pipeline, actor=actor)
