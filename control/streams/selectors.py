from __future__ import annotations

from django.db.models import Q, QuerySet

from control.core.exceptions import NotFound
from control.streams.models import IngestKey, Stream
from control.workspaces.models import Workspace


def stream_list(*, workspace: Workspace) -> QuerySet[Stream]:
    return Stream.objects.filter(workspace=workspace).select_related("workspace")


def stream_get(*, workspace: Workspace, pk: int | str) -> Stream:
    stream = stream_list(workspace=workspace).filter(pk=pk).first()
    if stream is None:
        raise NotFound(f"stream {pk} not found in workspace {workspace.slug!r}")
    return stream


def ingest_key_list(*, workspace: Workspace) -> QuerySet[IngestKey]:
    return IngestKey.objects.filter(workspace=workspace).select_related("stream", "workspace")


def ingest_key_get(*, workspace: Workspace, pk: int | str) -> IngestKey:
    key = ingest_key_list(workspace=workspace).filter(pk=pk).first()
    if key is None:
        raise NotFound(f"ingest key {pk} not found in workspace {workspace.slug!r}")
    return key


def ingest_keys_for_stream(*, stream: Stream) -> QuerySet[IngestKey]:
    """Keys that open this stream: not revoked, and unscoped or scoped to it."""
    return (
        IngestKey.objects.filter(workspace_id=stream.workspace_id, revoked_at__isnull=True)
        .filter(Q(stream__isnull=True) | Q(stream=stream))
        .order_by("id")
    )
