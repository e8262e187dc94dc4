"""Schema evolution rules for JSON Schema, in the spirit of Confluent Schema Registry (pure functions).

The question is always: can a *reader* schema accept every document a *writer* schema accepts?
BACKWARD: reader = new version, writer = previous (consumers upgraded first read old data).
FORWARD: reader = previous, writer = new (old consumers read new data). FULL: both. NONE: nothing checked.
The rules cover what teams change in practice: object properties (required, removed, closed), types, enums,
const and array items, recursively. A schema the rules cannot reason about (e.g. $ref, oneOf) is compared as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from control.schemas.choices import Compatibility


@dataclass(frozen=True)
class Problem:
    """One way the new version breaks the mode: a stable code, the JSON pointer where, and what to fix."""

    code: str
    pointer: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "pointer": self.pointer or "/", "message": self.message}


ALL_TYPES = frozenset({"null", "boolean", "object", "array", "number", "string", "integer"})


def _types(schema: dict[str, Any]) -> frozenset[str]:
    declared = schema.get("type")
    if declared is None:
        return ALL_TYPES
    types = frozenset([declared] if isinstance(declared, str) else declared)
    # Every integer is a number: a reader accepting "number" accepts a writer's "integer".
    return types | {"integer"} if "number" in types else types


def _closed(schema: dict[str, Any]) -> bool:
    return schema.get("additionalProperties") is False or schema.get("unevaluatedProperties") is False


def _check(reader: Any, writer: Any, pointer: str, direction: str, problems: list[Problem]) -> None:
    if not isinstance(reader, dict) or not isinstance(writer, dict):
        if reader is False and writer is not False:
            problems.append(Problem("type_narrowed", pointer, f"{pointer or '/'}: no value is accepted any more"))
        return
    new_is_reader = direction == "backward"

    lost = sorted(_types(writer) - _types(reader))
    if lost:
        if new_is_reader:
            code, text = "type_narrowed", f"type narrowed from {_type_text(writer)} to {_type_text(reader)}"
        else:
            code, text = "type_widened", f"type widened from {_type_text(reader)} to {_type_text(writer)}"
        problems.append(
            Problem(
                code,
                pointer,
                f"{pointer or '/'}: {text} ({', '.join(lost)} not accepted by the "
                f"{'new' if new_is_reader else 'previous'} version)",
            )
        )

    if "enum" in reader:
        writer_values = writer.get("enum") if "enum" in writer else ([writer["const"]] if "const" in writer else None)
        if writer_values is None:
            problems.append(Problem("enum_narrowed", pointer, f"{pointer or '/'}: an enum now limits a free value"))
        else:
            missing = [v for v in writer_values if v not in reader["enum"]]
            if missing:
                problems.append(
                    Problem("enum_narrowed", pointer, f"{pointer or '/'}: enum narrowed, {missing!r} no longer allowed")
                )
    if (
        "const" in reader
        and writer.get("const", object()) != reader["const"]
        and writer.get("enum") != [reader["const"]]
    ):
        problems.append(
            Problem("enum_narrowed", pointer, f"{pointer or '/'}: const {reader['const']!r} added or changed")
        )

    reader_required = set(reader.get("required", []))
    writer_required = set(writer.get("required", []))
    for name in sorted(reader_required - writer_required):
        message = (
            f"new required property '{name}' (data written with the previous version may lack it)"
            if new_is_reader
            else f"property '{name}' is no longer required (consumers of the previous version need it)"
        )
        problems.append(
            Problem("required_added" if new_is_reader else "required_removed", pointer, f"{pointer or '/'}: {message}")
        )

    reader_props: dict[str, Any] = reader.get("properties", {})
    writer_props: dict[str, Any] = writer.get("properties", {})
    if _closed(reader):
        for name in sorted(set(writer_props) - set(reader_props)):
            if new_is_reader:
                code, text = "property_removed", f"property '{name}' removed while the new version allows no others"
            else:
                code, text = "property_added", f"property '{name}' added but the previous version allows no others"
            problems.append(Problem(code, f"{pointer}/properties/{name}", f"{pointer or '/'}: {text}"))
        if not _closed(writer):
            problems.append(
                Problem(
                    "additional_properties_closed",
                    pointer,
                    f"{pointer or '/'}: additional properties no longer allowed",
                )
            )
    for name in sorted(set(reader_props) & set(writer_props)):
        _check(reader_props[name], writer_props[name], f"{pointer}/properties/{name}", direction, problems)
    if isinstance(reader.get("items"), dict) and isinstance(writer.get("items"), dict):
        _check(reader["items"], writer["items"], f"{pointer}/items", direction, problems)


def _type_text(schema: dict[str, Any]) -> str:
    declared = schema.get("type", "any")
    return declared if isinstance(declared, str) else "|".join(declared)


def compatibility_problems(*, previous: dict[str, Any], new: dict[str, Any], mode: str) -> list[Problem]:
    """Why `new` cannot follow `previous` under `mode`; empty when it can."""
    problems: list[Problem] = []
    if mode in (Compatibility.BACKWARD, Compatibility.FULL):
        _check(new, previous, "", "backward", problems)
    if mode in (Compatibility.FORWARD, Compatibility.FULL):
        _check(previous, new, "", "forward", problems)
    return problems
