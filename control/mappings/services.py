"""Writes for mappings: every version compiles with the workers' engine, and matches its sample if it has one."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from control.audit.services import audit_record, snapshot
from control.core.exceptions import Conflict, InvalidExpression, ValidationError
from control.core.services import model_assign
from control.core.validation import full_clean
from control.core.versioning import version_create
from control.mappings.models import Mapping, MappingVersion
from control.mappings.testing import mapping_run
from control.workspaces.models import Workspace
from streams.mapping import check_expression

MAPPING_FIELDS = ("name", "description")


def expression_check(expression: str) -> None:
    """Refuse an expression that does not compile, with the engine's code, message and position."""
    if not expression or not expression.strip():
        raise ValidationError("the expression is empty", details={"expression": ["This field may not be blank."]})
    error = check_expression(expression)
    if error is not None:
        where = f" at position {error.position}" if error.position is not None else ""
        raise InvalidExpression(
            f"the expression does not compile{where}: {error.message}",
            details={
                "expression": [f"{error.code or 'error'}: {error.message}"],
                "jsonata": {"code": error.code, "message": error.message, "position": error.position},
            },
        )


def _check_sample(expression: str, sample_input: Any, expected_output: Any) -> None:
    if expected_output is not None and sample_input is None:
        raise ValidationError(
            "an expected output needs a sample input", details={"sample_input": ["Required with expected_output."]}
        )
    if sample_input is None:
        return
    result = mapping_run(expression=expression, sample=sample_input, expected_output=expected_output)
    if not result.ok:
        raise ValidationError(
            f"the expression fails on the sample input: {result.message}",
            details={"sample_input": [f"{result.code}: {result.message}"]},
        )
    if result.matches_expected is False:
        raise ValidationError(
            "the expression's output for the sample input differs from the expected output",
            details={"expected_output": [f"The expression produces {result.output!r}."]},
        )


def mapping_create(
    *,
    workspace: Workspace,
    name: str,
    expression: str,
    actor: Any = None,
    description: str = "",
    sample_input: Any = None,
    expected_output: Any = None,
) -> Mapping:
    """Create the mapping with its version 1."""
    if Mapping.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict(f"mapping {name!r} already exists in {workspace.slug}", details={"name": ["Already exists."]})
    mapping = Mapping(workspace=workspace, name=name, description=description)
    full_clean(mapping, exclude=["workspace"])
    expression_check(expression)  # before anything is written (mapping_version_create checks it again)
    with transaction.atomic():
        mapping.save()
        audit_record(
            actor=actor,
            workspace=workspace,
            action="mapping.create",
            obj=mapping,
            after=snapshot(mapping, MAPPING_FIELDS),
        )
        mapping_version_create(
            mapping=mapping,
            expression=expression,
            sample_input=sample_input,
            expected_output=expected_output,
            actor=actor,
        )
    return mapping


def mapping_version_create(
    *, mapping: Mapping, expression: str, actor: Any = None, sample_input: Any = None, expected_output: Any = None
) -> MappingVersion:
    """The next version: it compiles, and gives the expected output for its sample if it has one."""
    # Nothing here depends on the versions before, so it runs before the mapping row is locked.
    expression_check(expression)
    _check_sample(expression, sample_input, expected_output)
    return version_create(
        parent=mapping,
        build=lambda _latest: MappingVersion(
            mapping=mapping, expression=expression, sample_input=sample_input, expected_output=expected_output
        ),
        action="mapping_version.create",
        audit_fields=("expression",),
        actor=actor,
    )


def mapping_update(*, mapping: Mapping, actor: Any, data: dict[str, Any]) -> Mapping:
    before = snapshot(mapping, MAPPING_FIELDS)
    model_assign(instance=mapping, fields=("description",), data=data)
    full_clean(mapping, exclude=["workspace"])
    with transaction.atomic():
        mapping.save()
        audit_record(
            actor=actor,
            workspace=mapping.workspace,
            action="mapping.update",
            obj=mapping,
            before=before,
            after=snapshot(mapping, MAPPING_FIELDS),
        )
    return mapping
