from __future__ import annotations

from control.workspaces.models import Workspace


def workspace_get_or_create(*, slug: str, name: str) -> tuple[Workspace, bool]:
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is not None:
        return workspace, False
    workspace = Workspace(slug=slug, name=name)
    workspace.full_clean()
    workspace.save()
    return workspace, True
