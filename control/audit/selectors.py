from __future__ import annotations

from django.db.models import QuerySet

from control.audit.models import AuditEvent
from control.workspaces.models import Workspace


def audit_event_list(*, workspace: Workspace) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(workspace=workspace).select_related("actor")
