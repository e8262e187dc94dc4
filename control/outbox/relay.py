"""The outbox relay: publishes pending outbox rows to Kafka strictly in id order, then marks them published.

One relay publishes at a time (a lease row). A batch is produced with acks=all by the idempotent producer; only
the acknowledged prefix is marked published, so a failure part-way re-sends the rest, in order, next time.
Re-sending is harmless: the config topic is compacted and the workers keep the latest value per key.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection
from django.db.models import F, Q
from django.utils import timezone

from control.core.kafka import records_publish
from control.outbox.models import OutboxLease, OutboxMessage

logger = logging.getLogger("switchyard.control.outbox")

LEASE = "relay"
_HOLDER = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class RelayResult:
    published: int
    pending: int
    error: str = ""
    lease_held_elsewhere: bool = False


def _lease_ttl() -> timedelta:
    # Longer than one batch can take (produce + flush), so a live holder never loses it mid-batch.
    return timedelta(seconds=settings.KAFKA_TIMEOUT_S * 2 + 30)


def _lease_acquire(holder: str) -> bool:
    now = timezone.now()
    # Created concurrently by another relay is fine: we compete on the conditional update below.
    with contextlib.suppress(IntegrityError):
        OutboxLease.objects.get_or_create(name=LEASE, defaults={"holder": "", "expires_at": now})
    taken = (
        OutboxLease.objects.filter(name=LEASE)
        .filter(Q(expires_at__lt=now) | Q(holder=holder) | Q(holder=""))
        .update(holder=holder, expires_at=now + _lease_ttl())
    )
    return taken == 1


def _lease_release(holder: str) -> None:
    OutboxLease.objects.filter(name=LEASE, holder=holder).update(holder="", expires_at=timezone.now())


def outbox_relay_once(*, holder: str = _HOLDER, batch_size: int | None = None) -> RelayResult:
    """Publish one batch of pending rows; returns what was published and what is still pending."""
    if not _lease_acquire(holder):
        return RelayResult(0, _pending(), lease_held_elsewhere=True)
    try:
        rows = list(
            OutboxMessage.objects.filter(published_at__isnull=True).order_by("id")[
                : batch_size or settings.OUTBOX_BATCH_SIZE
            ]
        )
        if not rows:
            return RelayResult(0, 0)
        acknowledged, error = records_publish([(row.topic, row.key, _bytes(row.value)) for row in rows])
        done = [row.pk for row in rows[:acknowledged]]
        if done:
            OutboxMessage.objects.filter(pk__in=done).update(published_at=timezone.now(), last_error="")
        if error:
            failed = rows[acknowledged]
            OutboxMessage.objects.filter(pk=failed.pk).update(attempts=F("attempts") + 1, last_error=error[:2000])
            logger.warning(
                "outbox relay: published %d, stopped at #%d (%s): %s", len(done), failed.pk, failed.key, error
            )
        elif done:
            logger.info("outbox relay: published %d records", len(done))
        return RelayResult(len(done), _pending(), error)
    finally:
        _lease_release(holder)


def outbox_relay_drain(*, holder: str = _HOLDER) -> RelayResult:
    """Publish batches until nothing is pending or a batch fails."""
    total = 0
    while True:
        result = outbox_relay_once(holder=holder)
        total += result.published
        if result.error or result.lease_held_elsewhere or result.pending == 0 or result.published == 0:
            return RelayResult(total, result.pending, result.error, result.lease_held_elsewhere)


def _pending() -> int:
    return OutboxMessage.objects.filter(published_at__isnull=True).count()


def _bytes(value: bytes | memoryview | None) -> bytes | None:
    return None if value is None else bytes(value)


_kick_lock = threading.Lock()
_kick_thread: threading.Thread | None = None
_kick_again = threading.Event()


def relay_kick() -> None:
    """After a commit: publish now in a background thread (best effort; run_outbox_relay catches up otherwise)."""
    global _kick_thread
    with _kick_lock:
        _kick_again.set()
        if _kick_thread is None or not _kick_thread.is_alive():
            _kick_thread = threading.Thread(target=_kick_loop, name="outbox-kick", daemon=True)
            _kick_thread.start()


def _kick_loop() -> None:
    global _kick_thread
    try:
        while True:
            with _kick_lock:  # decided under the lock, so a kick arriving now is never lost
                if not _kick_again.is_set():
                    _kick_thread = None
                    return
                _kick_again.clear()
            close_old_connections()
            if outbox_relay_drain().error:
                # Kafka is not answering: leave it to the long-running relay rather than spin here.
                with _kick_lock:
                    _kick_thread = None
                return
    except Exception:  # a background convenience must never take the request process down
        logger.exception("outbox relay after commit failed; run_outbox_relay will publish the rows")
        with _kick_lock:
            _kick_thread = None
    finally:
        connection.close()
