"""The data plane's settings, read once from SWITCHYARD_* environment variables.

Every variable is documented in .env.example. The control plane reads the same variables for the
values both planes must agree on (environment name, Kafka bootstrap).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env(name: str, default: str) -> str:
    return os.environ.get(f"SWITCHYARD_{name}", default)


@dataclass(frozen=True)
class Settings:
    env: str
    kafka_bootstrap: str
    worker_bind: str
    worker_port: int
    worker_id: str
    ingest_ack_timeout_s: float
    ingest_max_body_bytes: int
    allow_private_destinations: bool
    jsonata_engine: str
    worker_data_dir: str
    replication_factor: int
    idempotency_window_s: float
    log_format: str
    log_level: str
    metrics_token: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            env=_env("ENV", "dev"),
            kafka_bootstrap=_env("KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
            worker_bind=_env("WORKER_BIND", "127.0.0.1"),
            worker_port=int(_env("WORKER_PORT", "8001")),
            worker_id=_env("WORKER_ID", f"{os.uname().nodename}-{os.getpid()}"),
            ingest_ack_timeout_s=float(_env("INGEST_ACK_TIMEOUT_S", "10")),
            ingest_max_body_bytes=int(_env("INGEST_MAX_BODY_BYTES", str(1024 * 1024))),
            allow_private_destinations=_env("ALLOW_PRIVATE_DESTINATIONS", "false").lower() in ("1", "true", "yes"),
            jsonata_engine=_env("JSONATA_ENGINE", "jsonatapy"),
            worker_data_dir=_env("WORKER_DATA_DIR", ".local/worker-data"),
            replication_factor=int(_env("REPLICATION_FACTOR", "1")),
            idempotency_window_s=float(_env("IDEMPOTENCY_WINDOW_S", str(24 * 3600))),
            log_format=_env("LOG_FORMAT", "json"),
            log_level=_env("LOG_LEVEL", "INFO"),
            metrics_token=_env("METRICS_TOKEN", ""),
        )
