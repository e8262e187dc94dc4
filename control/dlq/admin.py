from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Max, Min, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from control.core.admin_scoping import WorkspaceScopedAdmin
from control.core.exceptions import ApplicationError
from control.dlq.models import DlqRecord
from control.dlq.selectors import DlqFilter, dlq_event_detail
from control.replay.choices import ReplayTarget
from control.replay.services import replay_job_create
from control.workspaces.choices import Role


@admin.register(DlqRecord)
class DlqRecordAdmin(WorkspaceScopedAdmin):
    """Browse dead letters (from the index), with the error summary for the current filters above the list; the
    detail page reads the event itself from Kafka. Select records to create a replay job from them."""

    change_list_template = "admin/dlq/dlqrecord/change_list.html"
    list_display = ["failed_at", "stream", "stage", "error_type", "pipeline_id", "revision", "event_id", "attempts"]
    list_filter = ["stage", "error_type", "stream", "pipeline_id", "revision"]
    list_select_related = ["stream__workspace"]
    search_fields = ["event_id", "correlation_id", "message"]
    date_hierarchy = "failed_at"
    show_full_result_count = False  # one COUNT less per page on a large DLQ
    actions = ["replay_retransform", "replay_redeliver"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in DlqRecord._meta.fields] + ["event"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="event (read from Kafka)")
    def event(self, obj: DlqRecord) -> str:
        try:
            detail = dlq_event_detail(record=obj)
        except ApplicationError as exc:
            return exc.message
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(detail, indent=2, default=str))

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            response.context_data["dlq_summary"] = _summary(changelist.queryset)
        return response

    def _replay(self, request: HttpRequest, queryset: QuerySet[DlqRecord], target: str) -> None:
        by_stream: dict[Any, list[str]] = {}
        for record in queryset.select_related("stream__workspace"):
            by_stream.setdefault(record.stream, []).append(record.event_id)
        for stream, event_ids in by_stream.items():
            if not self._has_role(request, Role.EDITOR, stream):
                messages.error(request, f"{stream}: your role does not allow replays")
                continue
            job = replay_job_create(
                workspace=stream.workspace,
                stream=stream,
                target=target,
                filters=DlqFilter(event_ids=tuple(sorted(set(event_ids)))),
                actor=request.user,
            )
            messages.success(request, f"created replay job #{job.pk} for {len(event_ids)} records of {stream}")

    @admin.action(description="Create a re-transform replay job from the selected records")
    def replay_retransform(self, request: HttpRequest, queryset: QuerySet[DlqRecord]) -> None:
        self._replay(request, queryset, ReplayTarget.RETRANSFORM)

    @admin.action(description="Create a re-deliver replay job from the selected records")
    def replay_redeliver(self, request: HttpRequest, queryset: QuerySet[DlqRecord]) -> None:
        self._replay(request, queryset, ReplayTarget.REDELIVER)


def _summary(queryset: QuerySet[DlqRecord]) -> list[dict[str, Any]]:
    return list(
        queryset.order_by()
        .values("stage", "error_type")
        .annotate(count=Count("id"), first_seen=Min("failed_at"), last_seen=Max("failed_at"))
        .order_by("-count")[:20]
    )
