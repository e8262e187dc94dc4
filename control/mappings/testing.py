"""Run a mapping on a sample event exactly as the worker does: validate input, transform, validate output."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from streams.exceptions import EventError
from streams.mapping import MappingCache, apply_mapping, check_expression
from streams.validation import ValidatorCache, validate

# Same caches as the worker keeps: compiled expressions per thread, validators per (schema, version).
_mappings = MappingCache()
_validators = ValidatorCache()


@dataclass(frozen=True)
class SchemaUse:
    """The schema version to check against (id and version key the validator cache, as on the worker)."""

    id: str
    version: int
    definition: dict[str, Any]


@dataclass(frozen=True)
class MappingTestResult:
    """`ok` with the output, or the stage that failed (compile, validate_input, transform, validate_output)."""

    ok: bool
    output: Any = None
    stage: str = ""
    code: str = ""
    message: str = ""
    pointer: str | None = None
    position: int | None = None
    matches_expected: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def mapping_run(
    *,
    expression: str,
    sample: Any,
    input_schema: SchemaUse | None = None,
    output_schema: SchemaUse | None = None,
    expected_output: Any = None,
) -> MappingTestResult:
    error = check_expression(expression)
    if error is not None:
        return MappingTestResult(
            ok=False, stage="compile", code=error.code or "JsonataError", message=error.message, position=error.position
        )
    stage = "validate_input"
    try:
        if input_schema is not None:
            validate(_validator(input_schema), sample, what="input")
        stage = "transform"
        output = json.loads(apply_mapping(_mappings, expression, json.dumps(sample)))
        stage = "validate_output"
        if output_schema is not None:
            validate(_validator(output_schema), output, what="output")
    except EventError as exc:
        return MappingTestResult(ok=False, stage=stage, code=exc.error_type, message=str(exc), pointer=exc.pointer)
    matches = None if expected_output is None else output == expected_output
    return MappingTestResult(ok=True, output=output, matches_expected=matches)


def _validator(schema: SchemaUse) -> Any:
    return _validators.get(schema.id, schema.version, schema.definition)
