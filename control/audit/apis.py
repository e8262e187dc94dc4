from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from rest_framework import serializers

from control.audit.models import AuditEvent
from control.audit.selectors import audit_event_list
from control.core.api.viewsets import WorkspaceViewSet


class AuditEventOutput(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor_name",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "correlation_id",
        ]


class AuditEventApi(WorkspaceViewSet):
    """The workspace's audit log, newest first; read-only."""

    output_serializer_class = AuditEventOutput
    filterset_fields = ["action", "object_type", "object_id", "actor_name", "correlation_id"]
    search_fields = ["object_repr", "action", "actor_name"]
    ordering_fields = ["created_at"]

    def selector(self) -> Any:
        return audit_event_list(workspace=self.workspace)

    def getter(self, pk: str) -> Any:
        return get_object_or_404(self.selector(), pk=pk)
