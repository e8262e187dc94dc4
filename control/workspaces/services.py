"""Writes for workspaces and memberships; each one is audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from control.audit.services import audit_record, snapshot
from control.core.exceptions import Conflict, ValidationError
from control.core.validation import full_clean
from control.workspaces.choices import Role
from control.workspaces.models import Membership, Workspace

WORKSPACE_FIELDS = ("slug", "name")
MEMBERSHIP_FIELDS = ("user", "role")


def workspace_create(*, slug: str, name: str, actor: Any = None) -> Workspace:
    workspace = Workspace(slug=slug, name=name)
    full_clean(workspace)
    with transaction.atomic():
        workspace.save()
        audit_record(
            actor=actor,
            workspace=workspace,
            action="workspace.create",
            obj=workspace,
            after=snapshot(workspace, WORKSPACE_FIELDS),
        )
    return workspace


def workspace_get_or_create(*, slug: str, name: str, actor: Any = None) -> tuple[Workspace, bool]:
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is not None:
        return workspace, False
    return workspace_create(slug=slug, name=name, actor=actor), True


def workspace_update(*, workspace: Workspace, name: str, actor: Any) -> Workspace:
    """Only the display name changes: the slug is part of every topic name."""
    before = snapshot(workspace, WORKSPACE_FIELDS)
    workspace.name = name
    full_clean(workspace)
    with transaction.atomic():
        workspace.save(update_fields=["name"])
        audit_record(
            actor=actor,
            workspace=workspace,
            action="workspace.update",
            obj=workspace,
            before=before,
            after=snapshot(workspace, WORKSPACE_FIELDS),
        )
    return workspace


def membership_create(*, workspace: Workspace, user: Any, role: str, actor: Any) -> Membership:
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        raise Conflict(f"{user} is already a member of {workspace.slug}", details={"user": ["already a member"]})
    membership = Membership(workspace=workspace, user=user, role=role)
    full_clean(membership, exclude=["workspace", "user"])
    with transaction.atomic():
        membership.save()
        audit_record(
            actor=actor,
            workspace=workspace,
            action="membership.create",
            obj=membership,
            after=snapshot(membership, MEMBERSHIP_FIELDS),
        )
    return membership


def _ensure_an_owner_remains(membership: Membership, new_role: str | None) -> None:
    # A workspace without an owner can no longer manage its members or keys without staff help.
    if membership.role != Role.OWNER or new_role == Role.OWNER:
        return
    if (
        not Membership.objects.filter(workspace=membership.workspace, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError(
            "a workspace needs at least one owner: make someone else owner first",
            details={"role": ["the last owner cannot be removed or demoted"]},
        )


def membership_update(*, membership: Membership, role: str, actor: Any) -> Membership:
    _ensure_an_owner_remains(membership, role)
    before = snapshot(membership, MEMBERSHIP_FIELDS)
    membership.role = role
    full_clean(membership, exclude=["workspace", "user"])
    with transaction.atomic():
        membership.save(update_fields=["role"])
        audit_record(
            actor=actor,
            workspace=membership.workspace,
            action="membership.update",
            obj=membership,
            before=before,
            after=snapshot(membership, MEMBERSHIP_FIELDS),
        )
    return membership


def membership_delete(*, membership: Membership, actor: Any) -> None:
    _ensure_an_owner_remains(membership, None)
    with transaction.atomic():
        audit_record(
            actor=actor,
            workspace=membership.workspace,
            action="membership.delete",
            obj=membership,
            before=snapshot(membership, MEMBERSHIP_FIELDS),
        )
        membership.delete()
