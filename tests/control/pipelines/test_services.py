"""Pipelines: drafts publish nothing; activation, pause, resume, rollback and archive publish the right spec."""

from __future__ import annotations

import pytest

from control.audit.models import AuditEvent
from control.core.exceptions import Conflict, ValidationError
from control.destinations.services import destination_update
from control.mappings.services import mapping_create, mapping_version_create
from control.pipelines import services
from control.pipelines.models import PipelineRevision
from control.pipelines.specs import spec_masked
from streams.secrets import decrypt
from streams.spec import PipelineSpec, parse_spec
from tests.control.conftest import latest_config

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _spec(bootstrap: str, env: str, pipeline) -> PipelineSpec:  # type: ignore[no-untyped-def]
    value = latest_config(bootstrap, env)[f"pipeline:{pipeline.pk}"]
    assert value is not None
    spec = parse_spec(value)
    assert isinstance(spec, PipelineSpec)
    return spec


def test_a_draft_publishes_nothing(world, publish, kafka_bootstrap, platform_env) -> None:  # type: ignore[no-untyped-def]
    publish()
    assert f"pipeline:{world.pipeline.pk}" not in latest_config(kafka_bootstrap, platform_env)
    assert world.pipeline.state == "draft"


def test_activation_publishes_the_compiled_spec_with_encrypted_secrets(
    world, publish, kafka_bootstrap, platform_env, team
) -> None:  # type: ignore[no-untyped-def]
    revision = services.pipeline_activate(pipeline=world.pipeline, actor=team.editor)
    publish()

    spec = _spec(kafka_bootstrap, platform_env, world.pipeline)
    assert (spec.revision, spec.state, spec.mapping, spec.mapping_version) == (1, "active", '{"order": id}', 1)
    assert spec.source_topic == f"{platform_env}.acme.orders.raw"
    assert spec.target_topic == f"{platform_env}.acme.orders.enriched"
    assert spec.target_key_path == "id"
    assert spec.input_schema is not None and spec.input_schema.schema["required"] == ["id"]
    assert spec.output_schema is not None and spec.output_schema.version == 1
    assert spec.start_at_ms is not None
    (destination,) = spec.destinations
    assert destination.id == str(world.destination.pk) and destination.auth_type == "bearer"
    assert "s3cret" not in destination.auth_secret_enc
    assert decrypt(destination.auth_secret_enc) == "s3cret-token"
    assert decrypt(destination.signing_secret_enc).startswith("whsec_")
    masked = spec_masked(revision.spec)["destinations"][0]
    assert masked["auth_secret_enc"] == masked["signing_secret_enc"] == "********"


def test_editing_an_active_pipeline_changes_nothing_until_the_next_activation(
    world, publish, kafka_bootstrap, platform_env
) -> None:  # type: ignore[no-untyped-def]
    services.pipeline_activate(pipeline=world.pipeline)
    version = mapping_version_create(mapping=world.mapping, expression='{"order": id, "v": 2}')
    services.pipeline_update(pipeline=world.pipeline, actor=None, data={"mapping_version": version})
    publish()
    assert _spec(kafka_bootstrap, platform_env, world.pipeline).mapping == '{"order": id}'

    services.pipeline_activate(pipeline=world.pipeline)
    publish()
    spec = _spec(kafka_bootstrap, platform_env, world.pipeline)
    assert (spec.revision, spec.mapping, spec.mapping_version) == (2, '{"order": id, "v": 2}', 2)


def test_pause_and_resume_keep_the_revision_and_change_the_state(world, publish, kafka_bootstrap, platform_env) -> None:  # type: ignore[no-untyped-def]
    services.pipeline_activate(pipeline=world.pipeline)
    services.pipeline_pause(pipeline=world.pipeline)
    publish()
    paused = _spec(kafka_bootstrap, platform_env, world.pipeline)
    assert (paused.revision, paused.state) == (1, "paused")

    services.pipeline_resume(pipeline=world.pipeline)
    publish()
    assert _spec(kafka_bootstrap, platform_env, world.pipeline).state == "active"
    with pytest.raises(Conflict, match="only a paused pipeline can be resumed"):
        services.pipeline_resume(pipeline=world.pipeline)
    assert PipelineRevision.objects.filter(pipeline=world.pipeline).count() == 1


def test_rollback_republishes_the_earlier_spec_exactly_under_a_new_revision(
    world, publish, kafka_bootstrap, platform_env
) -> None:  # type: ignore[no-untyped-def]
    first = services.pipeline_activate(pipeline=world.pipeline)
    destination_update(destination=world.destination, actor=None, data={"url": "https://example.org/new"})
    services.pipeline_mapping_change(pipeline=world.pipeline, expression='{"order": id, "v": 2}')

    third = services.pipeline_rollback(pipeline=world.pipeline, revision=1)
    publish()

    spec = _spec(kafka_bootstrap, platform_env, world.pipeline)
    assert (third.number, third.rolled_back_from, spec.revision) == (3, 1, 3)
    assert spec.mapping == '{"order": id}'
    assert spec.destinations[0].url == "https://example.com/hook"  # the URL as it was at revision 1
    world.pipeline.refresh_from_db()
    assert world.pipeline.mapping_version_id == first.mapping_version_id
    with pytest.raises(ValidationError, match="has no revision 9"):
        services.pipeline_rollback(pipeline=world.pipeline, revision=9)


def test_archive_publishes_a_tombstone(world, publish, kafka_bootstrap, platform_env) -> None:  # type: ignore[no-untyped-def]
    services.pipeline_activate(pipeline=world.pipeline)
    services.pipeline_archive(pipeline=world.pipeline)
    publish()
    assert latest_config(kafka_bootstrap, platform_env)[f"pipeline:{world.pipeline.pk}"] is None
    with pytest.raises(Conflict, match="archived"):
        services.pipeline_activate(pipeline=world.pipeline)


def test_objects_of_another_workspace_are_refused(world, platform_env) -> None:  # type: ignore[no-untyped-def]
    from tests.control.factories import WorkspaceFactory

    other = WorkspaceFactory(slug="other")
    foreign = mapping_create(workspace=other, name="m", expression="$")
    with pytest.raises(ValidationError) as info:
        services.pipeline_update(pipeline=world.pipeline, actor=None, data={"mapping_version": foreign.versions.get()})
    assert info.value.details == {"mapping_version": ["Not found in this workspace."]}


def test_activation_runs_the_mapping_sample_through_the_pipeline_schemas(world) -> None:  # type: ignore[no-untyped-def]
    bad = mapping_create(workspace=world.workspace, name="bad", expression='{"nope": id}', sample_input={"id": "o-1"})
    services.pipeline_update(pipeline=world.pipeline, actor=None, data={"mapping_version": bad.versions.get()})
    with pytest.raises(ValidationError) as info:
        services.pipeline_activate(pipeline=world.pipeline)
    assert "validate_output" in info.value.message and '"order" is a required property' in info.value.message


def test_every_change_is_audited_with_its_actor(world, team) -> None:  # type: ignore[no-untyped-def]
    services.pipeline_activate(pipeline=world.pipeline, actor=team.editor)
    event = AuditEvent.objects.filter(action="pipeline.activate").get()
    assert event.actor == team.editor and event.workspace == team.workspace
    assert event.changes["state"] == {"before": "draft", "after": "active"}
    assert event.changes["revision"] == {"before": None, "after": 1}
    assert event.correlation_id
