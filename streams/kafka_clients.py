"""aiokafka clients configured the one way the data plane uses them."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.settings import Settings


def make_producer(settings: Settings, *, client_id: str) -> AIOKafkaProducer:
    # acks=all + idempotence: an acknowledged event is on every in-sync replica, and a retried
    # send cannot be written twice.
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        request_timeout_ms=int(settings.ingest_ack_timeout_s * 1000),
    )


def make_group_consumer(settings: Settings, *, group: str, client_id: str) -> AIOKafkaConsumer:
    """A consumer in `group` that commits only what has been fully handled (at-least-once)."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Pattern subscriptions find new topics on a metadata refresh: keep it short so a stream
        # created through the control plane is consumed within seconds.
        metadata_max_age_ms=3000,
        max_poll_records=500,
    )


def make_reader(settings: Settings, *, client_id: str) -> AIOKafkaConsumer:
    """A group-less consumer for reading a whole topic (the config topic)."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=client_id,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
