"""Worker status reports become per-pipeline figures (deltas of cumulative counters) and the admin dashboard."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from control.dlq.models import DlqRecord
from control.monitoring.selectors import pipeline_stats
from control.monitoring.services import status_record_apply

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _report(worker: str, at: float, pipeline: int, delivered: float, lag: float = 0) -> None:
    value = {
        "worker": worker,
        "at": at,
        "pipelines": {str(pipeline): {"events": {"deliver:delivered": delivered}, "dlq": 0, "lag": lag}},
        "destinations": [{"destination": "7", "state": "open", "consecutive_failures": 5}],
    }
    status_record_apply(key=f"worker:{worker}".encode(), value=json.dumps(value).encode())


def test_throughput_is_the_sum_of_each_workers_deltas_and_restarts_count_from_zero(world) -> None:  # type: ignore[no-untyped-def]
    now = time.time()
    pk = world.pipeline.pk
    _report("w1", now - 120, pk, 100)
    _report("w1", now - 60, pk, 160)  # +60
    _report("w1", now - 10, pk, 10, lag=4)  # restarted: +10
    _report("w2", now - 70, pk, 5)
    _report("w2", now - 20, pk, 35, lag=3)  # +30
    stats = pipeline_stats(pipeline=world.pipeline)
    assert sum(b["delivered"] for b in stats["series"]) == 100
    assert stats["lag"] == 7 and stats["workers"] == ["w1", "w2"]
    assert len(stats["series"]) == 60


def test_dashboard_and_dlq_admin_pages_render_for_a_viewer(world, team, client) -> None:  # type: ignore[no-untyped-def]
    _report("w1", time.time() - 30, world.pipeline.pk, 1)
    _report("w1", time.time() - 5, world.pipeline.pk, 9)
    DlqRecord.objects.create(
        workspace=world.workspace,
        stream=world.stream,
        partition=0,
        offset=0,
        stage="validate",
        error_type="SchemaViolation",
        failed_at=datetime.now(UTC),
    )
    client.force_login(team.viewer)
    dashboard = client.get(f"/admin/monitoring/pipelinedashboard/{world.pipeline.pk}/change/")
    assert dashboard.status_code == 200
    assert b"<svg" in dashboard.content and b"<polyline" in dashboard.content
    assert client.get("/admin/monitoring/pipelinedashboard/").status_code == 200
    dlq = client.get("/admin/dlq/dlqrecord/")
    assert dlq.status_code == 200 and b"SchemaViolation" in dlq.content
    assert client.get("/admin/replay/replayjob/").status_code == 200
    client.force_login(team.stranger)
    assert client.get(f"/admin/monitoring/pipelinedashboard/{world.pipeline.pk}/change/").status_code == 302
