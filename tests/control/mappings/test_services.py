"""Mapping versions: numbered 1, 2, 3…, compiled with the workers' engine, run on their sample, audited."""

from __future__ import annotations

import pytest

from control.audit.models import AuditEvent
from control.core.exceptions import Conflict, InvalidExpression, ValidationError
from control.mappings import selectors, services
from control.mappings.models import Mapping

pytestmark = pytest.mark.django_db


def _mapping(team, **kwargs):  # type: ignore[no-untyped-def]
    return services.mapping_create(
        workspace=team.workspace, name="to-order", expression='{"order": id}', actor=team.editor, **kwargs
    )


def test_create_saves_version_1_and_audits_both(team) -> None:  # type: ignore[no-untyped-def]
    mapping = _mapping(team, sample_input={"id": "o-1"}, expected_output={"order": "o-1"})

    version = mapping.versions.get()
    assert (version.version, version.expression, version.created_by) == (1, '{"order": id}', team.editor)
    assert (version.sample_input, version.expected_output) == ({"id": "o-1"}, {"order": "o-1"})
    events = {e.action: e for e in AuditEvent.objects.filter(workspace=team.workspace)}
    assert set(events) == {"mapping.create", "mapping_version.create"}
    assert events["mapping_version.create"].object_id == str(version.pk)
    assert events["mapping_version.create"].actor == team.editor
    # The sample is not part of the audit record, only the number and the expression.
    assert events["mapping_version.create"].changes == {
        "version": {"before": None, "after": 1},
        "expression": {"before": None, "after": '{"order": id}'},
    }


def test_versions_count_up_and_are_listed_newest_first(team) -> None:  # type: ignore[no-untyped-def]
    mapping = _mapping(team)
    v2 = services.mapping_version_create(mapping=mapping, expression='{"o": id}', actor=team.editor)
    # Unlike schemas, the same expression again is a new version (its sample may differ).
    v3 = services.mapping_version_create(mapping=mapping, expression='{"o": id}', sample_input={"id": "x"})

    assert (v2.version, v3.version) == (2, 3)
    assert v3.created_by is None  # no authenticated actor: a system change
    assert [v.version for v in selectors.mapping_version_list(mapping=mapping)] == [3, 2, 1]
    assert selectors.mapping_version_get(mapping=mapping, version="2") == v2
    assert mapping.latest_version == v3


def test_an_expression_that_does_not_compile_is_refused(team) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidExpression) as exc:
        services.mapping_create(workspace=team.workspace, name="bad", expression='{"a": }', actor=team.editor)
    assert exc.value.message.startswith("the expression does not compile")
    assert set(exc.value.details) == {"expression", "jsonata"}
    assert not Mapping.objects.filter(name="bad").exists()

    mapping = _mapping(team)
    with pytest.raises(ValidationError) as empty:
        services.mapping_version_create(mapping=mapping, expression="  ", actor=team.editor)
    assert empty.value.details == {"expression": ["This field may not be blank."]}
    assert mapping.versions.count() == 1


def test_a_sample_that_does_not_match_is_refused(team) -> None:  # type: ignore[no-untyped-def]
    mapping = _mapping(team)
    with pytest.raises(ValidationError) as exc:
        services.mapping_version_create(
            mapping=mapping, expression='{"o": id}', sample_input={"id": "a"}, expected_output={"o": "b"}
        )
    assert "expected_output" in exc.value.details
    with pytest.raises(ValidationError) as missing:
        services.mapping_version_create(mapping=mapping, expression='{"o": id}', expected_output={"o": "b"})
    assert missing.value.details == {"sample_input": ["Required with expected_output."]}
    assert mapping.versions.count() == 1
    assert AuditEvent.objects.filter(action="mapping_version.create").count() == 1  # version 1's only


def test_a_duplicate_name_is_a_conflict(team) -> None:  # type: ignore[no-untyped-def]
    _mapping(team)
    with pytest.raises(Conflict) as exc:
        _mapping(team)
    assert exc.value.details == {"name": ["Already exists."]}
