from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from control.audit.models import AuditEvent
from control.core.admin_scoping import WorkspaceScopedAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(WorkspaceScopedAdmin):
    """Read-only: the log is append-only, whoever looks at it."""

    list_display = ["created_at", "actor_name", "workspace_slug", "action", "object_repr", "correlation_id"]
    list_filter = ["action", "object_type", "workspace"]
    search_fields = ["object_repr", "actor_name", "correlation_id", "object_id"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
