"""The worker's own endpoints: /metrics behind its token, and /readyz following Kafka (a broker of its own,
stopped under the running worker)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from devkit.kafka_broker import KafkaBroker
from tests.conftest import WorkerProcess, wait_for
from tests.e2e.kit import Platform

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_metrics_token_and_readyz_when_kafka_stops_answering(tmp_path: Path) -> None:
    broker = KafkaBroker().start()
    platform = Platform(broker.bootstrap)  # the environment's config topic
    worker = WorkerProcess(
        env=platform.env,
        bootstrap=broker.bootstrap,
        log_dir=tmp_path,
        extra_env={"SWITCHYARD_METRICS_TOKEN": "s3cret-metrics"},
    )
    try:
        worker.start()
        refused = requests.get(f"{worker.url}/metrics", timeout=10)
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
        metrics = requests.get(f"{worker.url}/metrics", headers={"Authorization": "Bearer s3cret-metrics"}, timeout=10)
        assert metrics.status_code == 200 and "switchyard_ingest_requests_total" in metrics.text

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
