"""Writing to the outbox: always inside the caller's transaction, never talking to Kafka."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from control.outbox.models import OutboxMessage
from streams.topics import config_topic


def outbox_enqueue(*, key: str, value: bytes | None) -> OutboxMessage:
    """Queue one config-topic record; it is published after the surrounding transaction commits."""
    message = OutboxMessage.objects.create(topic=config_topic(settings.SWITCHYARD_ENV), key=key, value=value)
    if settings.OUTBOX_PUBLISH_ON_COMMIT:
        from control.outbox.relay import relay_kick

        transaction.on_commit(relay_kick)
    return message


def outbox_pending_count() -> int:
    return OutboxMessage.objects.filter(published_at__isnull=True).count()
