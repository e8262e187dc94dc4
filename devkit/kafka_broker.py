"""A single-node Apache Kafka (KRaft) broker run from the official jars on Maven Central.

Used by `make up` (data kept between runs) and by the test suite (a throwaway data directory).
No Docker: Maven fetches the jars named in devkit/kafka/pom.xml once into .cache/kafka/, and the
broker runs as a plain `java` process whose own output goes to a log file.

    python -m devkit.kafka_broker fetch          # download the jars (idempotent)
    python -m devkit.kafka_broker run --data-dir .local/kafka --port 9092
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger("switchyard.devkit.kafka")

ROOT = Path(__file__).resolve().parent.parent
POM_DIR = Path(__file__).resolve().parent / "kafka"
CACHE_DIR = Path(os.environ.get("SWITCHYARD_KAFKA_CACHE", ROOT / ".cache" / "kafka"))
KAFKA_VERSION = "4.1.1"


class KafkaBrokerError(RuntimeError):
    """The local broker could not be fetched, formatted or started."""


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise KafkaBrokerError(f"`{tool}` was not found on PATH. {hint}")
    return path


def libs_dir() -> Path:
    return CACHE_DIR / KAFKA_VERSION / "libs"


def fetch_jars() -> Path:
    """Copy the Kafka runtime jars from Maven Central into the cache, once."""
    target = libs_dir()
    marker = target / ".complete"
    if marker.exists():
        return target
    mvn = _require("mvn", "Install Maven (Debian: apt-get install maven) to fetch the Kafka jars.")
    _require("java", "Install Java 17+ (Debian: apt-get install openjdk-17-jre-headless).")
    target.mkdir(parents=True, exist_ok=True)
    cmd = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(POM_DIR / "pom.xml"),
        f"-Dkafka.version={KAFKA_VERSION}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={target}",
        "-DincludeScope=runtime",
    ]
    logger.info("fetching Kafka %s jars with Maven into %s", KAFKA_VERSION, target)
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise KafkaBrokerError(f"Maven could not fetch the Kafka jars:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    marker.touch()
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_properties(*, port: int, controller_port: int, log_dirs: Path) -> str:
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={log_dirs}",
            # One node: every internal topic has one replica.
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            # Topics are provisioned explicitly by the platform; auto-creation would hide mistakes.
            "auto.create.topics.enable=false",
            "num.partitions=1",
            "",
        ]
    )


@dataclass
class KafkaBroker:
    """One KRaft broker process. `data_dir=None` means a throwaway directory removed on stop."""

    data_dir: Path | None = None
    port: int | None = None
    controller_port: int | None = None
    heap: str = "512m"
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _tmp: Path | None = field(default=None, init=False, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self._dir / "kafka.log"

    @property
    def _dir(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="switchyard-kafka-"))
        return self._tmp

    def start(self, timeout: float = 90.0) -> KafkaBroker:
        java = _require("java", "Install Java 17+ (Debian: apt-get install openjdk-17-jre-headless).")
        libs = fetch_jars()
        self.port = self.port or free_port()
        self.controller_port = self.controller_port or free_port()
        base = self._dir
        base.mkdir(parents=True, exist_ok=True)
        log_dirs = base / "data"
        props = base / "server.properties"
        # Ports may differ between runs; the storage (cluster id, topics) is what is kept.
        props.write_text(_server_properties(port=self.port, controller_port=self.controller_port, log_dirs=log_dirs))
        classpath = f"{libs}/*"
        jvm = [
            java,
            f"-Xmx{self.heap}",
            f"-Dlog4j2.configurationFile={POM_DIR / 'log4j2.properties'}",
            f"-Dkafka.log.file={self.log_file}",
            "-cp",
            classpath,
        ]
        if not (log_dirs / "meta.properties").exists():
            fmt = subprocess.run(
                [*jvm, "kafka.tools.StorageTool", "format", "-t", _cluster_id(), "-c", str(props)],
                capture_output=True,
                text=True,
            )
            if fmt.returncode != 0:
                raise KafkaBrokerError(f"formatting Kafka storage failed:\n{fmt.stdout}{fmt.stderr}")
        with open(base / "kafka.stdout", "ab") as out:
            self._process = subprocess.Popen(
                [*jvm, "kafka.Kafka", str(props)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop Kafka cleanly.
            )
        self._wait_ready(timeout)
        logger.info("Kafka %s ready on %s (log: %s)", KAFKA_VERSION, self.bootstrap, self.log_file)
        return self

    def _wait_ready(self, timeout: float) -> None:
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + timeout
        # log_level 0: connection-refused noise while the JVM starts is expected, not worth printing.
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "socket.timeout.ms": 2000, "log_level": 0})
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise KafkaBrokerError(f"Kafka exited with code {self._process.returncode}; see {self.log_file}")
            try:
                metadata = admin.list_topics(timeout=2)
                if metadata.brokers:
                    return
            except Exception as exc:  # the broker is not answering yet: keep polling until the deadline
                last_error = exc
            time.sleep(0.3)
        self.stop()
        raise KafkaBrokerError(
            f"Kafka did not answer a metadata request within {timeout}s ({last_error}); see {self.log_file}"
        )

    def stop(self, timeout: float = 30.0) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # controlled shutdown
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _cluster_id() -> str:
    # KRaft wants a base64url-encoded 16-byte UUID, as `kafka-storage random-uuid` prints.
    import base64

    # Like Kafka's own Uuid.randomUuid(), never one starting with "-": the storage tool would read it as an
    # option ("--cluster-id: expected one argument"), which failed one broker start in 64.
    while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"):
        pass
    return cluster_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download the Kafka jars into .cache/kafka")
    run = sub.add_parser("run", help="run a broker in the foreground until Ctrl-C")
    run.add_argument("--data-dir", type=Path, default=ROOT / ".local" / "kafka")
    run.add_argument("--port", type=int, default=9092)
    run.add_argument("--controller-port", type=int, default=9093)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.command == "fetch":
            print(fetch_jars())
            return 0
        broker = KafkaBroker(data_dir=args.data_dir, port=args.port, controller_port=args.controller_port).start()
    except KafkaBrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        signal.sigwait(stop_signals)
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
