"""/api/v1/workspaces/<slug>/replay-jobs/: create from a DLQ selection, dry-run, start, cancel, re-run."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from control.core.api.fields import NoInput, ScopedPrimaryKeyField
from control.core.api.viewsets import WorkspaceViewSet
from control.dlq.selectors import DlqFilter
from control.pipelines.models import Pipeline
from control.replay import selectors, services
from control.replay.choices import ReplayTarget
from control.replay.models import ReplayJob
from control.streams.models import Stream


class ReplayJobOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = ReplayJob
        fields = [
            "id",
            "job_id",
            "stream",
            "target",
            "selection",
            "rate_per_s",
            "state",
            "selected",
            "dry_run",
            "end_offsets",
            "matched",
            "replayed",
            "skipped",
            "failed",
            "next_offsets",
            "message",
            "worker",
            "rerun_of",
            "created_by",
            "created_at",
            "started_at",
            "progress_at",
            "finished_at",
        ]


class SelectionInput(serializers.Serializer):
    since = serializers.DateTimeField(required=False, allow_null=True)
    until = serializers.DateTimeField(required=False, allow_null=True)
    stages = serializers.ListField(child=serializers.ChoiceField(["validate", "transform", "deliver"]), required=False)
    error_types = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    pipelines = serializers.ListField(
        child=ScopedPrimaryKeyField(scope=lambda ws: Pipeline.objects.filter(workspace=ws)), required=False
    )
    revisions = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    event_ids = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=10000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": ["Must be after since."]})
        return attrs


class ReplayJobCreateInput(serializers.Serializer):
    stream = ScopedPrimaryKeyField(scope=lambda ws: Stream.objects.filter(workspace=ws))
    target = serializers.ChoiceField(choices=ReplayTarget.choices)
    selection = SelectionInput(required=False)
    rate_per_s = serializers.FloatField(required=False, min_value=0.1)


def _filters(selection: dict[str, Any]) -> DlqFilter:
    return DlqFilter(
        since=selection.get("since"),
        until=selection.get("until"),
        stages=tuple(selection.get("stages") or ()),
        error_types=tuple(selection.get("error_types") or ()),
        pipelines=tuple(str(p.pk) for p in selection.get("pipelines") or ()),
        revisions=tuple(selection.get("revisions") or ()),
        event_ids=tuple(selection.get("event_ids") or ()),
    )


class ReplayJobApi(WorkspaceViewSet):
    """Replay jobs: editors and owners create, dry-run, start, cancel and re-run them; every step is audited."""

    output_serializer_class = ReplayJobOutput
    filterset_fields = ["state", "target", "stream"]
    ordering_fields = ["created_at", "started_at"]

    def selector(self) -> Any:
        return selectors.replay_job_list(workspace=self.workspace)

    def getter(self, pk: str) -> Any:
        return selectors.replay_job_get(workspace=self.workspace, pk=pk)

    @extend_schema(request=ReplayJobCreateInput, responses={201: ReplayJobOutput})
    def create(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(ReplayJobCreateInput)
        job = services.replay_job_create(
            workspace=self.workspace,
            stream=data["stream"],
            target=data["target"],
            filters=_filters(data.get("selection") or {}),
            rate_per_s=data.get("rate_per_s"),
            actor=request.user,
        )
        return self.output(job, status=201)

    @action(detail=True, methods=["post"], url_path="dry-run", serializer_class=NoInput)
    def dry_run(self, request: Request, **kwargs: Any) -> Response:
        """Run the current active revision on the selection without producing: what would pass, what still fails."""
        return self.output(services.replay_dry_run(job=self.get_object(), actor=request.user))

    @action(detail=True, methods=["post"], serializer_class=NoInput)
    def start(self, request: Request, **kwargs: Any) -> Response:
        return self.output(services.replay_start(job=self.get_object(), actor=request.user))

    @action(detail=True, methods=["post"], serializer_class=NoInput)
    def cancel(self, request: Request, **kwargs: Any) -> Response:
        return self.output(services.replay_cancel(job=self.get_object(), actor=request.user))

    @extend_schema(responses={201: ReplayJobOutput})
    @action(detail=True, methods=["post"], serializer_class=NoInput)
    def rerun(self, request: Request, **kwargs: Any) -> Response:
        """A new job for this completed job's selection, limited to DLQ records written after its end offsets."""
        return self.output(services.replay_rerun(job=self.get_object(), actor=request.user), status=201)
