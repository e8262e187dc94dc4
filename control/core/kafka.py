"""The control plane's Kafka edge: topic provisioning and spec publishing (confluent-kafka)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from django.conf import settings

from control.core.exceptions import KafkaUnavailable
from streams.topics import config_topic

logger = logging.getLogger("switchyard.control.kafka")

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


_rdkafka_logger = logging.getLogger("switchyard.control.rdkafka")


def _admin() -> AdminClient:
    return AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP, "log_level": 3, "logger": _rdkafka_logger})


def topics_ensure(topics: list[TopicSpec]) -> None:
    """Create the topics that do not exist yet; an existing topic is left as it is."""
    timeout = settings.KAFKA_TIMEOUT_S
    admin = _admin()
    try:
        existing = set(admin.list_topics(timeout=timeout).topics)
    except KafkaException as exc:
        raise KafkaUnavailable(f"Kafka at {settings.KAFKA_BOOTSTRAP} did not answer: {exc}") from exc
    missing = [
        NewTopic(
            t.name, num_partitions=t.partitions, replication_factor=settings.KAFKA_REPLICATION_FACTOR, config=t.config
        )
        for t in topics
        if t.name not in existing
    ]
    if not missing:
        return
    for name, future in admin.create_topics(missing, operation_timeout=timeout, request_timeout=timeout).items():
        try:
            future.result()
            logger.info("created topic %s", name)
        except KafkaException as exc:
            if exc.args and exc.args[0].name() == "TOPIC_ALREADY_EXISTS":
                continue  # created concurrently by another process: that is the state we want
            raise KafkaUnavailable(f"could not create topic {name}: {exc}") from exc


def config_topic_spec() -> TopicSpec:
    # One partition keeps every spec change in one total order; compaction keeps the latest per key.
    return TopicSpec(
        config_topic(settings.SWITCHYARD_ENV),
        partitions=1,
        config={"cleanup.policy": "compact", "min.compaction.lag.ms": "0"},
    )


_producer: Producer | None = None
_producer_lock = threading.Lock()


def _get_producer() -> Producer:
    global _producer
    with _producer_lock:
        if _producer is None:
            _producer = Producer(
                {
                    "bootstrap.servers": settings.KAFKA_BOOTSTRAP,
                    "acks": "all",
                    "enable.idempotence": True,
                    "message.timeout.ms": int(settings.KAFKA_TIMEOUT_S * 1000),
                    "log_level": 3,
                    # librdkafka's own lines go through Python logging (JSON, with the rest), not raw stderr.
                    "logger": _rdkafka_logger,
                }
            )
        return _producer


def records_publish(records: list[tuple[str, str, bytes | None]]) -> tuple[int, str]:
    """Produce (topic, key, value) records in order and wait for Kafka's acknowledgements.

    Returns how many records, from the first, were acknowledged without a gap, and the first error ("" if none).
    A value of None is a tombstone.
    """
    results: list[object | None] = [_PENDING] * len(records)

    def callback(index: int):  # type: ignore[no-untyped-def]
        def on_delivery(err: object, _msg: object) -> None:
            results[index] = err

        return on_delivery

    producer = _get_producer()
    try:
        for index, (topic, key, value) in enumerate(records):
            producer.produce(topic, key=key.encode(), value=value, on_delivery=callback(index))
    except (KafkaException, BufferError) as exc:
        producer.flush(settings.KAFKA_TIMEOUT_S)
        return _acknowledged_prefix(results), f"could not produce to Kafka: {exc}"
    producer.flush(settings.KAFKA_TIMEOUT_S)
    acknowledged = _acknowledged_prefix(results)
    if acknowledged == len(records):
        return acknowledged, ""
    failure = results[acknowledged]
    reason = "timed out waiting for acknowledgement" if failure is _PENDING else str(failure)
    return acknowledged, f"Kafka at {settings.KAFKA_BOOTSTRAP} did not acknowledge {records[acknowledged][1]}: {reason}"


_PENDING = object()


def _acknowledged_prefix(results: list[object | None]) -> int:
    count = 0
    for result in results:
        if result is not None:
            break
        count += 1
    return count


def producer_reset() -> None:
    """Forget the producer (it is bound to a bootstrap address); the next publish makes a new one."""
    global _producer
    with _producer_lock:
        _producer = None
