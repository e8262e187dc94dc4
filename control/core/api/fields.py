from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field(OpenApiTypes.INT)
class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id that must name an object of the request's workspace; any other id "does not exist"."""

    def __init__(self, *, scope: Callable[[Any], Any], **kwargs: Any) -> None:
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        return self.scope(self.context["workspace"])


class NoInput(serializers.Serializer):
    """For actions that take no body (activate, pause, resume, ...)."""
