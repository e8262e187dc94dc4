from __future__ import annotations

from django.db.models import QuerySet

from control.core.exceptions import NotFound
from control.mappings.models import Mapping, MappingVersion
from control.workspaces.models import Workspace


def mapping_list(*, workspace: Workspace) -> QuerySet[Mapping]:
    return Mapping.objects.filter(workspace=workspace).select_related("workspace")


def mapping_get(*, workspace: Workspace, pk: int | str) -> Mapping:
    mapping = mapping_list(workspace=workspace).filter(pk=pk).first()
    if mapping is None:
        raise NotFound(f"mapping {pk} not found in workspace {workspace.slug!r}")
    return mapping


def mapping_version_list(*, mapping: Mapping) -> QuerySet[MappingVersion]:
    return MappingVersion.objects.filter(mapping=mapping).select_related("mapping__workspace")


def mapping_version_get(*, mapping: Mapping, version: int | str) -> MappingVersion:
    found = mapping_version_list(mapping=mapping).filter(version=version).first()
    if found is None:
        raise NotFound(f"mapping {mapping} has no version {version}")
    return found
