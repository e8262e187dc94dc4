"""Structured JSON logs carrying the event's context, and the worker's Prometheus metrics.

`log_context(...)` puts the correlation id, pipeline, topic, partition and offset of the event
being handled into every log line written inside it (contextvars, so concurrent tasks do not mix).
"""

from __future__ import annotations

import contextlib
import contextvars
import hmac
import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from pythonjsonlogger.json import JsonFormatter

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("switchyard_log_context", default=None)


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


METRICS_UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "send Authorization: Bearer <metrics token>"}}


def metrics_allowed(authorization: str | None, token: str) -> bool:
    """/metrics is open when no token is set, else it needs `Authorization: Bearer <token>`.

    Prometheus sends that with `authorization: {credentials: ...}` in its scrape config. Metrics name
    pipelines, destinations and streams, which is more than an unauthenticated caller should see.
    """
    if not token:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            setattr(record, key, value)
        return True


def json_logging_config(level: str = "INFO") -> dict[str, Any]:
    """A dictConfig: JSON lines on stderr, with the event context on every record."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {
            "json": {
                "()": JsonFormatter,
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"]}},
        "root": {"handlers": ["stderr"], "level": level},
    }


INGEST_REQUESTS = Counter("switchyard_ingest_requests_total", "Ingest requests by HTTP status.", ["status"])
INGESTED_EVENTS = Counter("switchyard_ingested_events_total", "Events stored by ingest.", ["workspace", "stream"])
EVENTS = Counter(
    "switchyard_events_total", "Events handled, by pipeline, stage and outcome.", ["pipeline", "stage", "outcome"]
)
DLQ_EVENTS = Counter("switchyard_dlq_events_total", "Events sent to a DLQ.", ["pipeline", "stage", "error_type"])
RETRIES = Counter("switchyard_retries_scheduled_total", "Delivery retries scheduled.", ["pipeline", "destination"])
DELIVERY_SECONDS = Histogram(
    "switchyard_delivery_seconds",
    "Duration of one delivery attempt.",
    ["destination"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CIRCUIT_STATE = Gauge("switchyard_circuit_state", "Circuit breaker: 0 closed, 1 half open, 2 open.", ["destination"])
REPLAY_LIVE_WAIT_SECONDS = Counter(
    "switchyard_replay_live_wait_seconds_total",
    "Time replay jobs spent waiting for the live consumer group they feed to catch up.",
    ["group"],
)
CONSUMER_LAG = Gauge(
    "switchyard_consumer_lag", "Records behind the end of the partition.", ["group", "pipeline", "topic", "partition"]
)
OLDEST_UNDELIVERED = Gauge(
    "switchyard_oldest_undelivered_seconds",
    "Age of the oldest event of the pipeline not yet delivered (waiting or in retry), per this worker.",
    ["pipeline"],
)
PENDING_RETRIES = Gauge("switchyard_pending_retries", "Retries held by this worker until due.")


class UndeliveredAges:
    """Oldest not-yet-delivered event per pipeline, reported by several places (delivery, retry)."""

    def __init__(self) -> None:
        self._oldest: dict[str, dict[str, float]] = {}

    def set(self, pipeline: str, source: str, timestamp_s: float | None) -> None:
        sources = self._oldest.setdefault(pipeline, {})
        if timestamp_s is None:
            sources.pop(source, None)
        else:
            sources[source] = timestamp_s

    def replace(self, source: str, oldest_by_pipeline: dict[str, float]) -> None:
        for pipeline, sources in self._oldest.items():
            if pipeline not in oldest_by_pipeline:
                sources.pop(source, None)
        for pipeline, timestamp_s in oldest_by_pipeline.items():
            self.set(pipeline, source, timestamp_s)

    def publish(self, now_s: float) -> dict[str, float]:
        ages = {p: max(0.0, now_s - min(s.values())) if s else 0.0 for p, s in self._oldest.items()}
        for pipeline, age in ages.items():
            OLDEST_UNDELIVERED.labels(pipeline).set(age)
        return ages


UNDELIVERED = UndeliveredAges()

_SNAPSHOT_METRICS = {
    "switchyard_events_total": "events",
    "switchyard_dlq_events_total": "dlq",
    "switchyard_consumer_lag": "lag",
    "switchyard_oldest_undelivered_seconds": "oldest_undelivered_s",
}


def pipeline_snapshot() -> dict[str, dict[str, Any]]:
    """Per pipeline, this worker's counters and gauges, for the status topic (the control plane's charts)."""
    out: dict[str, dict[str, Any]] = {}
    # Our own metrics only: other collectors in the process (e.g. Django's) are none of the worker's business.
    for metric in (m for source in (EVENTS, DLQ_EVENTS, CONSUMER_LAG, OLDEST_UNDELIVERED) for m in source.collect()):
        for sample in metric.samples:
            name = _SNAPSHOT_METRICS.get(sample.name)
            pipeline = sample.labels.get("pipeline")
            if name is None or not pipeline:
                continue
            entry = out.setdefault(pipeline, {"events": {}, "dlq": 0.0, "lag": 0.0, "oldest_undelivered_s": 0.0})
            if name == "events":
                key = f"{sample.labels['stage']}:{sample.labels['outcome']}"
                entry["events"][key] = entry["events"].get(key, 0.0) + sample.value
            elif name == "oldest_undelivered_s":
                entry[name] = max(entry[name], sample.value)
            else:
                entry[name] += sample.value
    return out
