"""The long-running outbox relay: publishes config-topic records written by the control plane, in order."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from control.core.exceptions import KafkaUnavailable
from control.core.kafka import config_topic_spec, topics_ensure
from control.outbox.relay import outbox_relay_drain


class Command(BaseCommand):
    help = "Publish outbox rows to the config topic until stopped (SIGTERM / Ctrl-C); --once drains and exits."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="publish what is pending, then exit")

    def handle(self, *args: object, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        topic_ready = False
        while not stop.is_set():
            close_old_connections()
            if not topic_ready:
                try:
                    topics_ensure([config_topic_spec()])
                    topic_ready = True
                except KafkaUnavailable as exc:
                    self.stderr.write(f"waiting for Kafka: {exc.message}")
            result = outbox_relay_drain() if topic_ready else None
            if result is not None and result.published:
                self.stdout.write(f"published {result.published}; pending {result.pending}")
            if options["once"]:
                if result is None or result.error:
                    raise SystemExit(1)
                return
            if result is None or result.pending == 0 or result.error or result.lease_held_elsewhere:
                stop.wait(settings.OUTBOX_POLL_INTERVAL_S)
        self.stdout.write("outbox relay stopped")
