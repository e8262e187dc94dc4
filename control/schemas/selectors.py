from __future__ import annotations

from django.db.models import QuerySet

from control.core.exceptions import NotFound
from control.schemas.models import Schema, SchemaVersion
from control.workspaces.models import Workspace


def schema_list(*, workspace: Workspace) -> QuerySet[Schema]:
    return Schema.objects.filter(workspace=workspace).select_related("workspace")


def schema_get(*, workspace: Workspace, pk: int | str) -> Schema:
    schema = schema_list(workspace=workspace).filter(pk=pk).first()
    if schema is None:
        raise NotFound(f"schema {pk} not found in workspace {workspace.slug!r}")
    return schema


def schema_version_list(*, schema: Schema) -> QuerySet[SchemaVersion]:
    return SchemaVersion.objects.filter(schema=schema).select_related("schema__workspace")


def schema_version_get(*, schema: Schema, version: int | str) -> SchemaVersion:
    found = schema_version_list(schema=schema).filter(version=version).first()
    if found is None:
        raise NotFound(f"schema {schema} has no version {version}")
    return found
