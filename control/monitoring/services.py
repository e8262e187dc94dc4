"""Writes from the status topic: destination health (latest snapshot) and per-pipeline counter samples."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from control.monitoring.models import DestinationHealth, PipelineStatsSample
from control.streams.services import ingest_key_touch

logger = logging.getLogger("switchyard.control.monitoring")


def _when(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError):
        return timezone.now()


def destination_health_apply(*, destination_id: str, snapshot: dict[str, Any]) -> DestinationHealth:
    reported = _when(snapshot.get("at"))
    health, _ = DestinationHealth.objects.update_or_create(
        destination_id=destination_id[:64],
        defaults={
            "state": str(snapshot.get("state", "unknown"))[:16],
            "snapshot": snapshot,
            "worker": str(snapshot.get("worker", ""))[:200],
            "reported_at": reported,
        },
    )
    return health


def worker_stats_apply(*, report: dict[str, Any]) -> int:
    """Store one worker report: a sample per pipeline, and each destination's latest state. Returns samples made."""
    at, worker = _when(report.get("at")), str(report.get("worker", ""))[:200]
    samples = [
        PipelineStatsSample(
            pipeline_id=str(pipeline_id)[:64],
            worker=worker,
            at=at,
            events={str(k): float(v) for k, v in (stats.get("events") or {}).items()},
            dlq=float(stats.get("dlq") or 0),
            lag=float(stats.get("lag") or 0),
            oldest_undelivered_s=float(stats.get("oldest_undelivered_s") or 0),
        )
        for pipeline_id, stats in (report.get("pipelines") or {}).items()
        if isinstance(stats, dict)
    ]
    PipelineStatsSample.objects.bulk_create(samples)
    for destination in report.get("destinations") or []:
        if isinstance(destination, dict) and destination.get("destination"):
            destination_health_apply(
                destination_id=str(destination["destination"]),
                snapshot={**destination, "worker": worker, "at": report.get("at")},
            )
    ingest_keys_used_apply(used=report.get("ingest_keys"))
    return len(samples)


def ingest_keys_used_apply(*, used: Any) -> int:
    """A worker's `ingest_keys` ({key id: epoch seconds}): each key's last_used_at moves forward. Returns keys moved."""
    if not isinstance(used, dict):
        return 0
    now, moved = timezone.now(), 0
    for key_id, at in used.items():
        try:
            when = datetime.fromtimestamp(float(at), tz=UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            continue  # a malformed timestamp is skipped, not taken as "now"
        # A worker whose clock runs ahead must not pin a key's last use in the future.
        moved += ingest_key_touch(key_id=str(key_id), used_at=min(when, now))
    return moved


def status_record_apply(*, key: bytes | None, value: bytes | None) -> None:
    """One record of `<env>._switchyard.status`."""
    if not key or not value:
        return
    name = key.decode("utf-8", errors="replace")
    try:
        doc = json.loads(value)
    except ValueError:
        logger.warning("status record %s is not JSON; skipped", name)
        return
    if name.startswith("destination:"):
        destination_health_apply(destination_id=name.split(":", 1)[1], snapshot=doc)
    elif name.startswith("worker:"):
        worker_stats_apply(report=doc)


def stats_prune() -> int:
    cutoff = timezone.now() - timedelta(minutes=settings.STATS_RETENTION_MINUTES)
    deleted, _ = PipelineStatsSample.objects.filter(at__lt=cutoff).delete()
    return deleted
