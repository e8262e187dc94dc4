"""The relay command's loop publishes a backlog one batch per round, beating the probe's heartbeat each round."""

from __future__ import annotations

import threading

import pytest

from control.core.management.commands.run_outbox_relay import Command
from control.outbox.models import OutboxMessage
from control.streams.services import ingest_key_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _pending() -> int:
    return OutboxMessage.objects.filter(published_at__isnull=True).count()


def test_a_backlog_is_published_one_batch_per_heartbeat(world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.OUTBOX_BATCH_SIZE = 2
    for n in range(3):
        ingest_key_create(workspace=world.workspace, name=f"extra-{n}")  # each queues a spec change
    backlog = _pending()
    assert backlog > 4, "the world should leave a backlog of several batches"
    stop = threading.Event()
    pending_at_beat: list[int] = []

    def beat() -> None:
        pending_at_beat.append(_pending())
        if pending_at_beat[-1] == 0:
            stop.set()

    Command()._loop(stop, beat, once=False)
    # Each round published one batch of two: the heartbeat saw the backlog go down two by two.
    assert pending_at_beat == [*range(backlog, 0, -2), 0]
