"""HTTP source: `POST /ingest/<workspace>/<stream>` lands events in the stream's raw topic.

One JSON event, a JSON array, or NDJSON (application/x-ndjson) for a batch. The answer is 202
with the event ids only after Kafka acknowledged every event (acks=all); when Kafka cannot take
them in time the answer is 503 — never a 2xx for an event that is not stored. Refusals carry a
JSON error body that says what to fix.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from connectors.webhook_signatures import SignatureInvalid, verify_hmac_sha256, verify_standard_webhooks
from streams import envelope
from streams.idempotency import IdempotencyStore, StoredAnswer
from streams.jsonutil import compact_dumps, strict_loads
from streams.keys import extract_key
from streams.ratelimit import RateLimiter
from streams.registry import SpecRegistry
from streams.secrets import SecretError, decrypt, hash_ingest_key
from streams.spec import SignatureSpec, SourceSpec

logger = logging.getLogger("switchyard.ingest")

JSON_TYPES = ("application/json", "application/cloudevents+json")
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
ANONYMOUS = "anonymous"  # the "key id" of a request to a stream that does not require a key


@dataclass
class IngestRefused(Exception):
    """A request that cannot be accepted; `status` and `code` go to the caller with the message."""

    status: int
    code: str
    message: str
    details: dict[str, object] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details or {}}}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _invalid_json(exc: json.JSONDecodeError, *, line_offset: int = 0) -> IngestRefused:
    line = exc.lineno + line_offset
    return IngestRefused(
        400,
        "invalid_json",
        f"the body is not valid JSON: {exc.msg} at line {line} column {exc.colno}",
        {"line": line, "column": exc.colno, "position": exc.pos},
    )


def check_body(*, content_type: str | None, body: bytes, max_bytes: int) -> None:
    """Refuse what is too large, not JSON, or not valid JSON (pure; raises IngestRefused)."""
    parse_events(content_type=content_type, body=body, max_bytes=max_bytes, max_batch=None)


def parse_events(*, content_type: str | None, body: bytes, max_bytes: int, max_batch: int | None) -> list[bytes]:
    """The events of a request, each as the bytes to store: a single event is kept byte for byte."""
    if len(body) > max_bytes:
        raise IngestRefused(413, "payload_too_large", f"the body is {len(body)} bytes; the limit is {max_bytes}")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in JSON_TYPES + NDJSON_TYPES:
        raise IngestRefused(
            415,
            "unsupported_media_type",
            "send JSON with Content-Type: application/json (one event or an array of events), "
            f"or NDJSON with Content-Type: application/x-ndjson (got {media_type or 'none'!r})",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IngestRefused(400, "invalid_json", f"the body is not UTF-8: {exc}") from exc
    if media_type in NDJSON_TYPES:
        events = []
        for number, line in enumerate(text.splitlines()):
            if line.strip():
                try:
                    strict_loads(line)
                except json.JSONDecodeError as exc:
                    raise _invalid_json(exc, line_offset=number) from exc
                except ValueError as exc:
                    raise IngestRefused(400, "invalid_json", f"line {number + 1} is not valid JSON: {exc}") from exc
                events.append(line.strip().encode())
    else:
        try:
            document = strict_loads(text)
        except json.JSONDecodeError as exc:
            raise _invalid_json(exc) from exc
        except ValueError as exc:
            raise IngestRefused(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc
        # A single event is stored byte for byte; a batch's events are re-serialized one by one.
        events = [compact_dumps(item) for item in document] if isinstance(document, list) else [body]
    if not events:
        raise IngestRefused(400, "empty_batch", "the body holds no event")
    if max_batch is not None and len(events) > max_batch:
        raise IngestRefused(
            413, "batch_too_large", f"the batch holds {len(events)} events; send at most {max_batch} per request"
        )
    return events


def correlation_from(headers: Mapping[str, str]) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}  # header names are case-insensitive
    for name in ("x-correlation-id", "x-request-id"):
        value = lowered.get(name, "").strip()
        if value:
            return value[:200]
    return envelope.new_correlation_id()


def presented_key(headers: Mapping[str, str]) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    authorization = lowered.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return lowered.get("x-api-key", "").strip() or None


def authenticate(source: SourceSpec, headers: Mapping[str, str], registry: SpecRegistry) -> str:
    """The id of the ingest key that may write to this stream (or "anonymous"), else 401 / 403."""
    key = presented_key(headers)
    if key is None:
        if not source.require_key:
            return ANONYMOUS
        raise IngestRefused(
            401, "missing_api_key", "send an ingest key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
        )
    digest = hash_ingest_key(key)
    for known in source.ingest_keys:
        if hmac.compare_digest(known.sha256, digest):
            return known.id
    if any(hmac.compare_digest(k.sha256, digest) for k in registry.workspace_keys(source.workspace)):
        raise IngestRefused(403, "key_not_allowed", f"this ingest key may not write to stream {source.stream!r}")
    raise IngestRefused(
        401, "invalid_api_key", "the ingest key is not valid (revoked, mistyped, or of another workspace)"
    )


def verify_signature(signature: SignatureSpec, headers: Mapping[str, str], body: bytes) -> None:
    if signature.type == "none":
        return
    try:
        secret = decrypt(signature.secret_enc)
        if signature.type == "standard-webhooks":
            verify_standard_webhooks(secret=secret, headers=headers, body=body, tolerance_s=signature.tolerance_s)
        elif signature.type == "hmac-sha256":
            lowered = {k.lower(): v for k, v in headers.items()}
            verify_hmac_sha256(secret=secret, header_value=lowered.get(signature.header.lower()), body=body)
        else:
            raise SignatureInvalid(f"unknown signature type {signature.type!r}")
    except SignatureInvalid as exc:
        raise IngestRefused(401, "invalid_signature", f"the request signature does not verify: {exc}") from exc
    except SecretError as exc:
        logger.error("cannot verify a %s signature: %s", signature.type, exc)
        raise IngestRefused(
            503, "signature_unavailable", "the platform cannot verify this stream's signatures right now; retry later"
        ) from exc


class KeyUsage:
    """When each ingest key was last used, kept in memory until the worker's next status report drains it."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def used(self, key_id: str, at: float) -> None:
        if at > self._last.get(key_id, -math.inf):
            self._last[key_id] = at

    def drain(self) -> dict[str, float]:
        """The keys used since the last drain, each with its latest use (epoch seconds); forgets them."""
        drained, self._last = self._last, {}
        return drained


