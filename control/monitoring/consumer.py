"""The status consumer: one Kafka consumer group that keeps the control plane's derived tables current.

It follows every DLQ topic of this environment (pattern subscription, so new streams are picked up), the status
topic (destination health, worker stats) and the replay-progress topic (job progress). Offsets are committed
only after the batch's database writes committed, so a crash re-reads rather than loses; every write is
idempotent (the DLQ index is unique per position, health is an upsert, progress only grows).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException
from django.conf import settings
from django.db import close_old_connections, transaction

from control.dlq.reader import to_record
from control.dlq.services import dlq_index_records
from control.monitoring.services import stats_prune, status_record_apply
from control.replay.services import replay_progress_apply
from streams.observability import log_context
from streams.replay import ReplayProgress
from streams.topics import Variant, internal_topic, variant_pattern

logger = logging.getLogger("switchyard.control.status_consumer")

PRUNE_EVERY_S = 60.0


def subscriptions(env: str) -> list[str]:
    internal = "|".join(re.escape(internal_topic(env=env, name=n)) for n in ("status", "replay-progress"))
    return [variant_pattern(env=env, variant=Variant.DLQ), f"^({internal})$"]


class StatusConsumer:
    def __init__(self, *, group: str | None = None) -> None:
        env = settings.SWITCHYARD_ENV
        self.status_topic = internal_topic(env=env, name="status")
        self.progress_topic = internal_topic(env=env, name="replay-progress")
        self.consumer = Consumer(
            {
                "bootstrap.servers": settings.KAFKA_BOOTSTRAP,
                "group.id": group or f"switchyard-{env}-control-status",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                # How soon a new stream's DLQ topic joins the pattern subscription.
                "topic.metadata.refresh.interval.ms": settings.STATUS_CONSUMER_METADATA_REFRESH_MS,
                "log_level": 3,
            }
        )
        self.consumer.subscribe(subscriptions(env))
        self._pruned_at = 0.0

    def poll_once(self, timeout: float = 1.0, max_records: int = 500) -> int:
        """Handle one batch; returns how many records it held."""
        messages = self.consumer.consume(num_messages=max_records, timeout=timeout)
        good = []
        for message in messages:
            error = message.error()
            if error is None:
                good.append(message)
            elif error.code() not in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                logger.warning("status consumer: %s", error)
        if good:
            close_old_connections()
            with transaction.atomic():
                self._apply(good)
            self.consumer.commit(asynchronous=False)  # after the database commit: at-least-once, idempotent writes
        if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
            stats_prune()
            self._pruned_at = time.monotonic()
        return len(good)

    def _apply(self, messages: list[Any]) -> None:
        dlq = []
        for message in messages:
            topic = message.topic()
            if topic == self.status_topic:
                status_record_apply(key=message.key(), value=message.value())
            elif topic == self.progress_topic:
                self._progress(message)
            else:
                dlq.append(to_record(message))
        if dlq:
            added = dlq_index_records(dlq)
            logger.info("indexed %d DLQ records (%d new)", len(dlq), added)

    def _progress(self, message: Any) -> None:
        if not message.value():
            return
        try:
            progress = ReplayProgress.from_json(message.value())
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning("replay progress at offset %d does not parse: %s", message.offset(), exc)
            return
        with log_context(topic=message.topic(), partition=message.partition(), offset=message.offset()):
            replay_progress_apply(progress=progress)

    def run(self, stop: threading.Event, *, on_beat: Callable[[], None] | None = None) -> None:
        """Poll until `stop` is set; `on_beat` is called once per round (the probe's liveness heartbeat)."""
        logger.info("status consumer following %s", subscriptions(settings.SWITCHYARD_ENV))
        while not stop.is_set():
            if on_beat is not None:
                on_beat()
            try:
                self.poll_once()
            except KafkaException as exc:
                logger.warning("status consumer: Kafka error %s; retrying", exc)
                stop.wait(1.0)

    def close(self) -> None:
        self.consumer.close()
