"""Readiness of a control-plane process: can it reach its database and Kafka?

Shared by the Django /readyz view and the probe server of the long-running commands, so both answer the same.
"""

from __future__ import annotations

from confluent_kafka.admin import AdminClient
from django.conf import settings
from django.db import DatabaseError, connection

READY_TIMEOUT_S = 3.0


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


def readiness_checks() -> dict[str, str]:
    """Each dependency's state: "ok", or "unreachable: <why>"."""
    return {"database": _database(), "kafka": _kafka()}


def is_ready(checks: dict[str, str]) -> bool:
    return all(value == "ok" for value in checks.values())
