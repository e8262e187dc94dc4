"""/api/v1/workspaces/<slug>/pipeline-stats/: throughput, lag, DLQ count, oldest undelivered, destination health."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from control.core.api.viewsets import WorkspaceViewSet
from control.monitoring.selectors import pipeline_stats
from control.pipelines.models import Pipeline
from control.pipelines.selectors import pipeline_get, pipeline_list


class PipelineStatsOutput(serializers.ModelSerializer):
    stats = serializers.SerializerMethodField()

    class Meta:
        model = Pipeline
        fields = ["id", "name", "state", "stats"]

    def get_stats(self, pipeline: Pipeline) -> dict[str, Any]:
        stats = pipeline_stats(pipeline=pipeline)
        if not self.context.get("series"):
            stats.pop("series")
        return stats


class PipelineStatsApi(WorkspaceViewSet):
    """Per pipeline, from the workers' status reports: `retrieve` adds the last hour, minute by minute."""

    output_serializer_class = PipelineStatsOutput
    filterset_fields = ["state"]

    def selector(self) -> Any:
        return pipeline_list(workspace=self.workspace)

    def getter(self, pk: str) -> Any:
        return pipeline_get(workspace=self.workspace, pk=pk)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        context = {**self.get_serializer_context(), "series": True}
        return Response(PipelineStatsOutput(self.get_object(), context=context).data)
