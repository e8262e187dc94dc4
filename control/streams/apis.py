"""/api/v1/workspaces/<slug>/streams/ and /ingest-keys/."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from control.core.api.fields import ScopedPrimaryKeyField
from control.core.api.viewsets import WorkspaceViewSet
from control.streams import selectors, services
from control.streams.choices import SignatureType
from control.streams.models import IngestKey, Stream
from control.workspaces.choices import Role


class StreamOutput(serializers.ModelSerializer):
    signature_secret_set = serializers.SerializerMethodField()

    class Meta:
        model = Stream
        fields = [
            "id",
            "name",
            "description",
            "partitions",
            "key_path",
            "retention_raw_days",
            "retention_enriched_days",
            "retention_retry_days",
            "retention_dlq_days",
            "signature_type",
            "signature_header",
            "signature_secret_set",
            "created_at",
            "updated_at",
        ]

    def get_signature_secret_set(self, stream: Stream) -> bool:
        return bool(stream.signature_secret_enc)


class StreamUpdateInput(serializers.Serializer):
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    key_path = serializers.CharField(max_length=200, allow_blank=True, required=False)
    signature_type = serializers.ChoiceField(choices=SignatureType.choices, required=False)
    signature_header = serializers.CharField(max_length=100, required=False)
    # Write-only: never returned, never logged; "" clears it.
    signature_secret = serializers.CharField(write_only=True, allow_blank=True, required=False, trim_whitespace=False)


class StreamCreateInput(StreamUpdateInput):
    name = serializers.CharField(max_length=64)
    partitions = serializers.IntegerField(required=False, default=3)
    retention_raw_days = serializers.IntegerField(required=False)
    retention_enriched_days = serializers.IntegerField(required=False)
    retention_retry_days = serializers.IntegerField(required=False)
    retention_dlq_days = serializers.IntegerField(required=False)


class StreamApi(WorkspaceViewSet):
    """Streams; creating one provisions its four Kafka topics (503 kafka_unavailable if Kafka does not answer)."""

    output_serializer_class = StreamOutput
    filterset_fields = ["name", "signature_type"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]

    def selector(self) -> Any:
        return selectors.stream_list(workspace=self.workspace)

    def getter(self, pk: str) -> Any:
        return selectors.stream_get(workspace=self.workspace, pk=pk)

    def create(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(StreamCreateInput)
        stream = services.stream_create(workspace=self.workspace, actor=request.user, **data)
        return self.output(stream, status=201)

    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(StreamUpdateInput, partial=True)
        secret = data.pop("signature_secret", None)
        stream = services.stream_update(
            stream=self.get_object(), actor=request.user, data=data, signature_secret=secret
        )
        return self.output(stream)

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.stream_delete(stream=self.get_object(), actor=request.user)
        return Response(status=204)


class IngestKeyOutput(serializers.ModelSerializer):
    class Meta:
        model = IngestKey
        fields = ["id", "name", "stream", "prefix", "created_at", "revoked_at", "last_used_at"]


class IngestKeyCreatedOutput(IngestKeyOutput):
    key = serializers.SerializerMethodField()

    class Meta(IngestKeyOutput.Meta):
        fields = [*IngestKeyOutput.Meta.fields, "key"]

    def get_key(self, obj: IngestKey) -> str:
        return str(self.context["plain_key"])


class IngestKeyCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    stream = ScopedPrimaryKeyField(
        scope=lambda ws: Stream.objects.filter(workspace=ws), required=False, allow_null=True
    )


class IngestKeyApi(WorkspaceViewSet):
    """Ingest keys: the key itself is returned once, by the create call; afterwards only its prefix."""

    output_serializer_class = IngestKeyOutput
    roles = {"create": Role.OWNER, "revoke": Role.OWNER}
    filterset_fields = ["stream", "name"]
    search_fields = ["name", "prefix"]
    ordering_fields = ["created_at", "name", "last_used_at"]

    def selector(self) -> Any:
        return selectors.ingest_key_list(workspace=self.workspace)

    def getter(self, pk: str) -> Any:
        return selectors.ingest_key_get(workspace=self.workspace, pk=pk)

    def create(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(IngestKeyCreateInput)
        key, plain = services.ingest_key_create(
            workspace=self.workspace, name=data["name"], stream=data.get("stream"), actor=request.user
        )
        body = IngestKeyCreatedOutput(key, context={**self.get_serializer_context(), "plain_key": plain}).data
        return Response(body, status=201)

    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, **kwargs: Any) -> Response:
        return self.output(services.ingest_key_revoke(key=self.get_object(), actor=request.user))
