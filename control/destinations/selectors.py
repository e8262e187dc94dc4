from __future__ import annotations

from django.db.models import QuerySet

from control.core.exceptions import NotFound
from control.destinations.models import Destination
from control.workspaces.models import Workspace


def destination_list(*, workspace: Workspace) -> QuerySet[Destination]:
    return Destination.objects.filter(workspace=workspace).select_related("workspace")


def destination_get(*, workspace: Workspace, pk: int | str) -> Destination:
    destination = destination_list(workspace=workspace).filter(pk=pk).first()
    if destination is None:
        raise NotFound(f"destination {pk} not found in workspace {workspace.slug!r}")
    return destination
