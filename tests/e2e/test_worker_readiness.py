"""The worker's /readyz follows Kafka: a broker of its own, stopped under a running worker."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from devkit.kafka_broker import KafkaBroker
from tests.conftest import WorkerProcess, wait_for
from tests.e2e.kit import Platform

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_readyz_says_when_kafka_stops_answering(tmp_path: Path) -> None:
    broker = KafkaBroker().start()
    platform = Platform(broker.bootstrap)  # the environment's config topic
    worker = WorkerProcess(env=platform.env, bootstrap=broker.bootstrap, log_dir=tmp_path)
    try:
        worker.start()
        ready = requests.get(f"{worker.url}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["kafka"] is True

        broker.stop()
        # (a 503 Response is falsy, hence the JSON)
        answer = wait_for(
            lambda: (r := requests.get(f"{worker.url}/readyz", timeout=10)).status_code == 503 and r.json(),
            timeout=30,
            what="/readyz to say Kafka is gone",
        )
        assert answer["kafka"] is False
        assert requests.get(f"{worker.url}/healthz", timeout=10).status_code == 200  # alive: no restart needed
    finally:
        worker.stop()
        broker.stop()
