"""Streams and pipelines against the real broker: topics provisioned, specs published, bad input refused."""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource

from control.core.exceptions import KafkaUnavailable, ValidationError
from control.pipelines import services
from control.pipelines.models import Pipeline, Stream
from control.workspaces.services import workspace_get_or_create
from devkit.kafka_broker import free_port
from streams.spec import PipelineSpec, parse_spec
from streams.topics import config_topic

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _config_records(bootstrap: str, env: str) -> dict[str, bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"probe-{env}", "enable.auto.commit": False})
    tp = TopicPartition(config_topic(env), 0, 0)
    consumer.assign([tp])
    _, high = consumer.get_watermark_offsets(tp, timeout=10)
    latest: dict[str, bytes] = {}
    while high and sum(1 for _ in latest) >= 0:
        message = consumer.poll(5)
        if message is None:
            break
        latest[message.key().decode()] = message.value()
        if message.offset() + 1 >= high:
            break
    consumer.close()
    return latest


def test_stream_creation_provisions_four_topics_with_dlq_kept_longest(platform_env, kafka_bootstrap) -> None:  # type: ignore[no-untyped-def]
    workspace, _ = workspace_get_or_create(slug="acme", name="Acme")
    stream, created = services.stream_get_or_create(workspace=workspace, name="orders", partitions=2)
    again, created_again = services.stream_get_or_create(workspace=workspace, name="orders", partitions=2)

    assert created and not created_again and again.pk == stream.pk
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    topics = admin.list_topics(timeout=10).topics
    names = [f"{platform_env}.acme.orders.{v}" for v in ("raw", "enriched", "dlq", "retry")]
    for name in names:
        assert name in topics, name
        assert len(topics[name].partitions) == 2
    resources = [ConfigResource("topic", f"{platform_env}.acme.orders.{v}") for v in ("raw", "dlq")]
    configs = {r.name: f.result() for r, f in admin.describe_configs(resources).items()}
    raw_ms = int(configs[f"{platform_env}.acme.orders.raw"]["retention.ms"].value)
    dlq_ms = int(configs[f"{platform_env}.acme.orders.dlq"]["retention.ms"].value)
    assert dlq_ms > raw_ms


def test_saving_a_pipeline_publishes_its_spec_with_a_new_revision(platform_env, kafka_bootstrap) -> None:  # type: ignore[no-untyped-def]
    workspace, _ = workspace_get_or_create(slug="acme", name="Acme")
    stream, _ = services.stream_get_or_create(workspace=workspace, name="orders")
    pipeline = services.pipeline_create(
        workspace=workspace,
        name="p1",
        source=stream,
        target=stream,
        mapping='{"a": id}',
        destination_url="https://example.com/hook",
    )
    pipeline.mapping = '{"b": id}'
    services.pipeline_save(pipeline=pipeline)

    records = _config_records(kafka_bootstrap, platform_env)
    spec = parse_spec(records[f"pipeline:{pipeline.pk}"])
    assert isinstance(spec, PipelineSpec)
    assert spec.revision == 2
    assert spec.mapping == '{"b": id}'
    assert spec.source_topic == f"{platform_env}.acme.orders.raw"
    assert spec.target_topic == f"{platform_env}.acme.orders.enriched"
    assert "source:acme.orders" in records


def test_a_mapping_that_does_not_compile_is_refused_with_its_code(platform_env) -> None:  # type: ignore[no-untyped-def]
    workspace, _ = workspace_get_or_create(slug="acme", name="Acme")
    stream, _ = services.stream_get_or_create(workspace=workspace, name="orders")
    with pytest.raises(ValidationError) as info:
        services.pipeline_create(
            workspace=workspace,
            name="broken",
            source=stream,
            target=stream,
            mapping='{"a": ',
            destination_url="https://example.com/hook",
        )
    assert info.value.details["mapping"]["code"].startswith("S0")
    assert "does not compile" in info.value.message
    assert not Pipeline.objects.filter(name="broken").exists()


def test_stream_is_not_saved_when_kafka_is_unreachable(platform_env, settings) -> None:  # type: ignore[no-untyped-def]
    settings.KAFKA_BOOTSTRAP = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings.KAFKA_TIMEOUT_S = 2.0
    workspace, _ = workspace_get_or_create(slug="acme", name="Acme")
    with pytest.raises(KafkaUnavailable) as info:
        services.stream_get_or_create(workspace=workspace, name="orders")
    assert "did not answer" in info.value.message
    assert not Stream.objects.exists()


def test_invalid_stream_name_is_refused_with_what_to_fix(platform_env) -> None:  # type: ignore[no-untyped-def]
    workspace, _ = workspace_get_or_create(slug="acme", name="Acme")
    with pytest.raises(ValidationError) as info:
        services.stream_get_or_create(workspace=workspace, name="Orders_2024")
    assert "lowercase" in info.value.message
