"""/api/v1/workspaces/<slug>/mappings/, their versions, and the mapping test."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from control.core.api.fields import ScopedPrimaryKeyField
from control.core.api.viewsets import WorkspaceViewSet
from control.mappings import selectors, services
from control.mappings.models import Mapping, MappingVersion
from control.mappings.testing import SchemaUse, mapping_run
from control.pipelines.models import Pipeline
from control.schemas.models import SchemaVersion


class MappingVersionOutput(serializers.ModelSerializer):
    class Meta:
        model = MappingVersion
        fields = ["id", "version", "expression", "sample_input", "expected_output", "created_at"]


class MappingOutput(serializers.ModelSerializer):
    latest_version = serializers.SerializerMethodField()

    class Meta:
        model = Mapping
        fields = ["id", "name", "description", "latest_version", "created_at", "updated_at"]

    def get_latest_version(self, mapping: Mapping) -> int | None:
        latest = mapping.latest_version
        return latest.version if latest else None


class MappingVersionInput(serializers.Serializer):
    expression = serializers.CharField(trim_whitespace=False)
    sample_input = serializers.JSONField(required=False, allow_null=True)
    expected_output = serializers.JSONField(required=False, allow_null=True)


class MappingCreateInput(MappingVersionInput):
    name = serializers.CharField(max_length=64)
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)


class MappingUpdateInput(serializers.Serializer):
    description = serializers.CharField(max_length=500, allow_blank=True)


def _schema_versions(ws: Any) -> Any:
    return SchemaVersion.objects.filter(schema__workspace=ws)


class MappingTestInput(serializers.Serializer):
    """What to run: the sample, and optionally another expression, version, or the schemas to check against."""

    sample = serializers.JSONField()
    expression = serializers.CharField(required=False, trim_whitespace=False)
    version = serializers.IntegerField(required=False, min_value=1)
    pipeline = ScopedPrimaryKeyField(scope=lambda ws: Pipeline.objects.filter(workspace=ws), required=False)
    input_schema_version = ScopedPrimaryKeyField(scope=_schema_versions, required=False, allow_null=True)
    output_schema_version = ScopedPrimaryKeyField(scope=_schema_versions, required=False, allow_null=True)
    expected_output = serializers.JSONField(required=False, allow_null=True)


class MappingTestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    output = serializers.JSONField(allow_null=True)
    stage = serializers.CharField(help_text="compile, validate_input, transform or validate_output when not ok")
    code = serializers.CharField()
    message = serializers.CharField()
    pointer = serializers.CharField(allow_null=True)
    position = serializers.IntegerField(allow_null=True)
    matches_expected = serializers.BooleanField(allow_null=True)


def _use(version: SchemaVersion | None) -> SchemaUse | None:
    if version is None:
        return None
    return SchemaUse(id=str(version.schema_id), version=version.version, definition=version.definition)


def _run(data: dict[str, Any], *, expression: str, expected: Any = None) -> Response:
    pipeline: Pipeline | None = data.get("pipeline")
    input_version = data.get("input_schema_version", pipeline.input_schema_version if pipeline else None)
    output_version = data.get("output_schema_version", pipeline.output_schema_version if pipeline else None)
    result = mapping_run(
        expression=expression,
        sample=data["sample"],
        input_schema=_use(input_version),
        output_schema=_use(output_version),
        expected_output=data.get("expected_output", expected),
    )
    return Response(result.as_dict())


class MappingApi(WorkspaceViewSet):
    """JSONata mappings; every version compiles with the workers' engine before it is saved."""

    output_serializer_class = MappingOutput
    filterset_fields = ["name"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]

    def selector(self) -> Any:
        return selectors.mapping_list(workspace=self.workspace)

    def getter(self, pk: str) -> Any:
        return selectors.mapping_get(workspace=self.workspace, pk=pk)

    def create(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(MappingCreateInput)
        return self.output(services.mapping_create(workspace=self.workspace, actor=request.user, **data), status=201)

    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(MappingUpdateInput)
        return self.output(services.mapping_update(mapping=self.get_object(), actor=request.user, data=data))

    @action(detail=True, methods=["get", "post"], serializer_class=MappingVersionOutput)
    def versions(self, request: Request, **kwargs: Any) -> Response:
        mapping = self.get_object()
        if request.method == "POST":
            data = self.validated(MappingVersionInput)
            version = services.mapping_version_create(mapping=mapping, actor=request.user, **data)
            return Response(MappingVersionOutput(version).data, status=201)
        page = self.paginate_queryset(selectors.mapping_version_list(mapping=mapping))
        return self.get_paginated_response(MappingVersionOutput(page, many=True).data)

    @extend_schema(operation_id="workspaces_mappings_version_retrieve")
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<version>\d+)", serializer_class=MappingVersionOutput)
    def version(self, request: Request, version: str, **kwargs: Any) -> Response:
        found = selectors.mapping_version_get(mapping=self.get_object(), version=version)
        return Response(MappingVersionOutput(found).data)

    @extend_schema(operation_id="workspaces_mappings_test_saved", request=MappingTestInput, responses=MappingTestOutput)
    @action(detail=True, methods=["post"], url_path="test", serializer_class=MappingTestInput)
    def test_saved(self, request: Request, **kwargs: Any) -> Response:
        """Run a saved version (the latest unless `version`), or `expression` instead, on `sample`."""
        mapping = self.get_object()
        data = self.validated(MappingTestInput)
        if "expression" in data:
            return _run(data, expression=data["expression"])
        version = (
            selectors.mapping_version_get(mapping=mapping, version=data["version"])
            if "version" in data
            else mapping.latest_version
        )
        assert version is not None  # a mapping is created with its version 1
        return _run(data, expression=version.expression, expected=version.expected_output)

    @extend_schema(
        operation_id="workspaces_mappings_test_unsaved", request=MappingTestInput, responses=MappingTestOutput
    )
    @action(detail=False, methods=["post"], url_path="test", serializer_class=MappingTestInput)
    def test_unsaved(self, request: Request, **kwargs: Any) -> Response:
        """Run an expression that is not saved yet on `sample`."""
        data = self.validated(MappingTestInput)
        if "expression" not in data:
            raise serializers.ValidationError({"expression": ["This field is required."]})
        return _run(data, expression=data["expression"])
