"""Writes for the DLQ index: rows made from DLQ records as they arrive, and a rebuild from the topic.

The index is derived data. It is never audited (it records no one's change) and can be dropped and rebuilt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction

from control.dlq.models import DlqRecord
from control.dlq.reader import end_offsets, records_scan
from control.streams.models import Stream
from streams import envelope
from streams.exceptions import InvalidName
from streams.replay import failed_at_ms
from streams.topics import Variant, parse_topic, topic_name
from streams.transform import Record

logger = logging.getLogger("switchyard.control.dlq")

BATCH = 2000


def dlq_topic(stream: Stream) -> str:
    return topic_name(
        env=settings.SWITCHYARD_ENV, workspace=stream.workspace.slug, stream=stream.name, variant=Variant.DLQ
    )


def _int(value: str | None) -> int | None:
    return int(value) if value and value.lstrip("-").isdigit() else None


def dlq_record_from(record: Record, *, stream: Stream) -> DlqRecord:
    def h(name: str) -> str:
        return envelope.header(record.headers, name) or ""

    return DlqRecord(
        workspace_id=stream.workspace_id,
        stream=stream,
        partition=record.partition,
        offset=record.offset,
        event_id=h(envelope.EVENT_ID)[:64],
        correlation_id=h(envelope.CORRELATION_ID)[:128],
        pipeline_id=h(envelope.PIPELINE)[:64],
        revision=_int(h(envelope.PIPELINE_REVISION)),
        stage=h(envelope.ERROR_STAGE)[:16],
        error_type=h(envelope.ERROR_TYPE)[:100],
        message=h(envelope.ERROR_MESSAGE)[:2000],
        pointer=h(envelope.ERROR_POINTER)[:500],
        failed_at=datetime.fromtimestamp(failed_at_ms(record) / 1000, tz=UTC),
        attempts=_int(h(envelope.ATTEMPT)) or 1,
        destination_id=h(envelope.DESTINATION)[:64],
        origin_topic=h(envelope.ORIGIN_TOPIC)[:255],
        origin_partition=_int(h(envelope.ORIGIN_PARTITION)),
        origin_offset=_int(h(envelope.ORIGIN_OFFSET)),
        replay_job=h(envelope.REPLAY_JOB)[:64],
    )


class _Streams:
    """Topic name -> Stream, looked up once per topic (None: not a stream of this control plane)."""

    def __init__(self) -> None:
        self._known: dict[str, Stream | None] = {}

    def get(self, topic: str) -> Stream | None:
        if topic not in self._known:
            try:
                parsed = parse_topic(topic)
            except InvalidName:
                self._known[topic] = None
                return None
            self._known[topic] = (
                Stream.objects.select_related("workspace")
                .filter(workspace__slug=parsed.workspace, name=parsed.stream)
                .first()
                if parsed.env == settings.SWITCHYARD_ENV and parsed.variant == Variant.DLQ
                else None
            )
        return self._known[topic]


def dlq_index_records(records: Iterable[Record]) -> int:
    """Index DLQ records (idempotent: a position already indexed is left alone); returns how many were new."""
    streams = _Streams()
    rows = []
    for record in records:
        stream = streams.get(record.topic)
        if stream is None:
            logger.debug("not indexing %s[%d]@%d: no such stream", record.topic, record.partition, record.offset)
            continue
        rows.append(dlq_record_from(record, stream=stream))
    before = DlqRecord.objects.count() if rows else 0
    for start in range(0, len(rows), BATCH):
        DlqRecord.objects.bulk_create(rows[start : start + BATCH], ignore_conflicts=True)
    return DlqRecord.objects.count() - before if rows else 0


def dlq_index_rebuild(*, stream: Stream) -> int:
    """Drop the stream's index and read its DLQ topic again from the start; returns how many rows it holds now."""
    topic = dlq_topic(stream)
    ends = end_offsets(topic)
    with transaction.atomic():
        DlqRecord.objects.filter(stream=stream).delete()
        batch: list[Record] = []
        for record in records_scan(topic, starts={}, ends=ends):
            batch.append(record)
            if len(batch) >= BATCH:
                dlq_index_records(batch)
                batch = []
        dlq_index_records(batch)
    count = DlqRecord.objects.filter(stream=stream).count()
    logger.info("rebuilt the DLQ index of %s: %d records", stream, count)
    return count
