from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from control.core.tenancy import is_platform_staff
from control.outbox.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """For platform staff: what is waiting for Kafka, and why."""

    list_display = ["id", "key", "created_at", "published_at", "attempts", "last_error"]
    list_filter = [("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["key"]
    exclude = ["value"]
    readonly_fields = ["topic", "key", "created_at", "published_at", "attempts", "last_error"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_platform_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_staff(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
