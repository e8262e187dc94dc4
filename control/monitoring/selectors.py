"""Per-pipeline operating figures for the API and the dashboard, from the status samples and the DLQ index."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from django.utils import timezone

from control.destinations.models import Destination
from control.dlq.models import DlqRecord
from control.monitoring.models import DestinationHealth, PipelineStatsSample
from control.pipelines.models import Pipeline
from control.workspaces.models import Workspace

LIVE_WITHIN = timedelta(seconds=45)  # three missed worker reports (every 15 s) and a worker no longer counts
SERIES = {
    "transformed": ("transform:ok",),
    "delivered": ("deliver:delivered",),
    "retried": ("deliver:retry",),
    "dead_lettered": ("transform:dlq", "validate:dlq", "deliver:dlq"),
}


def destination_health_states(*, workspace: Workspace) -> dict[str, str]:
    ids = [str(pk) for pk in Destination.objects.filter(workspace=workspace).values_list("pk", flat=True)]
    return dict(DestinationHealth.objects.filter(destination_id__in=ids).values_list("destination_id", "state"))


def _deltas(samples: list[PipelineStatsSample]) -> list[tuple[datetime, dict[str, float]]]:
    """Per worker, what each report added to the previous one (a restarted worker starts again from zero)."""
    by_worker: dict[str, list[PipelineStatsSample]] = defaultdict(list)
    for sample in samples:
        by_worker[sample.worker].append(sample)
    out = []
    for rows in by_worker.values():
        for prev, cur in pairwise(rows):
            delta = {}
            for key, value in cur.events.items():
                before = prev.events.get(key, 0.0)
                delta[key] = value - before if value >= before else value
            out.append((cur.at, delta))
    return out


def pipeline_stats(*, pipeline: Pipeline, minutes: int = 60, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    start = now - timedelta(minutes=minutes)
    # One sample before the window per worker would give the first minute a baseline; the window is enough here.
    samples = list(PipelineStatsSample.objects.filter(pipeline_id=str(pipeline.pk), at__gte=start).order_by("at", "id"))
    buckets: list[dict[str, Any]] = [
        {"minute": (start + timedelta(minutes=i + 1)).replace(second=0, microsecond=0).isoformat(), "lag": 0.0}
        | {name: 0.0 for name in SERIES}
        for i in range(minutes)
    ]
    for at, delta in _deltas(samples):
        index = min(minutes - 1, max(0, int((at - start).total_seconds() // 60)))
        for name, keys in SERIES.items():
            buckets[index][name] += sum(delta.get(k, 0.0) for k in keys)
    lag_by_minute: dict[int, dict[str, float]] = defaultdict(dict)
    for sample in samples:
        index = min(minutes - 1, max(0, int((sample.at - start).total_seconds() // 60)))
        lag_by_minute[index][sample.worker] = sample.lag  # each worker's last report in that minute
    for index, lags in lag_by_minute.items():
        buckets[index]["lag"] = sum(lags.values())
    latest: dict[str, PipelineStatsSample] = {}
    for sample in samples:
        if sample.at >= now - LIVE_WITHIN:
            latest[sample.worker] = sample
    last_minutes = buckets[-5:]
    destinations = [str(pk) for pk in pipeline.destinations.values_list("pk", flat=True)]
    health = dict(
        DestinationHealth.objects.filter(destination_id__in=destinations).values_list("destination_id", "state")
    )
    return {
        "pipeline": pipeline.pk,
        "name": pipeline.name,
        "state": pipeline.state,
        "workers": sorted(latest),
        "throughput_per_min": {name: sum(b[name] for b in last_minutes) / len(last_minutes) for name in SERIES},
        "lag": sum(s.lag for s in latest.values()),
        "oldest_undelivered_s": max((s.oldest_undelivered_s for s in latest.values()), default=0.0),
        "dlq_count": DlqRecord.objects.filter(
            stream_id__in=[pipeline.source_id, pipeline.target_id], pipeline_id=str(pipeline.pk)
        ).count(),
        "destinations": [{"id": d, "state": health.get(d, "unknown")} for d in destinations],
        "series": buckets,
    }
