"""The correlation id of the current unit of work (a request, a management command), for logs and audit events."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_current: ContextVar[str | None] = ContextVar("switchyard_correlation_id", default=None)
# What we accept from a caller: enough to be useful, nothing that could smuggle a header or a log line.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
HEADERS = ("HTTP_X_CORRELATION_ID", "HTTP_X_REQUEST_ID")


def correlation_id() -> str:
    """The current id; outside a request (management commands, the relay) one is made on first use."""
    value = _current.get()
    if value is None:
        value = uuid.uuid4().hex
        _current.set(value)
    return value


def correlation_id_set(value: str | None) -> None:
    _current.set(value)


class CorrelationIdMiddleware:
    """Takes X-Correlation-ID (or X-Request-ID) from the caller or makes one, and echoes it on the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = next((request.META[h] for h in HEADERS if h in request.META), "")
        token = _current.set(given if _ACCEPTABLE.fullmatch(given) else uuid.uuid4().hex)
        try:
            response = self.get_response(request)
            response["X-Correlation-ID"] = correlation_id()
            return response
        finally:
            _current.reset(token)
