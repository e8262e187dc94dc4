from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from control.core.admin_scoping import ServiceForm, WorkspaceScopedAdmin
from control.core.exceptions import ApplicationError
from control.streams import services
from control.streams.models import IngestKey, Stream
from control.workspaces.choices import Role

CREATE_ONLY = [
    "workspace",
    "name",
    "partitions",
    "retention_raw_days",
    "retention_enriched_days",
    "retention_retry_days",
    "retention_dlq_days",
]


class StreamForm(ServiceForm):
    signature_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave empty to keep the current secret.",
    )

    class Meta:
        model = Stream
        fields = [*CREATE_ONLY, "description", "key_path", "signature_type", "signature_header"]

    def apply(self, data: dict[str, Any]) -> Stream:
        secret = data.pop("signature_secret", "") or None
        editable = {k: data[k] for k in ("description", "key_path", "signature_type", "signature_header") if k in data}
        if self.instance.pk:
            return services.stream_update(
                stream=self.instance, actor=self.actor, data=editable, signature_secret=secret
            )
        fixed = {k: data[k] for k in CREATE_ONLY if k in data}
        return services.stream_create(actor=self.actor, signature_secret=secret or "", **fixed, **editable)


@admin.register(Stream)
class StreamAdmin(WorkspaceScopedAdmin):
    form = StreamForm
    list_display = ["name", "workspace", "partitions", "key_path", "signature_type", "active_keys", "created_at"]
    list_filter = ["workspace", "signature_type"]
    search_fields = ["name", "description", "workspace__slug"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return CREATE_ONLY if obj else []  # fixed with the topics

    @admin.display(description="ingest keys")
    def active_keys(self, obj: Stream) -> int:
        return IngestKey.objects.filter(
            workspace_id=obj.workspace_id, revoked_at__isnull=True, stream__in=[None, obj]
        ).count()


class IngestKeyForm(ServiceForm):
    class Meta:
        model = IngestKey
        fields = ["workspace", "stream", "name"]

    def apply(self, data: dict[str, Any]) -> IngestKey:
        key, plain = services.ingest_key_create(
            workspace=data["workspace"], stream=data.get("stream"), name=data["name"], actor=self.actor
        )
        self.plain_key = plain
        return key


@admin.register(IngestKey)
class IngestKeyAdmin(WorkspaceScopedAdmin):
    form = IngestKeyForm
    write_role = Role.OWNER
    list_display = ["name", "prefix", "workspace", "stream", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["workspace", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj:
            return ["workspace", "stream", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
        return []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.get_readonly_fields(request, obj) if obj else ["workspace", "stream", "name"]

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        form = getattr(request, "_ingest_key_form", None)
        plain = getattr(form, "plain_key", None)
        if plain:
            messages.warning(request, f"Ingest key {obj.name}: {plain} — copy it now, it is not shown again.")
        return super().response_add(request, obj, post_url_continue)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class Remembered(form_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                request._ingest_key_form = self  # type: ignore[attr-defined]

        return Remembered

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[IngestKey]) -> None:
        for key in queryset:
            if not self.has_change_permission(request, key):
                messages.error(request, f"{key}: only an owner revokes keys")
                continue
            try:
                services.ingest_key_revoke(key=key, actor=request.user)
            except ApplicationError as exc:
                messages.error(request, f"{key}: {exc.message}")
        messages.success(request, "Revoked; the workers stop accepting them within seconds.")
