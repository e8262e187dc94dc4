"""JSON Schema validation shared by both planes: checked on save, compiled once per version on the worker.

Schemas are checked against their meta-schema with `jsonschema` (clear messages, used on save);
events are validated with `jsonschema-rs` (Rust), which took 1.7 µs instead of 156 µs per 1 KB event
in bench/transform.py, where validation was 85% of the transform's CPU (docs/performance.md).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import jsonschema_rs
from jsonschema import Draft7Validator, Draft201909Validator, Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator

from streams.exceptions import ValidationFailed

SUPPORTED_DRAFTS: dict[str, type[Validator]] = {
    "https://json-schema.org/draft/2020-12/schema": Draft202012Validator,
    "https://json-schema.org/draft/2019-09/schema": Draft201909Validator,
    "http://json-schema.org/draft-07/schema": Draft7Validator,
}
DEFAULT_DRAFT = Draft202012Validator


def validator_class(schema: Mapping[str, Any]) -> type[Validator]:
    """The draft named by `$schema` (2020-12 when absent); anything else is refused."""
    uri = str(schema.get("$schema", "")).rstrip("#")
    if not uri:
        return DEFAULT_DRAFT
    try:
        return SUPPORTED_DRAFTS[uri]
    except KeyError:
        raise ValueError(f"unsupported $schema {uri!r}; use draft 2020-12, 2019-09 or 7") from None


def schema_problems(schema: Any) -> list[str]:
    """Why `schema` is not a valid JSON Schema (checked against its meta-schema); empty when valid."""
    if not isinstance(schema, Mapping):
        return ["a JSON Schema must be a JSON object"]
    try:
        cls = validator_class(schema)
    except ValueError as exc:
        return [str(exc)]
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = "/" + "/".join(str(p) for p in exc.absolute_path) if exc.absolute_path else "(root)"
        return [f"{where}: {exc.message}"]
    return []


def json_pointer(path: Any) -> str:
    """RFC 6901 pointer for a jsonschema error path."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


_FAST = {
    Draft202012Validator: jsonschema_rs.Draft202012Validator,
    Draft201909Validator: jsonschema_rs.Draft201909Validator,
    Draft7Validator: jsonschema_rs.Draft7Validator,
}

EventValidator = Any  # a compiled jsonschema_rs validator


def validate(validator: EventValidator, document: Any, *, what: str = "event") -> None:
    """Raise ValidationFailed for the first (most relevant) error, with its JSON pointer."""
    if validator.is_valid(document):
        return
    errors = sorted(
        validator.iter_errors(document), key=lambda e: (len(e.instance_path), [str(p) for p in e.instance_path])
    )
    first = errors[0]
    pointer = json_pointer(first.instance_path)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise ValidationFailed(
        f"{what} does not match the schema at {pointer or '/'}: {first.message}{more}",
        error_type="SchemaViolation",
        pointer=pointer,
    )


class ValidatorCache:
    """Compiled validators keyed by (schema id, version): versions are immutable, so never stale."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int], EventValidator] = {}

    def get(self, schema_id: str, version: int, schema: Mapping[str, Any]) -> EventValidator:
        key = (schema_id, version)
        with self._lock:
            validator = self._cache.get(key)
            if validator is None:
                validator = self._cache[key] = _FAST[validator_class(schema)](dict(schema))
            return validator
