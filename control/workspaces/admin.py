from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count
from django.http import HttpRequest

from control.core.admin_scoping import ServiceForm, WorkspaceScopedAdmin
from control.core.tenancy import is_platform_staff
from control.workspaces import services
from control.workspaces.choices import Role
from control.workspaces.models import Membership, Workspace


class WorkspaceForm(ServiceForm):
    class Meta:
        model = Workspace
        fields = ["slug", "name"]

    def apply(self, data: dict[str, Any]) -> Workspace:
        if self.instance.pk:
            return services.workspace_update(workspace=self.instance, name=data["name"], actor=self.actor)
        return services.workspace_create(slug=data["slug"], name=data["name"], actor=self.actor)


@admin.register(Workspace)
class WorkspaceAdmin(WorkspaceScopedAdmin):
    form = WorkspaceForm
    workspace_path = "pk"
    write_role = Role.OWNER
    list_display = ["slug", "name", "member_count", "created_at"]
    search_fields = ["slug", "name"]

    def _workspace_of(self, obj: Any) -> Workspace:
        return obj

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).annotate(members=Count("memberships"))

    @admin.display(description="members", ordering="members")
    def member_count(self, obj: Any) -> int:
        return int(obj.members)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_platform_staff(request.user)  # only staff open new workspaces

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["slug"] if obj else []  # the slug is part of every topic name


class MembershipForm(ServiceForm):
    class Meta:
        model = Membership
        fields = ["workspace", "user", "role"]

    def apply(self, data: dict[str, Any]) -> Membership:
        if self.instance.pk:
            return services.membership_update(membership=self.instance, role=data["role"], actor=self.actor)
        return services.membership_create(
            workspace=data["workspace"], user=data["user"], role=data["role"], actor=self.actor
        )


@admin.register(Membership)
class MembershipAdmin(WorkspaceScopedAdmin):
    form = MembershipForm
    write_role = Role.OWNER
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", "workspace"]
    search_fields = ["user__username", "workspace__slug"]
    autocomplete_fields: list[str] = []

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["workspace", "user"] if obj else []
