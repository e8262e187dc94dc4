"""The mapping test endpoint (the workers' code on a sample) and write-only, masked secrets."""

from __future__ import annotations

import json

import pytest

from control.audit.models import AuditEvent
from control.pipelines.services import pipeline_activate
from tests.control.conftest import World

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

W = "/api/v1/workspaces/acme"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"sample": {"id": "o-1"}}, {"ok": True, "output": {"order": "o-1"}, "matches_expected": True}),
        ({"sample": {"id": "o-2"}}, {"ok": True, "matches_expected": False}),  # version 1's expected output
        ({"sample": {"id": 5}, "pipeline": "P"}, {"ok": False, "stage": "validate_input", "pointer": "/id"}),
        (
            {"sample": {"id": "o-1"}, "expression": '{"x": id}', "pipeline": "P"},
            {"ok": False, "stage": "validate_output", "code": "SchemaViolation"},
        ),
        ({"sample": {"id": "o-1"}, "expression": "$number(id)"}, {"ok": False, "stage": "transform", "code": "D3030"}),
        (
            {"sample": {"id": "o-1"}, "expression": "nothing"},
            {"ok": False, "stage": "transform", "code": "EmptyResult"},
        ),
        ({"sample": {}, "expression": '{"a": '}, {"ok": False, "stage": "compile"}),
    ],
)
def test_a_saved_mapping_runs_on_a_sample_like_the_worker(world: World, team, client_for, body, expected) -> None:  # type: ignore[no-untyped-def]
    body = {k: (world.pipeline.pk if v == "P" else v) for k, v in body.items()}
    response = client_for(team.editor).post(W + f"/mappings/{world.mapping.pk}/test/", body, format="json")
    assert response.status_code == 200, response.content
    result = response.json()
    assert {k: result[k] for k in expected} == expected, result
    if not result["ok"]:
        assert result["message"]


def test_an_unsaved_expression_can_be_tested_against_chosen_schemas(world: World, team, client_for) -> None:  # type: ignore[no-untyped-def]
    body = {
        "expression": '{"order": $string(id)}',
        "sample": {"id": "o-9"},
        "input_schema_version": world.schema.versions.get().pk,
        "output_schema_version": world.out_schema.versions.get().pk,
        "expected_output": {"order": "o-9"},
    }
    result = client_for(team.editor).post(W + "/mappings/test/", body, format="json").json()
    assert result["ok"] and result["output"] == {"order": "o-9"} and result["matches_expected"]


def test_secrets_are_write_only_masked_in_the_spec_and_never_in_the_audit_log(world: World, team, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(team.editor)
    response = client.patch(
        W + f"/destinations/{world.destination.pk}/",
        {"auth_secret": "new-token-value", "signing_secret": "whsec_bmV3LXNpZ25pbmctc2VjcmV0"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["auth_secret_set"] and body["signing_secret_set"]
    assert "new-token-value" not in response.content.decode()
    assert not {"auth_secret", "auth_secret_enc", "signing_secret", "signing_secret_enc"} & set(body)

    world.destination.refresh_from_db()
    assert world.destination.auth_secret_enc and "new-token-value" not in world.destination.auth_secret_enc

    pipeline_activate(pipeline=world.pipeline)
    spec = client.get(W + f"/pipelines/{world.pipeline.pk}/spec/").json()
    assert spec["destinations"][0]["auth_secret_enc"] == "********"
    assert spec["destinations"][0]["signing_secret_enc"] == "********"
    assert spec["revision"] == 1 and spec["mapping"] == '{"order": id}'

    logged = json.dumps(list(AuditEvent.objects.values_list("changes", flat=True)))
    assert "new-token-value" not in logged and "s3cret-token" not in logged
    assert world.destination.auth_secret_enc not in logged
    update = AuditEvent.objects.get(action="destination.update")
    assert update.changes["auth_secret_enc"] == {"before": "********", "after": "******** (replaced)"}


def test_an_ingest_key_is_shown_once(world: World, team, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(team.owner)
    created = client.post(W + "/ingest-keys/", {"name": "ci"}, format="json").json()
    assert created["key"].startswith("syk_") and created["key"].startswith(created["prefix"])
    again = client.get(W + f"/ingest-keys/{created['id']}/").json()
    assert "key" not in again
    assert created["key"] not in json.dumps(list(AuditEvent.objects.values_list("changes", flat=True)))
