"""Logging for every control-plane process: JSON lines (python-json-logger) or text, per SWITCHYARD_LOG_FORMAT.

Each line carries the request's correlation id, and the event context (pipeline, topic, partition, offset) where
a command sets it with streams.observability.log_context, exactly as the worker's lines do.
"""

from __future__ import annotations

import logging
from typing import Any

from streams.observability import ContextFilter


class CorrelationFilter(ContextFilter):
    def filter(self, record: logging.LogRecord) -> bool:
        from control.core.correlation import _current

        super().filter(record)
        value = _current.get()
        if value and not hasattr(record, "correlation_id"):
            record.correlation_id = value
        return True


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
        if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "main", "filters": ["context"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "control.monitoring.logs.CorrelationFilter"}},
        "formatters": {"main": formatter},
        "handlers": {"console": handler},
        "loggers": {
            "switchyard": {"handlers": ["console"], "level": level, "propagate": False},
            "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
