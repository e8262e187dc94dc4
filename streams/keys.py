"""The Kafka key of an event: the value at a stream's key path, so one entity's events stay in order."""

from __future__ import annotations

import json
from typing import Any


def extract_key(document: Any, path: str | None) -> bytes | None:
    """The value at dotted `path` (a leading "$." is allowed) as bytes, or None when absent."""
    if not path:
        return None
    value = document
    for part in path.removeprefix("$.").split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
