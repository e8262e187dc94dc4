"""/api/v1/workspaces/<slug>/pipelines/ with activate, pause, resume, rollback, spec and revisions."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from control.core.api.fields import NoInput, ScopedPrimaryKeyField
from control.core.api.viewsets import WorkspaceViewSet
from control.core.exceptions import Conflict
from control.destinations.models import Destination
from control.mappings.models import MappingVersion
from control.pipelines import selectors, services
from control.pipelines.choices import PipelineState
from control.pipelines.models import Pipeline, PipelineRevision
from control.pipelines.specs import spec_bytes, spec_masked
from control.schemas.models import SchemaVersion
from control.streams.models import Stream


class PipelineOutput(serializers.ModelSerializer):
    revision = serializers.SerializerMethodField()

    class Meta:
        model = Pipeline
        fields = [
            "id",
            "name",
            "description",
            "state",
            "revision",
            "source",
            "input_schema_version",
            "mapping_version",
            "output_schema_version",
            "target",
            "destinations",
            "first_activated_at",
            "created_at",
            "updated_at",
        ]

    def get_revision(self, pipeline: Pipeline) -> int | None:
        return pipeline.current_revision.number if pipeline.current_revision else None


class PipelineRevisionOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = PipelineRevision
        fields = ["id", "number", "mapping_version", "rolled_back_from", "created_by", "created_at"]


def _scoped(model: Any, path: str) -> Any:
    return lambda ws: model.objects.filter(**{path: ws})


class PipelineUpdateInput(serializers.Serializer):
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    source = ScopedPrimaryKeyField(scope=_scoped(Stream, "workspace"), required=False)
    target = ScopedPrimaryKeyField(scope=_scoped(Stream, "workspace"), required=False)
    mapping_version = ScopedPrimaryKeyField(scope=_scoped(MappingVersion, "mapping__workspace"), required=False)
    input_schema_version = ScopedPrimaryKeyField(
        scope=_scoped(SchemaVersion, "schema__workspace"), required=False, allow_null=True
    )
    output_schema_version = ScopedPrimaryKeyField(
        scope=_scoped(SchemaVersion, "schema__workspace"), required=False, allow_null=True
    )
    destinations = ScopedPrimaryKeyField(scope=_scoped(Destination, "workspace"), many=True, required=False)


class PipelineCreateInput(PipelineUpdateInput):
    name = serializers.CharField(max_length=64)
    source = ScopedPrimaryKeyField(scope=_scoped(Stream, "workspace"))
    target = ScopedPrimaryKeyField(scope=_scoped(Stream, "workspace"))
    mapping_version = ScopedPrimaryKeyField(scope=_scoped(MappingVersion, "mapping__workspace"))


class RollbackInput(serializers.Serializer):
    revision = serializers.IntegerField(min_value=1)


class PipelineApi(WorkspaceViewSet):
    """Pipelines. Edits are drafts until `activate`, which compiles a new immutable revision for the workers."""

    output_serializer_class = PipelineOutput
    filterset_fields = ["state", "source", "target", "name"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "state", "created_at", "updated_at"]

    def selector(self) -> Any:
        return selectors.pipeline_list(workspace=self.workspace)

    def getter(self, pk: str) -> Any:
        return selectors.pipeline_get(workspace=self.workspace, pk=pk)

    def create(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(PipelineCreateInput)
        pipeline = services.pipeline_create(workspace=self.workspace, actor=request.user, **data)
        return self.output(pipeline, status=201)

    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(PipelineUpdateInput, partial=True)
        destinations = data.pop("destinations", None)
        pipeline = services.pipeline_update(
            pipeline=self.get_object(), actor=request.user, data=data, destinations=destinations
        )
        return self.output(pipeline)

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.pipeline_delete(pipeline=self.get_object(), actor=request.user)
        return Response(status=204)

    @action(detail=True, methods=["post"], serializer_class=NoInput)
    def activate(self, request: Request, **kwargs: Any) -> Response:
        pipeline = self.get_object()
        services.pipeline_activate(pipeline=pipeline, actor=request.user)
        return self.output(pipeline)

    @action(detail=True, methods=["post"], serializer_class=NoInput)
    def pause(self, request: Request, **kwargs: Any) -> Response:
        return self.output(services.pipeline_pause(pipeline=self.get_object(), actor=request.user))

    @action(detail=True, methods=["post"], serializer_class=NoInput)
    def resume(self, request: Request, **kwargs: Any) -> Response:
        return self.output(services.pipeline_resume(pipeline=self.get_object(), actor=request.user))

    @action(detail=True, methods=["post"], serializer_class=RollbackInput)
    def rollback(self, request: Request, **kwargs: Any) -> Response:
        pipeline = self.get_object()
        data = self.validated(RollbackInput)
        services.pipeline_rollback(pipeline=pipeline, revision=data["revision"], actor=request.user)
        return self.output(pipeline)

    @action(detail=True, methods=["post"], serializer_class=NoInput)
    def archive(self, request: Request, **kwargs: Any) -> Response:
        return self.output(services.pipeline_archive(pipeline=self.get_object(), actor=request.user))

    @action(detail=True, methods=["get"], serializer_class=NoInput)
    def spec(self, request: Request, **kwargs: Any) -> Response:
        """The spec the workers run (the current revision, in the pipeline's state), secrets masked."""
        pipeline = self.get_object()
        if pipeline.current_revision is None:
            raise Conflict("this pipeline has never been activated, so the workers have no spec for it")
        if pipeline.state == PipelineState.ARCHIVED:
            raise Conflict("this pipeline is archived: the workers were told to forget it")
        document = json.loads(spec_bytes(pipeline.current_revision.spec, state=pipeline.state))
        return Response(spec_masked(document))

    @action(detail=True, methods=["get"], serializer_class=PipelineRevisionOutput)
    def revisions(self, request: Request, **kwargs: Any) -> Response:
        page = self.paginate_queryset(selectors.pipeline_revision_list(pipeline=self.get_object()))
        return self.get_paginated_response(PipelineRevisionOutput(page, many=True).data)
