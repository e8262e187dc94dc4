"""The outbox under a broker outage, on a broker of our own that we stop and start again mid-test."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from control.core import kafka
from control.mappings.services import mapping_version_create
from control.outbox.models import OutboxMessage
from control.outbox.relay import outbox_relay_drain, outbox_relay_once
from control.pipelines import services as pipelines
from control.streams import services as streams
from devkit.kafka_broker import KafkaBroker, free_port
from tests.control.conftest import build_world, config_records

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def own_broker(tmp_path, settings, platform_env):  # type: ignore[no-untyped-def]
    broker = KafkaBroker(data_dir=tmp_path / "kafka", port=free_port(), controller_port=free_port()).start()
    settings.KAFKA_BOOTSTRAP = broker.bootstrap
    settings.KAFKA_TIMEOUT_S = 5.0
    kafka.producer_reset()
    kafka.topics_ensure([kafka.config_topic_spec()])
    try:
        yield broker
    finally:
        broker.stop()
        kafka.producer_reset()


def _revisions_by_key(bootstrap: str, env: str) -> dict[str, list[int | None]]:
    seen: dict[str, list[int | None]] = defaultdict(list)
    for key, value in config_records(bootstrap, env):
        if key.startswith("pipeline:"):
            seen[key].append(json.loads(value)["revision"] if value else None)
    return seen


def test_changes_made_while_kafka_is_down_are_published_in_order_when_it_returns(
    own_broker, team, platform_env
) -> None:  # type: ignore[no-untyped-def]
    world = build_world(team.workspace)
    pipelines.pipeline_activate(pipeline=world.pipeline)
    assert outbox_relay_drain().pending == 0

    own_broker.stop()
    # The control plane keeps working: each change is committed with its outbox row, nothing is sent.
    for n in range(2, 5):
        version = mapping_version_create(mapping=world.mapping, expression=f'{{"order": id, "v": {n}}}')
        pipelines.pipeline_update(pipeline=world.pipeline, actor=None, data={"mapping_version": version})
        pipelines.pipeline_activate(pipeline=world.pipeline)
    streams.ingest_key_create(workspace=team.workspace, name="second")
    failed = outbox_relay_once()
    assert failed.error and failed.published == 0 and failed.pending == 4
    assert OutboxMessage.objects.filter(published_at__isnull=True).order_by("id").first().attempts == 1

    own_broker.start()
    caught_up = outbox_relay_drain()
    assert caught_up.error == "" and caught_up.pending == 0 and caught_up.published == 4

    revisions = _revisions_by_key(own_broker.bootstrap, platform_env)[f"pipeline:{world.pipeline.pk}"]
    # At least once, in order: possibly repeated, never going backwards, ending at the latest revision.
    assert revisions == sorted(revisions) and revisions[-1] == 4 and set(revisions) == {1, 2, 3, 4}


def test_a_second_relay_does_not_publish_while_the_first_holds_the_lease(world, platform_env) -> None:  # type: ignore[no-untyped-def]
    from control.outbox.relay import _lease_acquire, _lease_release

    assert _lease_acquire("relay-a")
    try:
        result = outbox_relay_once(holder="relay-b")
        assert result.lease_held_elsewhere and result.published == 0 and result.pending > 0
    finally:
        _lease_release("relay-a")
    assert outbox_relay_once(holder="relay-b").published > 0
