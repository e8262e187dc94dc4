"""Ingest against a real broker: 202 only after the write is acknowledged, 503 when Kafka is down."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from confluent_kafka.admin import AdminClient, NewTopic

from connectors.http_source import IngestRefused, IngestService
from devkit.kafka_broker import KafkaBroker
from streams import envelope
from streams.kafka_clients import make_producer
from streams.registry import SpecRegistry
from streams.settings import Settings
from streams.spec import build_source_spec, dump_spec

pytestmark = pytest.mark.integration


def _settings(bootstrap: str) -> Settings:
    return dataclasses.replace(Settings.from_env(), kafka_bootstrap=bootstrap)


def _create_raw_topic(bootstrap: str, env: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept referenced until the result is in
    name = f"{env}.acme.orders.raw"
    admin.create_topics([NewTopic(name, 1, 1)])[name].result(30)


def _registry(env: str) -> SpecRegistry:
    registry = SpecRegistry()
    spec = build_source_spec(env=env, workspace="acme", stream="orders")
    registry.apply(spec.key, dump_spec(spec))
    return registry


def test_event_is_in_kafka_with_its_headers_when_ingest_answers(kafka_bootstrap: str) -> None:
    env = f"it{uuid.uuid4().hex[:8]}"
    _create_raw_topic(kafka_bootstrap, env)

    async def scenario() -> tuple[str, object]:
        producer = make_producer(_settings(kafka_bootstrap), client_id="test")
        await producer.start()
        try:
            service = IngestService(registry=_registry(env), producer=producer, ack_timeout_s=10)
            accepted = await service.ingest(workspace="acme", stream="orders", body=b'{"a": 1}', correlation_id="c-1")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            f"{env}.acme.orders.raw", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            message = await asyncio.wait_for(consumer.getone(), 20)
        finally:
            await consumer.stop()
        return accepted.event_id, message

    event_id, message = asyncio.run(scenario())
    assert message.value == b'{"a": 1}'  # type: ignore[attr-defined]
    assert envelope.header(message.headers, envelope.EVENT_ID) == event_id  # type: ignore[attr-defined]
    assert envelope.header(message.headers, envelope.CORRELATION_ID) == "c-1"  # type: ignore[attr-defined]


def test_ingest_answers_503_not_202_when_kafka_is_down() -> None:
    # A broker of its own, so stopping it does not disturb the other tests.
    broker = KafkaBroker().start()
    try:
        _create_raw_topic(broker.bootstrap, "it")

        async def scenario() -> IngestRefused | None:
            producer = make_producer(_settings(broker.bootstrap), client_id="test")
            await producer.start()
            service = IngestService(registry=_registry("it"), producer=producer, ack_timeout_s=3)
            await service.ingest(workspace="acme", stream="orders", body=b"{}", correlation_id="c-0")
            broker.stop()
            try:
                await service.ingest(workspace="acme", stream="orders", body=b"{}", correlation_id="c-2")
            except IngestRefused as refusal:
                return refusal
            finally:
                # stop() would flush the event Kafka never acknowledged; with the broker gone that
                # blocks, so give up on it (the 503 told the caller to retry).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(producer.stop(), 2)
            return None

        refusal = asyncio.run(scenario())
    finally:
        broker.stop()
    assert refusal is not None, "ingest acknowledged an event while Kafka was down"
    assert refusal.status == 503
    assert refusal.code == "kafka_unavailable"
