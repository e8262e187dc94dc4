"""Strict JSON: what RFC 8259 allows and nothing more (Python's json module also takes NaN and Infinity)."""

from __future__ import annotations

import json
import math
from typing import Any


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is too large to represent")
    return value


def strict_loads(text: str | bytes) -> Any:
    """json.loads that refuses NaN, Infinity and numbers that overflow to infinity (ValueError)."""
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite)


def compact_dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
