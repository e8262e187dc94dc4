"""Each validation rule through the API: a bad input, its status, code and field-level message (one error shape)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.control.conftest import World

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

W = "/api/v1/workspaces/acme"


def _schema_v2(required: list[str]) -> dict[str, Any]:
    return {"definition": {"type": "object", "properties": {"id": {"type": "string"}}, "required": required}}


CASES: dict[str, tuple[str, Any, int, str, str, str]] = {
    # name: (path, body, status, code, field, words in the field's message)
    "stream-bad-name": (W + "/streams/", {"name": "Big Orders"}, 400, "invalid", "name", "lowercase"),
    "stream-missing-name": (W + "/streams/", {}, 400, "invalid", "name", "This field is required."),
    "stream-duplicate": (W + "/streams/", {"name": "orders"}, 409, "conflict", "name", "Already exists."),
    "stream-dlq-shorter": (
        W + "/streams/",
        {"name": "x", "retention_dlq_days": 1},
        400,
        "invalid",
        "retention_dlq_days",
        "at least 7",
    ),
    "schema-not-a-schema": (
        W + "/schemas/",
        {"name": "s", "definition": {"type": "nonsense"}},
        400,
        "invalid",
        "definition",
        "/type",
    ),
    "schema-unknown-draft": (
        W + "/schemas/",
        {"name": "s", "definition": {"$schema": "http://json-schema.org/draft-04/schema#"}},
        400,
        "invalid",
        "definition",
        "unsupported $schema",
    ),
    "schema-incompatible": (
        W + "/schemas/{schema}/versions/",
        _schema_v2(["id", "total"]),
        400,
        "incompatible_schema",
        "definition",
        "new required property 'total'",
    ),
    "mapping-syntax": (
        W + "/mappings/",
        {"name": "m", "expression": '{"a": '},
        400,
        "invalid_expression",
        "expression",
        "S0",
    ),
    "mapping-sample-mismatch": (
        W + "/mappings/",
        {"name": "m", "expression": "id", "sample_input": {"id": 1}, "expected_output": 2},
        400,
        "invalid",
        "expected_output",
        "produces 1",
    ),
    "destination-loopback": (
        W + "/destinations/",
        {"name": "d", "url": "http://10.1.2.3/hook"},
        400,
        "invalid",
        "url",
        "private",
    ),
    "destination-link-local": (
        W + "/destinations/",
        {"name": "d", "url": "http://169.254.169.254/latest"},
        400,
        "invalid",
        "url",
        "link-local",
    ),
    "destination-scheme": (
        W + "/destinations/",
        {"name": "d", "url": "ftp://example.com/x"},
        400,
        "invalid",
        "url",
        "https://",
    ),
    "destination-bearer-without-token": (
        W + "/destinations/",
        {"name": "d", "url": "https://example.com", "auth_type": "bearer"},
        400,
        "invalid",
        "auth_secret",
        "Required for bearer",
    ),
    "destination-reserved-header": (
        W + "/destinations/",
        {"name": "d", "url": "https://example.com", "headers": {"Authorization": "x"}},
        400,
        "invalid",
        "headers",
        "Remove Authorization",
    ),
    "destination-retry-schedule": (
        W + "/destinations/",
        {"name": "d", "url": "https://example.com", "retry_schedule_s": [5, -1]},
        400,
        "invalid",
        "retry_schedule_s",
        "[5, 30, 120]",
    ),
    "pipeline-foreign-stream": (
        W + "/pipelines/",
        {"name": "p", "source": 999999, "target": 999999, "mapping_version": 999999},
        400,
        "invalid",
        "source",
        "does not exist",
    ),
    "rollback-unknown-revision": (
        W + "/pipelines/{pipeline}/rollback/",
        {"revision": 7},
        400,
        "invalid",
        "revision",
        "Not found.",
    ),
    "pause-a-draft": (W + "/pipelines/{pipeline}/pause/", {}, 409, "conflict", "state", "draft"),
    "last-owner": (W + "/members/{owner_membership}/", {"role": "viewer"}, 400, "invalid", "role", "last owner"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_with_a_field_message(name: str, world: World, team, client_for) -> None:  # type: ignore[no-untyped-def]
    path, body, status, code, field_name, words = CASES[name]
    path = path.format(
        schema=world.schema.pk,
        pipeline=world.pipeline.pk,
        owner_membership=world.workspace.memberships.get(role="owner").pk,
    )
    method = "patch" if name == "last-owner" else "post"
    response = getattr(client_for(team.owner), method)(path, body, format="json")
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    messages = error["details"][field_name]
    assert any(words in str(m) for m in (messages if isinstance(messages, list) else [messages])), error
    assert error["message"]


def test_the_jsonata_error_carries_code_and_position(world: World, team, client_for) -> None:  # type: ignore[no-untyped-def]
    response = client_for(team.editor).post(W + "/mappings/", {"name": "m", "expression": '{"a": 1,, }'}, format="json")
    jsonata = response.json()["error"]["details"]["jsonata"]
    assert jsonata["code"].startswith("S0") and jsonata["message"]
    assert "position" in jsonata


def test_unknown_fields_in_an_update_cannot_sneak_in(world: World, team, client_for) -> None:  # type: ignore[no-untyped-def]
    response = client_for(team.editor).patch(
        W + f"/streams/{world.stream.pk}/", {"partitions": 12, "description": "d"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["partitions"] == 2  # partitions are fixed once the topics exist; the field is ignored
