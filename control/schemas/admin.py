from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from control.core.admin_scoping import ServiceForm, WorkspaceScopedAdmin
from control.schemas import services
from control.schemas.models import Schema, SchemaVersion


class SchemaForm(ServiceForm):
    definition = forms.JSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "cols": 100, "style": "font-family: monospace"}),
        help_text="JSON Schema (draft 2020-12, 2019-09 or 7). On an existing schema: the next version, checked "
        "against the compatibility mode; leave empty to keep the versions as they are.",
    )

    class Meta:
        model = Schema
        fields = ["workspace", "name", "description", "compatibility"]

    def apply(self, data: dict[str, Any]) -> Schema:
        definition = data.get("definition")
        if not self.instance.pk:
            return services.schema_create(
                workspace=data["workspace"],
                name=data["name"],
                description=data.get("description", ""),
                compatibility=data["compatibility"],
                definition=definition if definition is not None else {},
                actor=self.actor,
            )
        schema = services.schema_update(
            schema=self.instance,
            actor=self.actor,
            data={"description": data.get("description", ""), "compatibility": data["compatibility"]},
        )
        if definition not in (None, ""):
            services.schema_version_create(schema=schema, definition=definition, actor=self.actor)
        return schema


class SchemaVersionInline(admin.TabularInline):
    model = SchemaVersion
    fields = ["version", "definition", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-version"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True  # the parent page is already scoped


@admin.register(Schema)
class SchemaAdmin(WorkspaceScopedAdmin):
    form = SchemaForm
    inlines = [SchemaVersionInline]
    list_display = ["name", "workspace", "compatibility", "latest", "updated_at"]
    list_filter = ["workspace", "compatibility"]
    search_fields = ["name", "description"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["workspace", "name"] if obj else []

    @admin.display(description="latest version")
    def latest(self, obj: Schema) -> str:
        latest = obj.latest_version
        return f"v{latest.version}" if latest else "-"
