"""The control plane's Prometheus metrics: API requests by status, and figures read from the database at scrape time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger("switchyard.control.metrics")

HTTP_REQUESTS = Counter(
    "switchyard_control_http_requests_total",
    "Control plane HTTP requests by area, method and status.",
    ["area", "method", "status"],
)


def _area(path: str) -> str:
    for prefix, area in (("/api/", "api"), ("/admin/", "admin"), ("/metrics", "metrics")):
        if path.startswith(prefix):
            return area
    return "other"


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        HTTP_REQUESTS.labels(_area(request.path), request.method, str(response.status_code)).inc()
        return response


class DatabaseCollector(Collector):
    """Read at scrape time, so the numbers are the database's, whichever process serves /metrics."""

    def describe(self) -> Iterator[Any]:
        """The families without their values: registering the collector must not query the database."""
        yield GaugeMetricFamily("switchyard_control_outbox_pending", "")
        yield GaugeMetricFamily("switchyard_control_dlq_index_records", "")
        yield GaugeMetricFamily("switchyard_control_replay_jobs", "", labels=["state"])
        yield GaugeMetricFamily("switchyard_control_destinations", "", labels=["state"])

    def collect(self) -> Iterator[Any]:
        from control.dlq.models import DlqRecord
        from control.monitoring.models import DestinationHealth
        from control.outbox.services import outbox_pending_count
        from control.replay.models import ReplayJob

        try:
            outbox = GaugeMetricFamily("switchyard_control_outbox_pending", "Spec changes not yet published to Kafka.")
            outbox.add_metric([], outbox_pending_count())
            dlq = GaugeMetricFamily("switchyard_control_dlq_index_records", "Records in the DLQ index.")
            dlq.add_metric([], DlqRecord.objects.count())
            jobs = GaugeMetricFamily("switchyard_control_replay_jobs", "Replay jobs by state.", labels=["state"])
            for state, count in _counts(ReplayJob, "state"):
                jobs.add_metric([state], count)
            circuits = GaugeMetricFamily(
                "switchyard_control_destinations", "Destinations by last reported circuit state.", labels=["state"]
            )
            for state, count in _counts(DestinationHealth, "state"):
                circuits.add_metric([state], count)
        except DatabaseError as exc:  # a scrape must not fail because the database is briefly away
            logger.warning("metrics: database not readable: %s", exc)
            return
        yield from (outbox, dlq, jobs, circuits)


def _counts(model: Any, field: str) -> list[tuple[str, int]]:
    from django.db.models import Count

    return [(row[field], row["n"]) for row in model.objects.order_by().values(field).annotate(n=Count("pk"))]


# The database gauges live in their own registry, not the process-wide one: code that walks the default registry
# (streams.observability.pipeline_snapshot, in tests that run with Django set up) must never query the database.
DATABASE_REGISTRY = CollectorRegistry(auto_describe=False)
_registered = False
_lock = threading.Lock()


def register_collectors() -> None:
    global _registered
    with _lock:
        if not _registered:
            DATABASE_REGISTRY.register(DatabaseCollector())
            _registered = True
