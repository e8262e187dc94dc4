from __future__ import annotations

from django.db.models import QuerySet

from control.core.exceptions import NotFound
from control.pipelines.models import Pipeline, PipelineRevision
from control.workspaces.models import Workspace


def pipeline_list(*, workspace: Workspace) -> QuerySet[Pipeline]:
    return (
        Pipeline.objects.filter(workspace=workspace)
        .select_related("workspace", "source", "target", "mapping_version__mapping", "current_revision")
        .prefetch_related("destinations")
    )


def pipeline_get(*, workspace: Workspace, pk: int | str) -> Pipeline:
    pipeline = pipeline_list(workspace=workspace).filter(pk=pk).first()
    if pipeline is None:
        raise NotFound(f"pipeline {pk} not found in workspace {workspace.slug!r}")
    return pipeline


def pipeline_revision_list(*, pipeline: Pipeline) -> QuerySet[PipelineRevision]:
    return PipelineRevision.objects.filter(pipeline=pipeline).select_related("created_by")


def pipeline_revision_get(*, pipeline: Pipeline, number: int | str) -> PipelineRevision:
    revision = pipeline_revision_list(pipeline=pipeline).filter(number=number).first()
    if revision is None:
        raise NotFound(f"pipeline {pipeline} has no revision {number}")
    return revision
