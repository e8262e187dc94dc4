"""/api/v1/workspaces/<slug>/schemas/ and their immutable versions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from control.core.api.viewsets import WorkspaceViewSet
from control.schemas import selectors, services
from control.schemas.choices import Compatibility
from control.schemas.models import Schema, SchemaVersion


class SchemaVersionOutput(serializers.ModelSerializer):
    class Meta:
        model = SchemaVersion
        fields = ["id", "version", "definition", "created_at"]


class SchemaOutput(serializers.ModelSerializer):
    latest_version = serializers.SerializerMethodField()

    class Meta:
        model = Schema
        fields = ["id", "name", "description", "compatibility", "latest_version", "created_at", "updated_at"]

    def get_latest_version(self, schema: Schema) -> int | None:
        latest = schema.latest_version
        return latest.version if latest else None


class SchemaUpdateInput(serializers.Serializer):
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    compatibility = serializers.ChoiceField(choices=Compatibility.choices, required=False)


class SchemaCreateInput(SchemaUpdateInput):
    name = serializers.CharField(max_length=64)
    definition = serializers.JSONField()


class SchemaVersionInput(serializers.Serializer):
    definition = serializers.JSONField()


class SchemaApi(WorkspaceViewSet):
    """JSON Schemas (draft 2020-12, 2019-09 or 7); a new version must keep the schema's compatibility mode."""

    output_serializer_class = SchemaOutput
    filterset_fields = ["name", "compatibility"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]

    def selector(self) -> Any:
        return selectors.schema_list(workspace=self.workspace)

    def getter(self, pk: str) -> Any:
        return selectors.schema_get(workspace=self.workspace, pk=pk)

    def create(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(SchemaCreateInput)
        return self.output(services.schema_create(workspace=self.workspace, actor=request.user, **data), status=201)

    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(SchemaUpdateInput, partial=True)
        return self.output(services.schema_update(schema=self.get_object(), actor=request.user, data=data))

    @action(detail=True, methods=["get", "post"], serializer_class=SchemaVersionOutput)
    def versions(self, request: Request, **kwargs: Any) -> Response:
        schema = self.get_object()
        if request.method == "POST":
            data = self.validated(SchemaVersionInput)
            version = services.schema_version_create(schema=schema, definition=data["definition"], actor=request.user)
            return Response(SchemaVersionOutput(version).data, status=201)
        page = self.paginate_queryset(selectors.schema_version_list(schema=schema))
        return self.get_paginated_response(SchemaVersionOutput(page, many=True).data)

    @extend_schema(operation_id="workspaces_schemas_version_retrieve")
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<version>\d+)", serializer_class=SchemaVersionOutput)
    def version(self, request: Request, version: str, **kwargs: Any) -> Response:
        found = selectors.schema_version_get(schema=self.get_object(), version=version)
        return Response(SchemaVersionOutput(found).data)
