"""/api/v1/workspaces/<slug>/streams/<id>/dlq/: browse a stream's DLQ, its error summary, and one event's detail."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from control.core.api.viewsets import WorkspaceViewSet
from control.dlq import selectors
from control.dlq.models import DlqRecord
from control.streams.models import Stream
from control.streams.selectors import stream_get


class CsvList(serializers.ListField):
    """Repeat the parameter (?stage=a&stage=b) or separate values with commas (?stage=a,b)."""

    def get_value(self, dictionary: Any) -> Any:
        if self.field_name not in dictionary:
            return serializers.empty
        values = dictionary.getlist(self.field_name) if hasattr(dictionary, "getlist") else dictionary[self.field_name]
        if isinstance(values, str):
            values = [values]
        return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


class DlqFilterInput(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="Failed at or after (ISO 8601).")
    until = serializers.DateTimeField(required=False, help_text="Failed before (ISO 8601).")
    stage = CsvList(child=serializers.ChoiceField(["validate", "transform", "deliver"]), required=False)
    error_type = CsvList(child=serializers.CharField(max_length=100), required=False)
    pipeline = CsvList(child=serializers.IntegerField(min_value=1), required=False)
    revision = CsvList(child=serializers.IntegerField(min_value=1), required=False)
    event_id = CsvList(child=serializers.CharField(max_length=64), required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": ["Must be after since."]})
        return attrs

    @staticmethod
    def to_filter(data: dict[str, Any]) -> selectors.DlqFilter:
        return selectors.DlqFilter(
            since=data.get("since"),
            until=data.get("until"),
            stages=tuple(data.get("stage") or ()),
            error_types=tuple(data.get("error_type") or ()),
            pipelines=tuple(str(p) for p in data.get("pipeline") or ()),
            revisions=tuple(data.get("revision") or ()),
            event_ids=tuple(data.get("event_id") or ()),
        )


class DlqRecordOutput(serializers.ModelSerializer):
    pipeline = serializers.CharField(source="pipeline_id")
    destination = serializers.CharField(source="destination_id")

    class Meta:
        model = DlqRecord
        fields = [
            "id",
            "event_id",
            "correlation_id",
            "partition",
            "offset",
            "failed_at",
            "stage",
            "error_type",
            "message",
            "pointer",
            "pipeline",
            "revision",
            "attempts",
            "destination",
            "origin_topic",
            "origin_partition",
            "origin_offset",
            "replay_job",
        ]


class DlqSummaryOutput(serializers.Serializer):
    stage = serializers.CharField()
    error_type = serializers.CharField()
    count = serializers.IntegerField()
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()


class DlqEventOutput(DlqRecordOutput):
    event = serializers.SerializerMethodField()

    class Meta(DlqRecordOutput.Meta):
        fields = [*DlqRecordOutput.Meta.fields, "event"]

    def get_event(self, record: DlqRecord) -> dict[str, Any]:
        return selectors.dlq_event_detail(record=record)


class DlqRecordApi(WorkspaceViewSet):
    """A stream's dead letters, newest first, from the DLQ index; `retrieve` reads the event itself from Kafka.

    Filters: since, until, stage, error_type, pipeline, revision, event_id (lists: repeat or comma-separate).
    """

    output_serializer_class = DlqRecordOutput
    filter_backends: list[Any] = []

    @cached_property
    def stream(self) -> Stream:
        return stream_get(workspace=self.workspace, pk=self.kwargs["stream_pk"])

    def filters(self) -> selectors.DlqFilter:
        serializer = DlqFilterInput(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return DlqFilterInput.to_filter(serializer.validated_data)

    def selector(self) -> Any:
        return selectors.dlq_record_list(stream=self.stream, filters=self.filters())

    def getter(self, pk: str) -> Any:
        return selectors.dlq_record_get(workspace=self.workspace, stream=self.stream, pk=pk)

    @extend_schema(parameters=[DlqFilterInput])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=DlqEventOutput)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(DlqEventOutput(self.get_object(), context=self.get_serializer_context()).data)

    @extend_schema(parameters=[DlqFilterInput], responses=DlqSummaryOutput(many=True))
    @action(detail=False, methods=["get"])
    def summary(self, request: Request, **kwargs: Any) -> Response:
        """Failures grouped by (stage, error type) with counts and first / last seen, for the same filters."""
        rows = selectors.dlq_summary(stream=self.stream, filters=self.filters())
        return Response({"results": DlqSummaryOutput(rows, many=True).data})
