"""Reads of a stream's DLQ: the list and the error summary come from the index; an event's detail from Kafka."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet

from control.core.exceptions import NotFound
from control.dlq.models import DlqRecord
from control.dlq.reader import record_read
from control.dlq.services import dlq_topic
from control.streams.models import Stream
from control.workspaces.models import Workspace
from streams import envelope
from streams.replay import ReplayFilter


@dataclass(frozen=True)
class DlqFilter:
    """The selection both the DLQ browser and replay jobs use; empty fields select everything."""

    since: datetime | None = None
    until: datetime | None = None
    stages: tuple[str, ...] = ()
    error_types: tuple[str, ...] = ()
    pipelines: tuple[str, ...] = ()
    revisions: tuple[int, ...] = ()
    event_ids: tuple[str, ...] = field(default=())
    # Per DLQ partition, the first offset selected (a re-run starts at its first job's end offsets).
    from_offsets: dict[int, int] = field(default_factory=dict)

    def apply(self, queryset: QuerySet[DlqRecord]) -> QuerySet[DlqRecord]:
        if self.from_offsets:
            after_cut = ~Q(partition__in=list(self.from_offsets))
            for partition, offset in self.from_offsets.items():
                after_cut |= Q(partition=partition, offset__gte=offset)
            queryset = queryset.filter(after_cut)
        if self.since is not None:
            queryset = queryset.filter(failed_at__gte=self.since)
        if self.until is not None:
            queryset = queryset.filter(failed_at__lt=self.until)
        for name, values in (
            ("stage", self.stages),
            ("error_type", self.error_types),
            ("pipeline_id", self.pipelines),
            ("revision", self.revisions),
            ("event_id", self.event_ids),
        ):
            if values:
                queryset = queryset.filter(**{f"{name}__in": values})
        return queryset

    def to_replay_filter(self) -> ReplayFilter:
        """The same selection as the workers apply it to each record (failed-at in ms, half-open range)."""
        return ReplayFilter(
            since_ms=int(self.since.timestamp() * 1000) if self.since else None,
            until_ms=int(self.until.timestamp() * 1000) if self.until else None,
            stages=self.stages,
            error_types=self.error_types,
            pipelines=self.pipelines,
            revisions=self.revisions,
            event_ids=self.event_ids,
            from_offsets=dict(self.from_offsets),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "stages": list(self.stages),
            "error_types": list(self.error_types),
            "pipelines": list(self.pipelines),
            "revisions": list(self.revisions),
            "event_ids": list(self.event_ids),
            "from_offsets": {str(p): o for p, o in self.from_offsets.items()},
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> DlqFilter:
        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            since=when(doc.get("since")),
            until=when(doc.get("until")),
            stages=tuple(doc.get("stages") or ()),
            error_types=tuple(doc.get("error_types") or ()),
            pipelines=tuple(str(p) for p in doc.get("pipelines") or ()),
            revisions=tuple(int(r) for r in doc.get("revisions") or ()),
            event_ids=tuple(doc.get("event_ids") or ()),
            from_offsets={int(p): int(o) for p, o in (doc.get("from_offsets") or {}).items()},
        )


def dlq_record_list(*, stream: Stream, filters: DlqFilter | None = None) -> QuerySet[DlqRecord]:
    queryset = DlqRecord.objects.filter(stream=stream).order_by("-failed_at", "-id")
    return (filters or DlqFilter()).apply(queryset)


def dlq_summary(*, stream: Stream, filters: DlqFilter | None = None) -> list[dict[str, Any]]:
    """Failures grouped by (stage, error type): count, first and last seen; the largest group first."""
    rows = (
        dlq_record_list(stream=stream, filters=filters)
        .order_by()
        .values("stage", "error_type")
        .annotate(count=Count("id"), first_seen=Min("failed_at"), last_seen=Max("failed_at"))
        .order_by("-count", "stage", "error_type")
    )
    return list(rows)


def dlq_record_get(*, workspace: Workspace, stream: Stream, pk: int | str) -> DlqRecord:
    record = DlqRecord.objects.filter(workspace=workspace, stream=stream, pk=pk).select_related("stream").first()
    if record is None:
        raise NotFound(f"DLQ record {pk} not found in stream {stream}")
    return record


def dlq_event_detail(*, record: DlqRecord) -> dict[str, Any]:
    """The event as it is in Kafka: payload (JSON if it parses), key and every header."""
    found = record_read(dlq_topic(record.stream), record.partition, record.offset)
    if found is None:
        return {"available": False, "reason": "the record is no longer in Kafka (retention or compaction)"}
    raw = found.value or b""
    try:
        payload: Any = json.loads(raw)
        encoding = "json"
    except ValueError:
        payload, encoding = raw.decode("utf-8", errors="replace"), "text"
    return {
        "available": True,
        "key": found.key.decode("utf-8", errors="replace") if found.key else None,
        "payload": payload,
        "payload_encoding": encoding,
        "headers": {k: v.decode("utf-8", errors="replace") for k, v in found.headers},
        "timestamp_ms": found.timestamp_ms,
        "error": {
            "stage": envelope.header(found.headers, envelope.ERROR_STAGE),
            "type": envelope.header(found.headers, envelope.ERROR_TYPE),
            "message": envelope.header(found.headers, envelope.ERROR_MESSAGE),
            "pointer": envelope.header(found.headers, envelope.ERROR_POINTER),
        },
    }
