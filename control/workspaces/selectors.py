"""Reads scoped to the caller: a workspace the user is not a member of does not exist for them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from control.core.exceptions import NotFound
from control.core.tenancy import is_platform_staff
from control.workspaces.choices import Role
from control.workspaces.models import Membership, Workspace


def workspace_list(*, user: Any) -> QuerySet[Workspace]:
    if is_platform_staff(user):
        return Workspace.objects.all()
    if not user or not user.is_authenticated:
        return Workspace.objects.none()
    return Workspace.objects.filter(memberships__user=user)


def workspace_get(*, user: Any, slug: str) -> Workspace:
    workspace = workspace_list(user=user).filter(slug=slug).first()
    if workspace is None:
        raise NotFound(f"workspace {slug!r} not found")
    return workspace


def role_get(*, user: Any, workspace: Workspace) -> str | None:
    """The user's role in the workspace; staff act as owners everywhere; None: not a member."""
    if is_platform_staff(user):
        return Role.OWNER
    if not user or not user.is_authenticated:
        return None
    membership = Membership.objects.filter(workspace=workspace, user=user).only("role").first()
    return membership.role if membership else None


def membership_list(*, workspace: Workspace) -> QuerySet[Membership]:
    return Membership.objects.filter(workspace=workspace).select_related("user", "workspace")


def membership_get(*, workspace: Workspace, pk: int | str) -> Membership:
    membership = membership_list(workspace=workspace).filter(pk=pk).first()
    if membership is None:
        raise NotFound(f"membership {pk} not found in workspace {workspace.slug!r}")
    return membership
