"""HTTP source: `POST /ingest/<workspace>/<stream>` lands one JSON event in the stream's raw topic.

The answer is 202 with the event id only after Kafka acknowledged the write (acks=all); when
Kafka cannot take it in time the answer is 503, never a 2xx for an event that is not stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from streams import envelope
from streams.registry import SpecRegistry

logger = logging.getLogger("switchyard.ingest")

JSON_TYPES = ("application/json", "application/cloudevents+json")


@dataclass
class IngestRefused(Exception):
    """A request that cannot be accepted; `status` and `code` go to the caller with the message."""

    status: int
    code: str
    message: str
    details: dict[str, object] | None = None

    def body(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details or {}}}


@dataclass(frozen=True)
class Accepted:
    event_id: str
    correlation_id: str
    topic: str
    partition: int
    offset: int


def check_body(*, content_type: str | None, body: bytes, max_bytes: int) -> None:
    """Refuse what is not one JSON document of acceptable size (pure; raises IngestRefused)."""
    if len(body) > max_bytes:
        raise IngestRefused(413, "payload_too_large", f"the body is {len(body)} bytes; the limit is {max_bytes}")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in JSON_TYPES:
        raise IngestRefused(
            415,
            "unsupported_media_type",
            f"send the event as JSON with Content-Type: application/json (got {media_type or 'none'!r})",
        )
    try:
        json.loads(body)
    except UnicodeDecodeError as exc:
        raise IngestRefused(400, "invalid_json", f"the body is not UTF-8: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise IngestRefused(
            400,
            "invalid_json",
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            {"line": exc.lineno, "column": exc.colno, "position": exc.pos},
        ) from exc


def correlation_from(headers: Mapping[str, str]) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}  # header names are case-insensitive
    for name in ("x-correlation-id", "x-request-id"):
        value = lowered.get(name, "").strip()
        if value:
            return value[:200]
    return envelope.new_correlation_id()


class IngestService:
    """Looks the stream up in the registry and writes the event, waiting for Kafka's acknowledgement."""

    def __init__(self, *, registry: SpecRegistry, producer: AIOKafkaProducer, ack_timeout_s: float) -> None:
        self._registry = registry
        self._producer = producer
        self._ack_timeout_s = ack_timeout_s

    async def ingest(self, *, workspace: str, stream: str, body: bytes, correlation_id: str) -> Accepted:
        source = self._registry.source(workspace, stream)
        if source is None:
            raise IngestRefused(404, "unknown_stream", f"there is no stream {stream!r} in workspace {workspace!r}")
        event_id = envelope.new_event_id()
        headers = envelope.ingest_headers(event_id=event_id, correlation_id=correlation_id, source=f"http:{stream}")
        try:
            metadata = await asyncio.wait_for(
                self._producer.send_and_wait(source.raw_topic, value=body, headers=headers),
                timeout=self._ack_timeout_s,
            )
        except (KafkaError, TimeoutError) as exc:
            logger.error("event %s not stored in %s: %r", event_id, source.raw_topic, exc)
            raise IngestRefused(
                503, "kafka_unavailable", "the event was not stored because Kafka did not acknowledge it; retry later"
            ) from exc
        return Accepted(event_id, correlation_id, metadata.topic, metadata.partition, metadata.offset)
