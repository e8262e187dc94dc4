"""The one error shape of the API: {"error": {"code", "message", "details"}}, for every error the API returns."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from control.core.exceptions import ApplicationError


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _flatten(detail: Any) -> Any:
    """DRF's ErrorDetail trees as plain strings (same structure: field -> [messages], nested for nested fields)."""
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def _first_message(details: Any, prefix: str = "") -> str:
    if isinstance(details, dict):
        for key, value in details.items():
            label = "" if key == "non_field_errors" else f"{prefix}{key}"
            return _first_message(value, f"{label}." if label else "")
    if isinstance(details, list) and details:
        return _first_message(details[0], prefix)
    return f"{prefix.rstrip('.')}: {details}" if prefix else str(details)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)  # keeps DRF's headers (WWW-Authenticate, Retry-After)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten(exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail})
        response.data = error_body("invalid", _first_message(details) or "The input is not valid.", details)
        return response
    detail = exc.detail
    if isinstance(detail, dict) and "detail" in detail:  # simplejwt: {"detail", "code", "messages"}
        code = str(detail.get("code") or exc.default_code)
        message = str(detail["detail"])
        details = _flatten({k: v for k, v in detail.items() if k not in ("detail", "code")})
    else:
        code = detail.code if hasattr(detail, "code") and detail.code else exc.default_code
        message, details = str(detail), {}
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and getattr(exc, "wait", None) is not None:
        details = {"retry_after_s": int(exc.wait)}  # type: ignore[attr-defined]
    response.data = error_body(str(code), message, details)
    return response
