"""The admin for a workspace editor: pages render, saves go through the services, other workspaces stay hidden."""

from __future__ import annotations

import pytest
from django.test import Client

from control.audit.models import AuditEvent
from control.mappings.services import mapping_create
from control.pipelines.models import Pipeline
from control.streams.models import Stream
from tests.control.conftest import World

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

MODELS = [
    "workspaces/workspace",
    "workspaces/membership",
    "eventstreams/stream",
    "eventstreams/ingestkey",
    "schemas/schema",
    "mappings/mapping",
    "destinations/destination",
    "pipelines/pipeline",
    "audit/auditevent",
]


@pytest.fixture
def editor_client(team) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(team.editor)
    return client


def test_main_pages_render_for_a_workspace_editor(world: World, editor_client: Client) -> None:
    assert editor_client.get("/admin/").status_code == 200
    objects = {
        "workspaces/workspace": world.workspace.pk,
        "eventstreams/stream": world.stream.pk,
        "eventstreams/ingestkey": world.ingest_key.pk,
        "schemas/schema": world.schema.pk,
        "mappings/mapping": world.mapping.pk,
        "destinations/destination": world.destination.pk,
        "pipelines/pipeline": world.pipeline.pk,
    }
    for model in MODELS:
        page = editor_client.get(f"/admin/{model}/")
        assert page.status_code == 200, model
        if model in objects:
            assert editor_client.get(f"/admin/{model}/{objects[model]}/change/").status_code == 200, model
    for model in (
        "eventstreams/stream",
        "schemas/schema",
        "mappings/mapping",
        "destinations/destination",
        "pipelines/pipeline",
    ):
        assert editor_client.get(f"/admin/{model}/add/").status_code == 200, model


def test_an_editor_sees_only_their_workspaces(world: World, editor_client: Client, team) -> None:  # type: ignore[no-untyped-def]
    from tests.control.factories import WorkspaceFactory

    hidden = mapping_create(workspace=WorkspaceFactory(slug="globex"), name="secret-sauce", expression="$")
    listing = editor_client.get("/admin/mappings/mapping/").content.decode()
    assert "to-order" in listing and "secret-sauce" not in listing
    assert editor_client.get(f"/admin/mappings/mapping/{hidden.pk}/change/").status_code in (302, 404)
    assert editor_client.get(f"/admin/mappings/mapping/{hidden.pk}/test/").status_code == 404


def test_a_viewer_reads_but_cannot_add(world: World, team) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(team.viewer)
    assert client.get("/admin/pipelines/pipeline/").status_code == 200
    assert client.get("/admin/pipelines/pipeline/add/").status_code == 403
    assert client.get("/admin/eventstreams/ingestkey/add/").status_code == 403
    stranger = Client()
    stranger.force_login(team.stranger)
    assert "orders-out" not in stranger.get("/admin/pipelines/pipeline/").content.decode()


def test_an_admin_save_goes_through_the_service_with_its_validation_and_audit(
    world: World, editor_client: Client, team
) -> None:  # type: ignore[no-untyped-def]
    bad = editor_client.post(
        "/admin/mappings/mapping/add/",
        {"workspace": world.workspace.pk, "name": "broken", "description": "", "expression": '{"a": '},
    )
    assert bad.status_code == 200  # the form again, with the engine's message on the field
    assert "does not compile" in bad.content.decode() or "S0" in bad.content.decode()

    good = editor_client.post(
        "/admin/eventstreams/stream/add/",
        {
            "workspace": world.workspace.pk,
            "name": "refunds",
            "partitions": 1,
            "retention_raw_days": 7,
            "retention_enriched_days": 7,
            "retention_retry_days": 7,
            "retention_dlq_days": 30,
            "description": "",
            "key_path": "id",
            "signature_type": "none",
            "signature_header": "X-Hub-Signature-256",
        },
    )
    assert good.status_code == 302, good.content.decode()[:3000]
    stream = Stream.objects.get(name="refunds")
    assert AuditEvent.objects.get(action="stream.create", object_id=str(stream.pk)).actor == team.editor


def test_the_mapping_test_form_shows_the_result_inline(world: World, editor_client: Client) -> None:
    url = f"/admin/mappings/mapping/{world.mapping.pk}/test/"
    assert editor_client.get(url).status_code == 200
    ok = editor_client.post(url, {"expression": '{"order": id}', "sample": '{"id": "o-7"}'}).content.decode()
    assert "mapping-test-result" in ok and "&quot;order&quot;: &quot;o-7&quot;" in ok
    failed = editor_client.post(
        url,
        {
            "expression": "$number(id)",
            "sample": '{"id": "x"}',
            "output_schema_version": world.out_schema.versions.get().pk,
        },
    ).content.decode()
    assert "Failed at transform" in failed and "D3030" in failed


def test_pipeline_actions_activate_pause_and_roll_back(world: World, editor_client: Client) -> None:
    def act(action: str) -> None:
        response = editor_client.post(
            "/admin/pipelines/pipeline/", {"action": action, "_selected_action": [world.pipeline.pk]}
        )
        assert response.status_code == 302

    act("activate")
    act("activate")
    act("pause")
    assert Pipeline.objects.get().state == "paused"
    act("rollback")
    pipeline = Pipeline.objects.get()
    assert pipeline.state == "active" and pipeline.current_revision.rolled_back_from == 1
    assert AuditEvent.objects.filter(action="pipeline.rollback").exists()


def test_the_audit_log_is_read_only(world: World, editor_client: Client) -> None:
    event = AuditEvent.objects.filter(workspace=world.workspace).first()
    page = editor_client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200 and 'type="submit"' not in page.content.decode().split('id="content-main"')[1]
    assert editor_client.get("/admin/audit/auditevent/add/").status_code == 403


def test_the_login_page_renders_for_an_anonymous_visitor(team) -> None:  # type: ignore[no-untyped-def]
    # The scoped admins are asked for their module permission before anyone has logged in.
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert b"Log in" in response.content
