"""Streams and ingest keys against the real broker: topics, source specs, key rotation, Kafka down."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource

from control.core.exceptions import Conflict, KafkaUnavailable, ValidationError
from control.streams import services
from control.streams.models import Stream
from devkit.kafka_broker import free_port
from streams.secrets import decrypt, hash_ingest_key
from streams.spec import SourceSpec, parse_spec
from tests.control.conftest import latest_config

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _source(bootstrap: str, env: str, key: str) -> SourceSpec:
    value = latest_config(bootstrap, env)[key]
    assert value is not None
    spec = parse_spec(value)
    assert isinstance(spec, SourceSpec)
    return spec


def test_creation_provisions_four_topics_with_the_dlq_kept_longest(platform_env, kafka_bootstrap, team) -> None:  # type: ignore[no-untyped-def]
    stream = services.stream_create(workspace=team.workspace, name="orders", partitions=2, retention_dlq_days=45)
    again, created = services.stream_get_or_create(workspace=team.workspace, name="orders")
    assert again.pk == stream.pk and not created

    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    names = [f"{platform_env}.acme.orders.{v}" for v in ("raw", "enriched", "dlq", "retry")]
    topics = admin.list_topics(timeout=10).topics
    assert all(len(topics[name].partitions) == 2 for name in names)
    resources = [ConfigResource("topic", names[0]), ConfigResource("topic", names[2])]
    configs = {r.name: f.result() for r, f in admin.describe_configs(resources).items()}
    assert int(configs[names[0]]["retention.ms"].value) == 7 * 86_400_000
    assert int(configs[names[2]]["retention.ms"].value) == 45 * 86_400_000


def test_nothing_is_saved_when_kafka_is_unreachable(platform_env, settings, team) -> None:  # type: ignore[no-untyped-def]
    settings.KAFKA_BOOTSTRAP = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings.KAFKA_TIMEOUT_S = 2.0
    with pytest.raises(KafkaUnavailable, match="did not answer"):
        services.stream_create(workspace=team.workspace, name="orders")
    assert not Stream.objects.exists()


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"name": "Orders_2024"}, "name", "lowercase"),
        ({"name": "orders", "partitions": 0}, "partitions", "greater than or equal to 1"),
        ({"name": "orders", "key_path": "a..b"}, "key_path", "dotted path"),
        ({"name": "orders", "retention_dlq_days": 3}, "retention_dlq_days", "at least 7 days"),
        ({"name": "orders", "signature_type": "hmac-sha256"}, "signature_secret", "Required"),
        ({"name": "orders", "signature_type": "md5", "signature_secret": "x"}, "signature_type", "not a valid choice"),
    ],
)
def test_invalid_streams_are_refused_with_what_to_fix(platform_env, team, options, field, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        services.stream_create(workspace=team.workspace, **options)
    assert message in " ".join(info.value.details[field])
    assert not Stream.objects.exists()


def test_a_duplicate_name_is_a_conflict(platform_env, team) -> None:  # type: ignore[no-untyped-def]
    services.stream_create(workspace=team.workspace, name="orders")
    with pytest.raises(Conflict):
        services.stream_create(workspace=team.workspace, name="orders")


def test_source_spec_carries_key_path_keys_and_signature(platform_env, kafka_bootstrap, team, publish) -> None:  # type: ignore[no-untyped-def]
    orders = services.stream_create(
        workspace=team.workspace,
        name="orders",
        key_path="customer.id",
        signature_type="hmac-sha256",
        signature_secret="shh",
    )
    refunds = services.stream_create(workspace=team.workspace, name="refunds")
    everywhere, everywhere_plain = services.ingest_key_create(workspace=team.workspace, name="all")
    scoped, _ = services.ingest_key_create(workspace=team.workspace, name="refunds-only", stream=refunds)
    publish()

    spec = _source(kafka_bootstrap, platform_env, "source:acme.orders")
    assert spec.key_path == "customer.id"
    assert [k.id for k in spec.ingest_keys] == [str(everywhere.pk)]
    assert spec.ingest_keys[0].sha256 == hash_ingest_key(everywhere_plain)
    assert everywhere.sha256 == hash_ingest_key(everywhere_plain) and everywhere_plain not in str(everywhere.__dict__)
    assert spec.signature.type == "hmac-sha256" and decrypt(spec.signature.secret_enc) == "shh"
    assert {k.id for k in _source(kafka_bootstrap, platform_env, "source:acme.refunds").ingest_keys} == {
        str(everywhere.pk),
        str(scoped.pk),
    }

    services.ingest_key_revoke(key=everywhere, actor=team.owner)
    publish()
    assert _source(kafka_bootstrap, platform_env, "source:acme.orders").ingest_keys == ()
    assert [k.id for k in _source(kafka_bootstrap, platform_env, "source:acme.refunds").ingest_keys] == [str(scoped.pk)]
    assert orders.pk


def test_deleting_a_stream_publishes_a_tombstone_but_not_while_a_pipeline_uses_it(
    world, publish, kafka_bootstrap, platform_env
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict, match="used by pipelines"):
        services.stream_delete(stream=world.stream, actor=None)
    spare = services.stream_create(workspace=world.workspace, name="spare")
    services.stream_delete(stream=spare, actor=None)
    publish()
    assert latest_config(kafka_bootstrap, platform_env)["source:acme.spare"] is None
