"""`make up`: the whole platform on one machine, with a demo workspace whose delivery you can watch.

Starts Kafka (data kept in .local/kafka), migrates the SQLite database, creates the admin user and
the demo pipeline (idempotently), then runs the control plane, the outbox relay, the status consumer, a worker and
the demo receiver under honcho. Ctrl-C stops every process it started, Kafka last.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from honcho.manager import Manager

from devkit.kafka_broker import KafkaBroker, KafkaBrokerError

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"


def _port(name: str, default: int) -> int:
    return int(os.environ.get(f"SWITCHYARD_{name}", default))


def main() -> int:
    control_port = _port("CONTROL_PORT", 8000)
    worker_port = _port("WORKER_PORT", 8001)
    receiver_port = _port("RECEIVER_PORT", 8002)
    # The probe servers (/healthz, /readyz, /metrics) of the relay and the status consumer; the same variables as
    # control/settings.py reads.
    probe_ports = {"relay": _port("RELAY_HEALTH_PORT", 8011), "status": _port("STATUS_HEALTH_PORT", 8012)}
    kafka = KafkaBroker(
        data_dir=LOCAL / "kafka", port=_port("KAFKA_PORT", 9092), controller_port=_port("KAFKA_CONTROLLER_PORT", 9093)
    )
    print(f"starting Kafka on 127.0.0.1:{kafka.port} (data in {kafka.data_dir}) ...", flush=True)
    try:
        kafka.start()
    except KafkaBrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        return _run(kafka, control_port, worker_port, receiver_port, probe_ports)
    finally:
        print("stopping Kafka ...", flush=True)
        kafka.stop()


def _run(
    kafka: KafkaBroker, control_port: int, worker_port: int, receiver_port: int, probe_ports: dict[str, int]
) -> int:
    env = {
        **os.environ,
        "SWITCHYARD_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "SWITCHYARD_WORKER_PORT": str(worker_port),
        "SWITCHYARD_WORKER_DATA_DIR": str(LOCAL / "worker-data"),
        # The demo receiver listens on loopback, which the SSRF guard refuses unless allowed.
        "SWITCHYARD_ALLOW_PRIVATE_DESTINATIONS": "true",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the worker must not set Django up (faust has a Django fixup)
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
    receiver_url = f"http://127.0.0.1:{receiver_port}/demo/orders"
    subprocess.run([*manage, "demo_setup", "--receiver-url", receiver_url], env=env, cwd=ROOT, check=True)
    key_file = LOCAL / "demo-ingest-key"
    demo_key = key_file.read_text().strip() if key_file.exists() else "<the demo ingest key>"

    print(
        f"""
Switchyard is up
  control plane   http://127.0.0.1:{control_port}/       admin: http://127.0.0.1:{control_port}/admin/
  API             http://127.0.0.1:{control_port}/api/v1/   docs: http://127.0.0.1:{control_port}/api/v1/docs/
  ingest (worker) http://127.0.0.1:{worker_port}/ingest/<workspace>/<stream>
  demo receiver   http://127.0.0.1:{receiver_port}/       (lists what it received)
  outbox relay    http://127.0.0.1:{probe_ports["relay"]}/healthz    /readyz, /metrics
  status consumer http://127.0.0.1:{probe_ports["status"]}/healthz    /readyz, /metrics
  Kafka           {kafka.bootstrap}                  (log: {kafka.log_file})

Send a first event (it is transformed by the demo pipeline and shows up in the receiver's log below):
  curl -i -X POST http://127.0.0.1:{worker_port}/ingest/demo/orders -H 'Content-Type: application/json' \\
    -H 'Authorization: Bearer {demo_key}' \\
    -d '{{"id": "o-1", "customer": {{"name": "Ada"}}, "items": [{{"price": 2.5, "quantity": 2}}], "currency": "eur"}}'

Ctrl-C stops everything; the data (topics, database) is kept for the next `make up`.
""",
        flush=True,
    )
    manager = Manager()
    manager.add_process(
        "control", f"{python} manage.py runserver 127.0.0.1:{control_port} --noreload", env=env, cwd=str(ROOT)
    )
    # Publishes the control plane's spec changes (outbox) to the config topic, including after a Kafka outage.
    relay = f"{python} manage.py run_outbox_relay --health-port {probe_ports['relay']}"
    manager.add_process("relay", relay, env=env, cwd=str(ROOT))
    # Indexes DLQ records and follows the workers' status and replay progress (DLQ browser, replay jobs, dashboard).
    status = f"{python} manage.py run_status_consumer --health-port {probe_ports['status']}"
    manager.add_process("status", status, env=env, cwd=str(ROOT))
    faust = Path(python).parent / "faust"
    manager.add_process("worker", f"{faust} -A streams.app worker -l info", env=env, cwd=str(ROOT))
    manager.add_process("receiver", f"{python} -m devkit.receiver --port {receiver_port}", env=env, cwd=str(ROOT))
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
