"""The long-running status consumer: DLQ index, destination health, pipeline stats and replay progress."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from control.core.probe_server import add_probe_arguments, probe_serving
from control.monitoring.consumer import StatusConsumer


class Command(BaseCommand):
    help = "Index DLQ records and follow the workers' status and replay progress until stopped (SIGTERM / Ctrl-C)."

    def add_arguments(self, parser: Any) -> None:
        add_probe_arguments(parser, default_port=settings.STATUS_CONSUMER_HEALTH_PORT)

    def handle(self, *args: object, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        with probe_serving(host=options["health_host"], port=options["health_port"]) as probe:
            consumer = StatusConsumer()
            try:
                consumer.run(stop, on_beat=probe.beat)
            finally:
                consumer.close()
        self.stdout.write("status consumer stopped")
