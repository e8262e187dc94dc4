from __future__ import annotations

from django.db.models import QuerySet

from control.core.exceptions import NotFound
from control.replay.models import ReplayJob
from control.workspaces.models import Workspace


def replay_job_list(*, workspace: Workspace) -> QuerySet[ReplayJob]:
    return ReplayJob.objects.filter(workspace=workspace).select_related("workspace", "stream", "created_by")


def replay_job_get(*, workspace: Workspace, pk: int | str) -> ReplayJob:
    job = replay_job_list(workspace=workspace).filter(pk=pk).first()
    if job is None:
        raise NotFound(f"replay job {pk} not found in workspace {workspace.slug!r}")
    return job