class IngestService:
    """Authenticates, limits, de-duplicates and writes events, waiting for Kafka's acknowledgement."""

    def __init__(
        self,
        *,
        registry: SpecRegistry,
        producer: AIOKafkaProducer,
        ack_timeout_s: float,
        max_body_bytes: int,
        idempotency: IdempotencyStore,
        idempotency_topic: str,
        limiter: RateLimiter | None = None,
        ready: list[asyncio.Event] | None = None,
        usage: KeyUsage | None = None,
    ) -> None:
        self._registry = registry
        self._producer = producer
        self._ack_timeout_s = ack_timeout_s
        self._max_body_bytes = max_body_bytes
        self._idempotency = idempotency
        self._idempotency_topic = idempotency_topic
        self._limiter = limiter or RateLimiter()
        self._ready = ready or []
        self.usage = usage or KeyUsage()

    async def handle(self, *, workspace: str, stream: str, headers: Mapping[str, str], body: bytes) -> Answer:
        try:
            return await self._handle(workspace=workspace, stream=stream, headers=headers, body=body)
        except IngestRefused as refusal:
            return Answer(refusal.status, refusal.body(), refusal.headers)

    async def _handle(self, *, workspace: str, stream: str, headers: Mapping[str, str], body: bytes) -> Answer:
        if not all(event.is_set() for event in self._ready):
            raise IngestRefused(503, "not_ready", "the worker is still loading its configuration; retry shortly")
        source = self._registry.source(workspace, stream)
        if source is None:
            raise IngestRefused(404, "unknown_stream", f"there is no stream {stream!r} in workspace {workspace!r}")
        key_id = authenticate(source, headers, self._registry)
        verify_signature(source.signature, headers, body)
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        events = parse_events(
            content_type=content_type, body=body, max_bytes=self._max_body_bytes, max_batch=source.max_batch
        )
        answer = await self._accept(source, key_id, events, headers)
        if answer.status == 202 and key_id != ANONYMOUS:
            self.usage.used(key_id, time.time())  # reported by the worker's status timer (streams/app.py)
        return answer

    async def _accept(self, source: SourceSpec, key_id: str, events: list[bytes], headers: Mapping[str, str]) -> Answer:
        idempotency_key = next((v for k, v in headers.items() if k.lower() == "idempotency-key"), "").strip()
        if not idempotency_key:
            self._limit(source, key_id, len(events))
            return await self._store(source, events, correlation_from(headers))
        scoped = IdempotencyStore.scoped_key(source.workspace, source.stream, idempotency_key)
        async with self._idempotency.lock(scoped):
            previous = self._idempotency.get(scoped)
            if previous is not None:
                return Answer(previous.status, previous.body, {"Idempotent-Replayed": "true"})
            self._limit(source, key_id, len(events))
            answer = await self._store(source, events, correlation_from(headers))
            await self._remember(scoped, answer)
            return answer

    def _limit(self, source: SourceSpec, key_id: str, count: int) -> None:
        # Per key and stream (the limit is configured on the stream), enforced by each worker.
        wait = self._limiter.take(
            f"{source.workspace}/{source.stream}/{key_id}",
            rate_per_s=source.rate_limit_per_s,
            burst=source.rate_limit_burst,
            n=count,
        )
        if wait > 0:
            raise IngestRefused(
                429,
                "rate_limited",
                f"this ingest key is over its limit of {source.rate_limit_per_s:g} events/s; retry after {wait:.1f}s",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )

    async def _store(self, source: SourceSpec, events: list[bytes], correlation_id: str) -> Answer:
        ids = [envelope.new_event_id() for _ in events]
        try:
            futures = [
                await self._producer.send(
                    source.raw_topic,
                    value=value,
                    key=extract_key(json.loads(value), source.key_path) if source.key_path else None,
                    headers=envelope.ingest_headers(event_id=event_id, correlation_id=correlation_id, source="http"),
                )
                for event_id, value in zip(ids, events, strict=True)
            ]
            await asyncio.wait_for(asyncio.gather(*futures), timeout=self._ack_timeout_s)
        except (KafkaError, TimeoutError) as exc:
            logger.error("%d event(s) for %s not acknowledged: %r", len(events), source.raw_topic, exc)
            raise IngestRefused(
                503,
                "kafka_unavailable",
                "the events were not stored because Kafka did not acknowledge them; retry later",
            ) from exc
        body: dict[str, Any] = {"event_ids": ids, "correlation_id": correlation_id}
        if len(ids) == 1:
            body["event_id"] = ids[0]
        return Answer(202, body, {"X-Correlation-ID": correlation_id})

    async def _remember(self, scoped: str, answer: Answer) -> None:
        stored = StoredAnswer(status=answer.status, body=answer.body, stored_at=time.time())
        self._idempotency.put(scoped, stored)
        try:
            # Shared with the other workers (and kept across restarts) through a compacted topic.
            await asyncio.wait_for(
                self._producer.send_and_wait(self._idempotency_topic, key=scoped.encode(), value=stored.to_json()),
                timeout=self._ack_timeout_s,
            )
        except (KafkaError, TimeoutError) as exc:
            logger.warning("idempotency record %s not shared with other workers: %r", scoped, exc)
