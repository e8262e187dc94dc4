"""Who is platform staff: the one definition both the API and the admin use."""

from __future__ import annotations

from typing import Any


def is_platform_staff(user: Any) -> bool:
    """Staff see and change everything, in every workspace."""
    return bool(user and user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))
