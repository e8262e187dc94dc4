"""The long-running status consumer: DLQ index, destination health, pipeline stats and replay progress."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from control.monitoring.consumer import StatusConsumer


class Command(BaseCommand):
    help = "Index DLQ records and follow the workers' status and replay progress until stopped (SIGTERM / Ctrl-C)."

    def handle(self, *args: object, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        consumer = StatusConsumer()
        try:
            consumer.run(stop)
        finally:
            consumer.close()
        self.stdout.write("status consumer stopped")
