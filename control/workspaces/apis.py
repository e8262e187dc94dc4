"""/api/v1/workspaces/ and /api/v1/workspaces/<slug>/members/."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from control.core.api.viewsets import WorkspaceViewSet
from control.core.exceptions import PermissionDenied
from control.core.tenancy import is_platform_staff
from control.workspaces import selectors, services
from control.workspaces.choices import Role, role_at_least
from control.workspaces.models import Membership, Workspace


class WorkspaceOutput(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Workspace
        fields = ["slug", "name", "created_at", "role"]

    def get_role(self, workspace: Workspace) -> str | None:
        return selectors.role_get(user=self.context["request"].user, workspace=workspace)


class WorkspaceCreateInput(serializers.Serializer):
    slug = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)


class WorkspaceUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class WorkspaceApi(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Workspaces the caller belongs to (all, for staff). Staff create them; owners rename them."""

    serializer_class = WorkspaceOutput
    lookup_field = "slug"
    lookup_value_regex = r"[a-z0-9-]+"
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["slug"]
    search_fields = ["slug", "name"]
    ordering_fields = ["slug", "name", "created_at"]

    def get_queryset(self) -> Any:
        return selectors.workspace_list(user=self.request.user)

    def retrieve(self, request: Request, slug: str) -> Response:
        return Response(
            WorkspaceOutput(selectors.workspace_get(user=request.user, slug=slug), context={"request": request}).data
        )

    def create(self, request: Request) -> Response:
        if not is_platform_staff(request.user):
            raise PermissionDenied("only platform staff create workspaces")
        data = WorkspaceCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        workspace = services.workspace_create(actor=request.user, **data.validated_data)
        return Response(WorkspaceOutput(workspace, context={"request": request}).data, status=201)

    def partial_update(self, request: Request, slug: str) -> Response:
        workspace = selectors.workspace_get(user=request.user, slug=slug)
        if not role_at_least(selectors.role_get(user=request.user, workspace=workspace), Role.OWNER):
            raise PermissionDenied("only an owner renames a workspace")
        data = WorkspaceUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        workspace = services.workspace_update(workspace=workspace, actor=request.user, **data.validated_data)
        return Response(WorkspaceOutput(workspace, context={"request": request}).data)


class MembershipOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created_at"]


class MembershipCreateInput(serializers.Serializer):
    username = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all())
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipUpdateInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipApi(WorkspaceViewSet):
    """Members and their roles: everyone reads, owners manage."""

    output_serializer_class = MembershipOutput
    roles = {"create": Role.OWNER, "partial_update": Role.OWNER, "destroy": Role.OWNER}
    filterset_fields = ["role"]
    search_fields = ["user__username"]
    ordering_fields = ["created_at", "role"]

    def selector(self) -> Any:
        return selectors.membership_list(workspace=self.workspace)

    def getter(self, pk: str) -> Any:
        return selectors.membership_get(workspace=self.workspace, pk=pk)

    def create(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(MembershipCreateInput)
        membership = services.membership_create(
            workspace=self.workspace, user=data["username"], role=data["role"], actor=request.user
        )
        return self.output(membership, status=201)

    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        data = self.validated(MembershipUpdateInput)
        return self.output(
            services.membership_update(membership=self.get_object(), role=data["role"], actor=request.user)
        )

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        services.membership_delete(membership=self.get_object(), actor=request.user)
        return Response(status=204)
