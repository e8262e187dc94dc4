from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from control.core.admin_scoping import WorkspaceScopedAdmin
from control.monitoring.charts import svg_line_chart
from control.monitoring.models import PipelineDashboard
from control.monitoring.selectors import SERIES, pipeline_stats


@admin.register(PipelineDashboard)
class PipelineDashboardAdmin(WorkspaceScopedAdmin):
    """Per pipeline: throughput, lag, DLQ count, oldest undelivered age, destination health, the last hour."""

    list_display = ["name", "workspace", "state", "throughput", "lag", "dlq", "oldest_undelivered", "destinations"]
    list_filter = ["state", "workspace"]
    list_select_related = ["workspace"]
    search_fields = ["name"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _stats(self, obj: PipelineDashboard) -> dict[str, Any]:
        cache = self.__dict__.setdefault("_cache", {})
        if obj.pk not in cache:
            cache[obj.pk] = pipeline_stats(pipeline=obj)
        return cache[obj.pk]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        self.__dict__["_cache"] = {}  # figures are read once per row per page view
        return super().changelist_view(request, extra_context)

    @admin.display(description="delivered / min (5 min)")
    def throughput(self, obj: PipelineDashboard) -> str:
        return f"{self._stats(obj)['throughput_per_min']['delivered']:.1f}"

    @admin.display(description="lag")
    def lag(self, obj: PipelineDashboard) -> str:
        return f"{self._stats(obj)['lag']:.0f}"

    @admin.display(description="DLQ")
    def dlq(self, obj: PipelineDashboard) -> int:
        return int(self._stats(obj)["dlq_count"])

    @admin.display(description="oldest undelivered")
    def oldest_undelivered(self, obj: PipelineDashboard) -> str:
        return f"{self._stats(obj)['oldest_undelivered_s']:.0f} s"

    @admin.display(description="destinations")
    def destinations(self, obj: PipelineDashboard) -> str:
        return ", ".join(f"{d['id']}: {d['state']}" for d in self._stats(obj)["destinations"]) or "-"

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        pipeline = self.get_object(request, object_id)
        if pipeline is None or not self.has_view_permission(request, pipeline):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        stats = pipeline_stats(pipeline=pipeline)
        series = stats["series"]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{pipeline} — last hour",
            "pipeline": pipeline,
            "stats": stats,
            "events_chart": svg_line_chart({name: [b[name] for b in series] for name in SERIES}),
            "lag_chart": svg_line_chart({"lag": [b["lag"] for b in series]}, height=100),
        }
        return TemplateResponse(request, "admin/monitoring/dashboard.html", context)
