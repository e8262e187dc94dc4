"""The long-running outbox relay: publishes config-topic records written by the control plane, in order."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from control.core.exceptions import KafkaUnavailable
from control.core.kafka import config_topic_spec, topics_ensure
from control.core.probe_server import add_probe_arguments, probe_serving
from control.outbox.relay import outbox_relay_drain, outbox_relay_once


class Command(BaseCommand):
    help = "Publish outbox rows to the config topic until stopped (SIGTERM / Ctrl-C); --once drains and exits."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="publish what is pending, then exit (no probe)")
        add_probe_arguments(parser, default_port=settings.OUTBOX_RELAY_HEALTH_PORT)

    def handle(self, *args: object, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        port = 0 if options["once"] else options["health_port"]
        with probe_serving(host=options["health_host"], port=port) as probe:
            self._loop(stop, probe.beat, once=options["once"])
        if not options["once"]:
            self.stdout.write("outbox relay stopped")

    def _loop(self, stop: threading.Event, beat: Callable[[], None], *, once: bool) -> None:
        topic_ready = False
        while not stop.is_set():
            beat()
            close_old_connections()
            if not topic_ready:
                try:
                    topics_ensure([config_topic_spec()])
                    topic_ready = True
                except KafkaUnavailable as exc:
                    self.stderr.write(f"waiting for Kafka: {exc.message}")
            result = None
            if topic_ready:
                # One batch a round, so the heartbeat keeps beating while a large backlog is published.
                result = outbox_relay_drain() if once else outbox_relay_once()
            if result is not None and result.published:
                self.stdout.write(f"published {result.published}; pending {result.pending}")
            if once:
                if result is None or result.error:
                    raise SystemExit(1)
                return
            if result is None or result.pending == 0 or result.published == 0 or result.error:
                stop.wait(settings.OUTBOX_POLL_INTERVAL_S)
