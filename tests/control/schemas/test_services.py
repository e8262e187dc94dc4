"""Schema versions: numbered 1, 2, 3…, checked against the meta-schema and the compatibility mode, audited."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from control.audit.models import AuditEvent
from control.core.exceptions import Conflict, IncompatibleSchema, ValidationError
from control.schemas import selectors, services
from control.schemas.models import Schema, SchemaVersion

pytestmark = pytest.mark.django_db

V1 = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
V2 = {"type": "object", "properties": {"id": {"type": "string"}, "note": {"type": "string"}}, "required": ["id"]}
# Requiring a field the old data may lack breaks BACKWARD (the new schema must read old data).
BREAKS_BACKWARD = {**V2, "required": ["id", "note"]}


def _schema(team, **kwargs):  # type: ignore[no-untyped-def]
    return services.schema_create(workspace=team.workspace, name="order", definition=V1, actor=team.editor, **kwargs)


def test_create_saves_version_1_and_audits_both(team) -> None:  # type: ignore[no-untyped-def]
    schema = _schema(team, description="orders")

    version = schema.versions.get()
    assert (version.version, version.definition, version.created_by) == (1, V1, team.editor)
    events = {e.action: e for e in AuditEvent.objects.filter(workspace=team.workspace)}
    assert set(events) == {"schema.create", "schema_version.create"}
    assert events["schema.create"].changes["compatibility"] == {"before": None, "after": "BACKWARD"}
    assert events["schema_version.create"].object_id == str(version.pk)
    assert events["schema_version.create"].actor == team.editor
    assert events["schema_version.create"].changes == {
        "version": {"before": None, "after": 1},
        "definition": {"before": None, "after": V1},
    }


def test_versions_count_up_and_are_listed_newest_first(team) -> None:  # type: ignore[no-untyped-def]
    schema = _schema(team)
    v2 = services.schema_version_create(schema=schema, definition=V2, actor=team.editor)
    v3 = services.schema_version_create(schema=schema, definition={**V2, "description": "x"}, actor=None)

    assert (v2.version, v3.version) == (2, 3)
    assert v3.created_by is None  # no authenticated actor: a system change
    assert [v.version for v in selectors.schema_version_list(schema=schema)] == [3, 2, 1]
    assert selectors.schema_version_get(schema=schema, version="2") == v2
    assert schema.latest_version == v3


def test_a_new_version_locks_the_schema_row(team) -> None:  # type: ignore[no-untyped-def]
    # The lock is control.core.versioning's, which mappings share; tested once, here.
    schema = _schema(team)
    with CaptureQueriesContext(connection) as queries:
        services.schema_version_create(schema=schema, definition=V2, actor=team.editor)
    lock = [q["sql"] for q in queries if "schemas_schema" in q["sql"] and "schemas_schemaversion" not in q["sql"]]
    # SQLite has no SELECT … FOR UPDATE (its writes are serialised); the query is issued all the same.
    assert lock, "the schema row is read (and locked) before the next number is taken"
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in lock[0]


def test_an_unchanged_definition_is_a_conflict(team) -> None:  # type: ignore[no-untyped-def]
    schema = _schema(team)
    with pytest.raises(Conflict) as exc:
        services.schema_version_create(schema=schema, definition=V1, actor=team.editor)
    assert exc.value.message == "this definition is already version 1"
    assert exc.value.details == {"definition": ["Unchanged."]}
    assert schema.versions.count() == 1


def test_a_breaking_version_is_refused_with_its_problems(team) -> None:  # type: ignore[no-untyped-def]
    schema = _schema(team)
    with pytest.raises(IncompatibleSchema) as exc:
        services.schema_version_create(schema=schema, definition=BREAKS_BACKWARD, actor=team.editor)
    assert exc.value.message.startswith("version 2 breaks BACKWARD compatibility: ")
    assert exc.value.details["problems"] and exc.value.details["definition"]
    assert schema.versions.count() == 1
    assert AuditEvent.objects.filter(action="schema_version.create").count() == 1  # version 1's only


def test_mode_none_accepts_a_breaking_version(team) -> None:  # type: ignore[no-untyped-def]
    schema = _schema(team, compatibility="NONE")
    assert services.schema_version_create(schema=schema, definition=BREAKS_BACKWARD, actor=team.editor).version == 2


def test_an_invalid_definition_is_refused_and_nothing_is_saved(team) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as exc:
        services.schema_create(workspace=team.workspace, name="bad", definition={"type": 5}, actor=team.editor)
    assert exc.value.message.startswith("not a valid JSON Schema: ")
    assert "definition" in exc.value.details
    assert not Schema.objects.filter(name="bad").exists()

    schema = _schema(team)
    with pytest.raises(ValidationError):
        services.schema_version_create(schema=schema, definition={"type": 5}, actor=team.editor)
    assert SchemaVersion.objects.filter(schema=schema).count() == 1


def test_a_duplicate_name_is_a_conflict(team) -> None:  # type: ignore[no-untyped-def]
    _schema(team)
    with pytest.raises(Conflict) as exc:
        _schema(team)
    assert exc.value.details == {"name": ["Already exists."]}
