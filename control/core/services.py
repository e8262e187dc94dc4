"""Helpers shared by the services of every app."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models

from control.core.exceptions import ValidationError

M = TypeVar("M", bound=models.Model)


def model_assign(*, instance: M, fields: Iterable[str], data: dict[str, Any]) -> list[str]:
    """Set the allowed fields present in `data` (HackSoft's model_update, without the save); returns the changed ones.

    A key outside `fields` is refused, so a caller cannot change what the service does not allow.
    """
    allowed = set(fields)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(
            f"cannot change {', '.join(unknown)} here",
            details={name: ["This field cannot be changed."] for name in unknown},
        )
    changed = []
    for name, value in data.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed
