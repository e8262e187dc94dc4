"""/metrics and /readyz of the control plane (/healthz is control.core.apis.healthz)."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from control.monitoring.metrics import DATABASE_REGISTRY

READY_TIMEOUT_S = 3.0


def metrics(request: HttpRequest) -> HttpResponse:
    body = generate_latest(REGISTRY) + generate_latest(DATABASE_REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except DatabaseError as exc:
        return f"unreachable: {exc}"


def _kafka() -> str:
    try:
        AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP, "log_level": 0}).list_topics(
            timeout=READY_TIMEOUT_S
        )
        return "ok"
    except Exception as exc:  # any failure to answer means "not ready", whatever librdkafka raises
        return f"unreachable: {exc}"


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready when the database and Kafka both answer; 503 says which one does not."""
    checks = {"database": _database(), "kafka": _kafka()}
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
