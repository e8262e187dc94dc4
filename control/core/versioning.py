"""Immutable version lineages (a schema's versions, a mapping's versions): numbering, saving and the audit record.

What each app checks before a version may be saved differs (schemas: meta-schema and compatibility mode; mappings:
the JSONata compile and the sample) and stays in its own services. How the version is numbered, saved and audited is
the same, and lives here so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import models, transaction

from control.audit.services import audit_record, snapshot

V = TypeVar("V", bound=models.Model)


def version_create(
    *,
    parent: models.Model,
    build: Callable[[V | None], V],
    action: str,
    audit_fields: Iterable[str],
    actor: Any,
) -> V:
    """Save the version `build` returns as the parent's latest + 1 (1 for the first), and audit it as `action`.

    `parent` has a `workspace` and its versions under `related_name="versions"`, each with a `version` number and a
    `created_by`. `build` gets the current latest version (None before the first), raises if the new one may not
    follow it, and returns it unsaved; the number and `created_by` are set here. The audit record shows the number
    and `audit_fields`.
    """
    with transaction.atomic():
        # Lock the parent row so two concurrent versions cannot both become "latest + 1", and so `build` checks
        # against the version that really is the latest when this one is saved.
        type(parent)._default_manager.select_for_update().filter(pk=parent.pk).first()
        latest = parent.versions.order_by("-version").first()
        version = build(latest)
        version.version = latest.version + 1 if latest else 1
        version.created_by = actor if getattr(actor, "is_authenticated", False) else None
        version.save()
        audit_record(
            actor=actor,
            workspace=parent.workspace,
            action=action,
            obj=version,
            after=snapshot(version, ("version", *audit_fields)),
        )
    return version
