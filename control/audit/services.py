"""Writing the audit log. Services call audit_record themselves (not signals), so every path is recorded."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import models

from control.audit.models import AuditEvent
from control.core.correlation import correlation_id
from control.workspaces.models import Workspace

MASK = "********"
REPLACED = "******** (replaced)"
# Any field whose name looks like a secret is masked, even if a service forgot to say so.
_SECRET_NAME = re.compile(r"secret|password|token|_enc$|^key$", re.IGNORECASE)


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str], *, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """The audit view of `obj`: the named fields as JSON values; secrets only say whether they are set."""
    secret_names = set(secrets)
    result: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        if name in secret_names or _SECRET_NAME.search(name):
            result[name] = MASK if value else ""
        else:
            result[name] = _plain(value)
    return result


def _diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    before, after = before or {}, after or {}
    changes = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            if _SECRET_NAME.search(name):  # a last line of defence: never store a secret-looking value
                old, new = (MASK if old else ""), (MASK if new else "")
            changes[name] = {"before": old, "after": new}
    return changes


def audit_record(
    *,
    actor: Any,
    workspace: Workspace | None,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    replaced_secrets: Iterable[str] = (),
) -> AuditEvent:
    """Append one event; `replaced_secrets` names secrets the change set anew (their values never appear)."""
    changes = _diff(before, after)
    for name in replaced_secrets:
        changes[name] = {"before": MASK if (before or {}).get(name) else "", "after": REPLACED}
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "system",
        workspace=workspace,
        workspace_slug=workspace.slug if workspace else "",
        action=action,
        object_type=obj._meta.model_name or type(obj).__name__.lower(),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes,
        correlation_id=correlation_id(),
    )
