"""/metrics and /readyz of the control plane (/healthz is control.core.apis.healthz)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from control.core.readiness import is_ready, readiness_checks
from control.monitoring.metrics import DATABASE_REGISTRY
from streams.observability import METRICS_UNAUTHORIZED, metrics_allowed


def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request.headers.get("Authorization"), settings.METRICS_TOKEN):
        response = JsonResponse(METRICS_UNAUTHORIZED, status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    body = generate_latest(REGISTRY) + generate_latest(DATABASE_REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready when the database and Kafka both answer; 503 says which one does not."""
    checks = readiness_checks()
    ready = is_ready(checks)
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
