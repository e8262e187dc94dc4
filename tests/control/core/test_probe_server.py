"""The probe server of the long-running commands: /healthz follows the loop's heartbeat, /readyz the real
database and broker, and each command serves both as a real subprocess until SIGTERM."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.core.management.base import CommandError

from control.core.probe_server import Probe, probe_serving
from devkit.kafka_broker import free_port
from tests.conftest import ROOT, wait_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def probe(clock: FakeClock) -> Iterator[Probe]:
    started = Probe(port=0, stall_after_s=60, clock=clock).start()
    try:
        yield started
    finally:
        started.stop()


def _get(probe: Probe, path: str) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{probe.port}{path}", timeout=10)


def test_healthz_is_ok_while_the_loop_beats_and_503_once_it_stalls(probe: Probe, clock: FakeClock) -> None:
    assert probe.port != 0  # bound a free port
    ok = _get(probe, "/healthz")
    assert ok.status_code == 200 and ok.json() == {"status": "ok", "last_beat_s": 0.0}
    clock.now += 59
    assert _get(probe, "/healthz").status_code == 200
    clock.now += 2
    stalled = _get(probe, "/healthz")
    assert stalled.status_code == 503
    assert stalled.json() == {"status": "stalled", "last_beat_s": 61.0, "stall_after_s": 60}
    probe.beat()
    assert _get(probe, "/healthz").json() == {"status": "ok", "last_beat_s": 0.0}


def test_unknown_path_is_404_json_and_metrics_is_the_default_registry(probe: Probe) -> None:
    missing = _get(probe, "/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    metrics = _get(probe, "/metrics")
    assert metrics.status_code == 200 and metrics.headers["Content-Type"].startswith("text/plain")
    assert "python_info" in metrics.text


@pytest.mark.integration
@pytest.mark.django_db
def test_readyz_checks_the_real_database_and_broker(probe: Probe, platform_env, settings) -> None:  # type: ignore[no-untyped-def]
    ready = _get(probe, "/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "kafka": "ok"}}

    settings.KAFKA_BOOTSTRAP = f"127.0.0.1:{free_port()}"  # nothing listens there
    down = _get(probe, "/readyz")
    assert down.status_code == 503
    body = down.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["kafka"].startswith("unreachable")


def test_a_port_in_use_is_a_clear_command_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serving = probe_serving(host="127.0.0.1", port=port)
        with pytest.raises(CommandError, match="--health-port 0 disables it"), serving:
            pass


# --- the commands, as real subprocesses ----------------------------------------------------------------------------

STALL_S = 3.0


@pytest.fixture(scope="module")
def command_env(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What a production command gets: its own environment name, a migrated database file, the test broker."""
    database = tmp_path_factory.mktemp("probe") / "control.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "control.settings",
        "SWITCHYARD_ENV": f"t{uuid.uuid4().hex[:10]}",
        "SWITCHYARD_SECRET_KEY": secrets.token_urlsafe(50),
        "SWITCHYARD_DATABASE_URL": f"sqlite:///{database}",
        "SWITCHYARD_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "SWITCHYARD_LOG_FORMAT": "text",
        # Short, so the test sees the loop keep beating past it (each round of both loops takes about 1 s).
        "SWITCHYARD_HEALTH_STALL_S": str(STALL_S),
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120)
    return env


def _open_files(pid: int, path: str) -> int:
    fds = Path(f"/proc/{pid}/fd")
    return sum(1 for fd in fds.iterdir() if os.path.realpath(fd) == path)


@pytest.mark.integration
@pytest.mark.parametrize("command", ["run_outbox_relay", "run_status_consumer"])
def test_command_serves_healthz_and_readyz_and_stops_cleanly_on_sigterm(
    command: str, command_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    log_path = tmp_path / f"{command}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", command, "--health-port", str(port)],
            cwd=ROOT,
            env=command_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def answers(path: str) -> requests.Response | None:
        assert process.poll() is None, f"{command} exited with {process.returncode}:\n{log_path.read_text()}"
        try:
            response = requests.get(url + path, timeout=10)
        except requests.ConnectionError:
            return None
        return response if response.status_code == 200 else None

    try:
        wait_for(lambda: answers("/healthz"), timeout=20, what=f"{command} /healthz")
        ready = wait_for(lambda: answers("/readyz"), timeout=20, what=f"{command} /readyz")
        assert ready.json() == {"status": "ok", "checks": {"database": "ok", "kafka": "ok"}}
        for _ in range(5):
            assert answers("/readyz") is not None
        # Each request runs in a thread of its own: its database connection is closed, not left to the GC.
        assert _open_files(process.pid, command_env["SWITCHYARD_DATABASE_URL"].removeprefix("sqlite:///")) <= 1
        time.sleep(STALL_S + 1)  # longer than the stall limit: only a loop that keeps beating is still healthy
        health = answers("/healthz")
        assert health is not None, f"{command} stopped beating:\n{log_path.read_text()}"
        assert health.json()["status"] == "ok" and health.json()["last_beat_s"] < STALL_S
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0, log_path.read_text()
        with pytest.raises(requests.ConnectionError):  # the probe went with it
            requests.get(url + "/healthz", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_metrics_needs_the_bearer_token_once_one_is_set(probe: Probe, settings) -> None:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = "s3cret-metrics"
    refused = _get(probe, "/metrics")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    url = f"http://{probe.host}:{probe.port}/metrics"
    allowed = requests.get(url, headers={"Authorization": "Bearer s3cret-metrics"}, timeout=10)
    assert allowed.status_code == 200 and "python_info" in allowed.text
