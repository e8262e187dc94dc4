"""Ingest against a real broker: 202 only after the write is acknowledged, 503 when Kafka is down."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from confluent_kafka.admin import AdminClient, NewTopic

from connectors.http_source import Answer, IngestService
from devkit.kafka_broker import KafkaBroker
from streams import envelope
from streams.idempotency import IdempotencyStore
from streams.kafka_clients import make_producer
from streams.registry import SpecRegistry
from streams.secrets import hash_ingest_key, new_ingest_key
from streams.settings import Settings
from streams.spec import IngestKeySpec, build_source_spec, dump_spec

pytestmark = pytest.mark.integration

KEY = new_ingest_key()
AUTH = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
OTHER_KEY = new_ingest_key()


def _settings(bootstrap: str) -> Settings:
    return dataclasses.replace(Settings.from_env(), kafka_bootstrap=bootstrap)


def _create_raw_topic(bootstrap: str, env: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept referenced until the result is in
    name = f"{env}.acme.orders.raw"
    admin.create_topics([NewTopic(name, 1, 1)])[name].result(30)


def _service(env: str, producer, ack_timeout_s: float) -> IngestService:  # type: ignore[no-untyped-def]
    registry = SpecRegistry()
    keys = (IngestKeySpec(id="k", sha256=hash_ingest_key(KEY)),)
    spec = build_source_spec(env=env, workspace="acme", stream="orders", key_path="customer", ingest_keys=keys)
    registry.apply(spec.key, dump_spec(spec))
    # Another stream of the workspace, whose key may not write to orders (403, not 401).
    other = (IngestKeySpec(id="other", sha256=hash_ingest_key(OTHER_KEY)),)
    spec = build_source_spec(env=env, workspace="acme", stream="invoices", ingest_keys=other)
    registry.apply(spec.key, dump_spec(spec))
    return IngestService(
        registry=registry,
        producer=producer,
        ack_timeout_s=ack_timeout_s,
        max_body_bytes=1024 * 1024,
        idempotency=IdempotencyStore(),
        idempotency_topic=f"{env}._switchyard.ingest-idempotency",
    )


def test_event_is_in_kafka_with_its_headers_and_key_when_ingest_answers(kafka_bootstrap: str) -> None:
    env = f"it{uuid.uuid4().hex[:8]}"
    _create_raw_topic(kafka_bootstrap, env)

    async def scenario() -> tuple[Answer, object]:
        producer = make_producer(_settings(kafka_bootstrap), client_id="test")
        await producer.start()
        try:
            answer = await _service(env, producer, 10).handle(
                workspace="acme",
                stream="orders",
                headers={**AUTH, "X-Correlation-ID": "c-1"},
                body=b'{"customer": "c-9", "a": 1}',
            )
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
        return answer, message

    answer, message = asyncio.run(scenario())
    assert answer.status == 202
    assert message.value == b'{"customer": "c-9", "a": 1}'  # type: ignore[attr-defined]  # byte for byte
    assert message.key == b"c-9"  # type: ignore[attr-defined]
    assert envelope.header(message.headers, envelope.EVENT_ID) == answer.body["event_id"]  # type: ignore[attr-defined]
    assert envelope.header(message.headers, envelope.CORRELATION_ID) == "c-1"  # type: ignore[attr-defined]


def test_ingest_answers_503_not_202_when_kafka_is_down() -> None:
    # A broker of its own, so stopping it does not disturb the other tests.
    broker = KafkaBroker().start()
    try:
        _create_raw_topic(broker.bootstrap, "it")

        async def scenario() -> tuple[Answer, Answer]:
            producer = make_producer(_settings(broker.bootstrap), client_id="test")
            await producer.start()
            service = _service("it", producer, 3)
            before = await service.handle(workspace="acme", stream="orders", headers=AUTH, body=b"{}")
            broker.stop()
            try:
                after = await service.handle(workspace="acme", stream="orders", headers=AUTH, body=b"{}")
            finally:
                # stop() would flush the event Kafka never acknowledged; with the broker gone that
                # blocks, so give up on it (the 503 told the caller to retry).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(producer.stop(), 2)
            return before, after

        before, after = asyncio.run(scenario())
    finally:
        broker.stop()
    assert before.status == 202
    assert after.status == 503, "ingest acknowledged an event while Kafka was down"
    assert after.body["error"]["code"] == "kafka_unavailable"  # type: ignore[index]


def test_an_accepted_ingest_records_its_key_and_a_refused_one_does_not(kafka_bootstrap: str) -> None:
    env = f"it{uuid.uuid4().hex[:8]}"
    _create_raw_topic(kafka_bootstrap, env)
    json_type = {"Content-Type": "application/json"}

    async def scenario() -> tuple[list[int], dict[str, float], list[int], dict[str, float]]:
        producer = make_producer(_settings(kafka_bootstrap), client_id="test")
        await producer.start()
        try:
            service = _service(env, producer, 10)
            refused = [
                (await service.handle(workspace="acme", stream="orders", headers=headers, body=b"{}")).status
                for headers in (
                    json_type,  # no key
                    {**json_type, "X-API-Key": new_ingest_key()},  # unknown key
                    {**json_type, "X-API-Key": OTHER_KEY},  # a key of another stream
                    {**AUTH, "Content-Type": "text/plain"},  # the right key, a body it cannot take
                )
            ]
            after_refused = service.usage.drain()
            accepted = [
                (await service.handle(workspace="acme", stream="orders", headers=AUTH, body=b"{}")).status,
                (await service.handle(workspace="acme", stream="orders", headers=AUTH, body=b"[{}, {}]")).status,
            ]
            return refused, after_refused, accepted, service.usage.drain()
        finally:
            await producer.stop()

    before = time.time()
    refused, after_refused, accepted, used = asyncio.run(scenario())
    assert refused == [401, 401, 403, 415]
    assert after_refused == {}
    assert accepted == [202, 202]
    assert list(used) == ["k"] and before <= used["k"] <= time.time()
