from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from control.core.admin_scoping import WorkspaceScopedAdmin
from control.core.exceptions import ApplicationError
from control.replay import services
from control.replay.models import ReplayJob
from control.workspaces.choices import Role


@admin.register(ReplayJob)
class ReplayJobAdmin(WorkspaceScopedAdmin):
    """Replay jobs (create them from the DLQ records page); dry run, start, cancel and re-run are actions."""

    list_display = [
        "id",
        "stream",
        "target",
        "state",
        "selected",
        "matched",
        "replayed",
        "skipped",
        "failed",
        "created_at",
    ]
    list_filter = ["state", "target", "stream"]
    list_select_related = ["stream__workspace"]
    date_hierarchy = "created_at"
    actions = ["dry_run", "start", "cancel", "rerun"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ReplayJob._meta.fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _each(self, request: HttpRequest, queryset: QuerySet[ReplayJob], verb: str, run: Callable[[Any], Any]) -> None:
        done = []
        for job in queryset:
            if not self._has_role(request, Role.EDITOR, job):
                messages.error(request, f"job #{job.pk}: your role does not allow this")
                continue
            try:
                run(job)
                done.append(f"#{job.pk}")
            except ApplicationError as exc:
                messages.error(request, f"job #{job.pk}: {exc.message}")
        if done:
            messages.success(request, f"{verb}: {', '.join(done)}")

    @admin.action(description="Dry run (nothing is produced)")
    def dry_run(self, request: HttpRequest, queryset: QuerySet[ReplayJob]) -> None:
        self._each(request, queryset, "Dry run done", lambda j: services.replay_dry_run(job=j, actor=request.user))

    @admin.action(description="Start")
    def start(self, request: HttpRequest, queryset: QuerySet[ReplayJob]) -> None:
        self._each(request, queryset, "Started", lambda j: services.replay_start(job=j, actor=request.user))

    @admin.action(description="Cancel")
    def cancel(self, request: HttpRequest, queryset: QuerySet[ReplayJob]) -> None:
        self._each(request, queryset, "Cancelled", lambda j: services.replay_cancel(job=j, actor=request.user))

    @admin.action(description="Re-run (what reached the DLQ after it started)")
    def rerun(self, request: HttpRequest, queryset: QuerySet[ReplayJob]) -> None:
        self._each(request, queryset, "Re-run as new jobs", lambda j: services.replay_rerun(job=j, actor=request.user))
