"""Model validation turned into the control plane's ValidationError (field -> messages)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models

from control.core.exceptions import ValidationError


def full_clean(obj: models.Model, *, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except DjangoValidationError as exc:
        details = exc.message_dict
        message = "; ".join(f"{k}: {' '.join(v)}" for k, v in details.items())
        raise ValidationError(message, details=details) from exc
