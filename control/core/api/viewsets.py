"""The base of every workspace-scoped endpoint: tenancy (404 for other workspaces) and the role each action needs."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from rest_framework import permissions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from control.workspaces.choices import Role, role_at_least
from control.workspaces.models import Workspace
from control.workspaces.selectors import role_get, workspace_get


class WorkspaceRolePermission(permissions.BasePermission):
    """The caller's role in the URL's workspace must reach the action's required role.

    A workspace the caller cannot see raises NotFound while resolving it, so it answers 404 before any 403.
    """

    message = "Your role in this workspace does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        role = role_get(user=request.user, workspace=view.workspace)
        return role_at_least(role, view.required_role())


class WorkspaceViewSet(viewsets.GenericViewSet):
    """`/workspaces/<slug>/<resource>/`: list and retrieve from the app's selector, writes in each subclass."""

    permission_classes = [permissions.IsAuthenticated, WorkspaceRolePermission]
    output_serializer_class: Any = None
    # Role per action; unlisted actions: viewer for safe methods, editor otherwise.
    roles: dict[str, str] = {}
    lookup_value_regex = r"\d+"

    @cached_property
    def workspace(self) -> Workspace:
        return workspace_get(user=self.request.user, slug=self.kwargs["workspace_slug"])

    def required_role(self) -> str:
        if self.action in self.roles:
            return self.roles[self.action]
        return Role.VIEWER if self.request.method in permissions.SAFE_METHODS else Role.EDITOR

    def get_serializer_class(self) -> Any:
        return self.serializer_class or self.output_serializer_class

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["workspace"] = self.workspace
        return context

    def selector(self) -> Any:
        raise NotImplementedError

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no request workspace
            return self.output_serializer_class.Meta.model.objects.none()
        return self.selector()

    def get_object(self) -> Any:
        obj = self.getter(self.kwargs["pk"])
        self.check_object_permissions(self.request, obj)
        return obj

    def getter(self, pk: str) -> Any:
        raise NotImplementedError

    def output(self, obj: Any, status: int = 200) -> Response:
        return Response(self.output_serializer_class(obj, context=self.get_serializer_context()).data, status=status)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        data = self.output_serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.output(self.get_object())

    def validated(self, serializer_class: Any, *, partial: bool = False) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)
