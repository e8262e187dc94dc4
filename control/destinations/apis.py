"""/api/v1/workspaces/<slug>/destinations/: secrets are write-only."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from control.core.api.viewsets import WorkspaceViewSet
from control.destinations import selectors, services
from control.destinations.choices import AuthType, HttpMethod
from control.destinations.models import Destination


class DestinationOutput(serializers.ModelSerializer):
    auth_secret_set = serializers.SerializerMethodField()
    signing_secret_set = serializers.SerializerMethodField()

    class Meta:
        model = Destination
        fields = [
            "id",
            "name",
            "description",
            "url",
            "method",
            "headers",
            "timeout_s",
            "auth_type",
            "auth_username",
            "auth_secret_set",
            "signing_secret_set",
            "retry_schedule_s",
            "max_concurrency",
            "circuit_failure_threshold",
            "created_at",
            "updated_at",
        ]

    def get_auth_secret_set(self, obj: Destination) -> bool:
        return bool(obj.auth_secret_enc)

    def get_signing_secret_set(self, obj: Destination) -> bool:
        return bool(obj.signing_secret_enc)


class DestinationUpdateInput(serializers.Serializer):
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    url = serializers.URLField(max_length=2000, required=False)
    method = serializers.ChoiceField(choices=HttpMethod.choices, required=False)
    headers = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    timeout_s = serializers.FloatField(required=False)
    auth_type = serializers.ChoiceField(choices=AuthType.choices, required=False)
    auth_username = serializers.CharField(max_length=200, allow_blank=True, required=False)
    retry_schedule_s = serializers.ListField(child=serializers.FloatField(), required=False)
    max_concurrency = serializers.IntegerField(required=False)
    circuit_failure_threshold = serializers.IntegerField(required=False)
    # Write-only: never in a response, a log line or an audit diff.
    auth_secret = serializers.CharField(write_only=True, allow_blank=True, required=False, trim_whitespace=False)
    signing_secret = serializers.CharField(write_only=True, allow_blank=True, required=False, trim_whitespace=False)


class DestinationCreateInput(DestinationUpdateInput):
    name = serializers.CharField(max_length=64)
    url = serializers.URLField(max_length=2000)


class DestinationApi(WorkspaceViewSet):
    """HTTP destinations. URLs reaching private, loopback or link-local addresses are refused."""

    output_serializer_class = DestinationOutput
    filterset_fields = ["name", "auth_type", "method"]
    search_fields = ["name", "url", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]

    def selector(self) -> Any:
        return selectors.destination_list(workspace=self.workspace)

    def getter(self, pk: str) -> Any:
        return selectors.destination_get(workspace=self.workspace, pk=pk)

    def create(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(DestinationCreateInput)
        return self.output(
            services.destination_create(workspace=self.workspace, actor=request.user, **data), status=201
        )

    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(DestinationUpdateInput, partial=True)
        auth_secret, signing_secret = data.pop("auth_secret", None), data.pop("signing_secret", None)
        destination = services.destination_update(
            destination=self.get_object(),
            actor=request.user,
            data=data,
            auth_secret=auth_secret,
            signing_secret=signing_secret,
        )
        return self.output(destination)

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.destination_delete(destination=self.get_object(), actor=request.user)
        return Response(status=204)
