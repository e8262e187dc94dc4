"""Writes for schemas: every version is checked against its meta-schema and the schema's compatibility mode."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from control.audit.services import audit_record, snapshot
from control.core.exceptions import Conflict, IncompatibleSchema, ValidationError
from control.core.services import model_assign
from control.core.validation import full_clean
from control.core.versioning import version_create
from control.schemas.compatibility import compatibility_problems
from control.schemas.models import Schema, SchemaVersion
from control.workspaces.models import Workspace
from streams.validation import schema_problems

SCHEMA_FIELDS = ("name", "description", "compatibility")


def _check_definition(definition: Any) -> None:
    problems = schema_problems(definition)
    if problems:
        raise ValidationError(f"not a valid JSON Schema: {problems[0]}", details={"definition": problems})


def _check_evolution(*, schema: Schema, latest: SchemaVersion, definition: dict[str, Any]) -> None:
    """Refuse a definition that repeats the latest version or breaks the schema's compatibility mode."""
    if latest.definition == definition:
        raise Conflict(f"this definition is already version {latest.version}", details={"definition": ["Unchanged."]})
    problems = compatibility_problems(previous=latest.definition, new=definition, mode=schema.compatibility)
    if problems:
        raise IncompatibleSchema(
            f"version {latest.version + 1} breaks {schema.compatibility} compatibility: "
            + "; ".join(p.message for p in problems),
            details={"definition": [p.message for p in problems], "problems": [p.as_dict() for p in problems]},
        )


def schema_create(
    *,
    workspace: Workspace,
    name: str,
    definition: dict[str, Any],
    actor: Any = None,
    compatibility: str = "BACKWARD",
    description: str = "",
) -> Schema:
    """Create the schema with its version 1."""
    if Schema.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict(f"schema {name!r} already exists in {workspace.slug}", details={"name": ["Already exists."]})
    schema = Schema(workspace=workspace, name=name, compatibility=compatibility, description=description)
    full_clean(schema, exclude=["workspace"])
    _check_definition(definition)  # before anything is written (schema_version_create checks it again)
    with transaction.atomic():
        schema.save()
        audit_record(
            actor=actor,
            workspace=workspace,
            action="schema.create",
            obj=schema,
            after=snapshot(schema, SCHEMA_FIELDS),
        )
        schema_version_create(schema=schema, definition=definition, actor=actor)
    return schema


def schema_version_create(*, schema: Schema, definition: dict[str, Any], actor: Any) -> SchemaVersion:
    """The next version: a valid JSON Schema, different from the latest and within the compatibility mode."""
    _check_definition(definition)

    def checked(latest: SchemaVersion | None) -> SchemaVersion:
        if latest is not None:
            _check_evolution(schema=schema, latest=latest, definition=definition)
        return SchemaVersion(schema=schema, definition=definition)

    return version_create(
        parent=schema, build=checked, action="schema_version.create", audit_fields=("definition",), actor=actor
    )


def schema_update(*, schema: Schema, actor: Any, data: dict[str, Any]) -> Schema:
    """Description and compatibility mode; the name is referenced by pipelines and stays."""
    before = snapshot(schema, SCHEMA_FIELDS)
    model_assign(instance=schema, fields=("description", "compatibility"), data=data)
    full_clean(schema, exclude=["workspace"])
    with transaction.atomic():
        schema.save()
        audit_record(
            actor=actor,
            workspace=schema.workspace,
            action="schema.update",
            obj=schema,
            before=before,
            after=snapshot(schema, SCHEMA_FIELDS),
        )
    return schema
