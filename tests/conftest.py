"""Shared fixtures: the real Kafka broker, an isolated environment name, a worker process, a receiver."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from devkit.kafka_broker import KafkaBroker, free_port
from devkit.receiver import ReceiverThread

ROOT = Path(__file__).resolve().parent.parent

# One platform key for the whole run, inherited by every worker process the tests start.
os.environ.setdefault("SWITCHYARD_PLATFORM_KEY", Fernet.generate_key().decode())


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The broker every integration test uses: SWITCHYARD_KAFKA_BOOTSTRAP if set, else one we start."""
    given = os.environ.get("SWITCHYARD_KAFKA_BOOTSTRAP")
    if given:
        yield given
        return
    broker = KafkaBroker().start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def platform_env(kafka_bootstrap: str, settings) -> str:  # type: ignore[no-untyped-def]
    """A fresh environment name per test, so topics and consumer groups never collide between tests."""
    env = f"t{uuid.uuid4().hex[:10]}"
    settings.SWITCHYARD_ENV = env
    settings.KAFKA_BOOTSTRAP = kafka_bootstrap
    settings.KAFKA_TIMEOUT_S = 15.0
    # Tests deliver to receivers on loopback, which the control plane refuses unless allowed explicitly.
    settings.DESTINATION_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    settings.OUTBOX_PUBLISH_ON_COMMIT = False  # tests run the outbox relay themselves (outbox_relay_drain)
    from control.core import kafka

    kafka._producer = None  # the producer is bound to a bootstrap address
    kafka.topics_ensure([kafka.config_topic_spec()])
    return env


@pytest.fixture
def receiver() -> Iterator[ReceiverThread]:
    thread = ReceiverThread(free_port()).start()
    try:
        yield thread
    finally:
        thread.stop()


class WorkerProcess:
    """`faust -A streams.app worker` as a real subprocess, as production runs it."""

    def __init__(self, *, env: str, bootstrap: str, log_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log_path = log_dir / f"worker-{self.port}.log"
        self.url = f"http://127.0.0.1:{self.port}"
        # Without DJANGO_SETTINGS_MODULE: faust's Django fixup would otherwise set Django up in the
        # worker, and workers never touch the control plane's database.
        inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        self._env = {
            **inherited,
            "SWITCHYARD_ENV": env,
            "SWITCHYARD_KAFKA_BOOTSTRAP": bootstrap,
            "SWITCHYARD_WORKER_PORT": str(self.port),
            "SWITCHYARD_WORKER_DATA_DIR": str(log_dir / f"worker-data-{self.port}"),
            "SWITCHYARD_ALLOW_PRIVATE_DESTINATIONS": "true",
            **(extra_env or {}),
        }
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> WorkerProcess:
        faust = Path(sys.executable).parent / "faust"
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [str(faust), "-A", "streams.app", "worker", "-l", "info"],
                cwd=ROOT,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"worker exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"worker not ready within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final commit — what a crash or an OOM kill looks like."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


@pytest.fixture
def worker(platform_env: str, kafka_bootstrap: str, tmp_path: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(env=platform_env, bootstrap=kafka_bootstrap, log_dir=tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def wait_for(predicate, *, timeout: float = 60.0, interval: float = 0.2, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll until `predicate()` is truthy and return its value, or fail saying what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")
