from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from control.core.admin_scoping import ServiceForm, WorkspaceScopedAdmin
from control.core.exceptions import ApplicationError
from control.pipelines import services
from control.pipelines.models import Pipeline, PipelineRevision

CONFIG = ["description", "source", "input_schema_version", "mapping_version", "output_schema_version", "target"]


class PipelineForm(ServiceForm):
    class Meta:
        model = Pipeline
        fields = ["workspace", "name", *CONFIG, "destinations"]

    def apply(self, data: dict[str, Any]) -> Pipeline:
        destinations = list(data.get("destinations") or [])
        config = {k: data.get(k) for k in CONFIG}
        if self.instance.pk:
            return services.pipeline_update(
                pipeline=self.instance, actor=self.actor, data=config, destinations=destinations
            )
        return services.pipeline_create(
            workspace=data["workspace"],
            name=data["name"],
            destinations=destinations,
            actor=self.actor,
            **{**config, "description": config["description"] or ""},
        )


class RevisionInline(admin.TabularInline):
    model = PipelineRevision
    fk_name = "pipeline"
    fields = [
        "number",
        "mapping_version",
        "input_schema_version",
        "output_schema_version",
        "rolled_back_from",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-number"]
    max_num = 0

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True  # the parent page is already scoped


@admin.register(Pipeline)
class PipelineAdmin(WorkspaceScopedAdmin):
    form = PipelineForm
    inlines = [RevisionInline]
    list_display = ["name", "workspace", "state", "revision", "source", "target", "mapping_version", "updated_at"]
    list_filter = ["state", "workspace", "source"]
    search_fields = ["name", "description", "source__name", "target__name"]
    list_select_related = ["workspace", "source", "target", "mapping_version__mapping", "current_revision"]
    filter_horizontal = ["destinations"]
    actions = ["activate", "pause", "resume", "rollback", "archive"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["workspace", "name", "state", "first_activated_at"] if obj else []

    @admin.display(description="revision", ordering="current_revision__number")
    def revision(self, obj: Pipeline) -> str:
        return f"r{obj.current_revision.number}" if obj.current_revision else "-"

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Pipeline], verb: str, run: Callable[[Pipeline], Any]
    ) -> None:
        done = []
        for pipeline in queryset:
            if not self.has_change_permission(request, pipeline):
                messages.error(request, f"{pipeline}: your role does not allow this")
                continue
            try:
                run(pipeline)
                done.append(str(pipeline))
            except ApplicationError as exc:
                messages.error(request, f"{pipeline}: {exc.message}")
        if done:
            messages.success(request, f"{verb}: {', '.join(done)}")

    @admin.action(description="Activate (compile a new revision)")
    def activate(self, request: HttpRequest, queryset: QuerySet[Pipeline]) -> None:
        self._each(request, queryset, "Activated", lambda p: services.pipeline_activate(pipeline=p, actor=request.user))

    @admin.action(description="Pause")
    def pause(self, request: HttpRequest, queryset: QuerySet[Pipeline]) -> None:
        self._each(request, queryset, "Paused", lambda p: services.pipeline_pause(pipeline=p, actor=request.user))

    @admin.action(description="Resume")
    def resume(self, request: HttpRequest, queryset: QuerySet[Pipeline]) -> None:
        self._each(request, queryset, "Resumed", lambda p: services.pipeline_resume(pipeline=p, actor=request.user))

    @admin.action(description="Roll back to the previous revision")
    def rollback(self, request: HttpRequest, queryset: QuerySet[Pipeline]) -> None:
        def run(pipeline: Pipeline) -> Any:
            current = pipeline.current_revision.number if pipeline.current_revision else 0
            return services.pipeline_rollback(pipeline=pipeline, revision=current - 1, actor=request.user)

        self._each(request, queryset, "Rolled back", run)

    @admin.action(description="Archive (the workers forget it)")
    def archive(self, request: HttpRequest, queryset: QuerySet[Pipeline]) -> None:
        self._each(request, queryset, "Archived", lambda p: services.pipeline_archive(pipeline=p, actor=request.user))
