"""/healthz, /readyz and /metrics for the long-running commands that serve no HTTP of their own.

run_outbox_relay and run_status_consumer start a `Probe` before their loop and call `probe.beat()` once per
round. /healthz means "the loop is turning": 200 while the last beat is younger than SWITCHYARD_HEALTH_STALL_S,
503 after, so a wedged loop is restarted rather than left running. /readyz runs the same checks as the control
plane's own /readyz (control.core.readiness). /metrics is the process's default Prometheus registry.

The server is the standard library's, in a daemon thread, bound to loopback unless told otherwise.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from control.core.readiness import is_ready, readiness_checks
from streams.observability import METRICS_UNAUTHORIZED, metrics_allowed

logger = logging.getLogger("switchyard.control.probe")


class Probe:
    """The heartbeat of one command's main loop, and the HTTP server that reports on it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        stall_after_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port  # 0 binds a free port; `port` is the bound one after start()
        self.stall_after_s = settings.HEALTH_STALL_S if stall_after_s is None else stall_after_s
        self._clock = clock
        self._last_beat = clock()  # starting counts as a beat: the loop has not had a chance to turn yet
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        """Called by the main loop once per round: it is alive."""
        self._last_beat = self._clock()

    def liveness(self) -> tuple[int, dict[str, Any]]:
        age = self._clock() - self._last_beat
        body: dict[str, Any] = {"status": "ok", "last_beat_s": round(age, 3)}
        if age <= self.stall_after_s:
            return 200, body
        return 503, {**body, "status": "stalled", "stall_after_s": self.stall_after_s}

    def readiness(self) -> tuple[int, dict[str, Any]]:
        checks = readiness_checks()
        ready = is_ready(checks)
        return (200 if ready else 503), {"status": "ok" if ready else "unavailable", "checks": checks}

    def start(self) -> Probe:
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.probe = self  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True)
        self._thread.name = f"probe-{self.port}"
        self._thread.start()
        logger.info("health probe on http://%s:%d (/healthz, /readyz, /metrics)", self.host, self.port)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = self._thread = None


class _Handler(BaseHTTPRequestHandler):
    timeout = 10  # a client that connects and sends nothing does not hold a thread for ever

    def do_GET(self) -> None:
        probe: Probe = self.server.probe  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._json(*probe.liveness())
        elif path == "/readyz":
            try:
                self._json(*probe.readiness())
            finally:
                # Django opens a connection per thread, and each request here has a thread of its own: close it.
                connections.close_all()
        elif path == "/metrics":
            if metrics_allowed(self.headers.get("Authorization"), settings.METRICS_TOKEN):
                self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
            else:
                self._json(401, METRICS_UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
        else:
            self._json(404, {"error": {"code": "not_found", "message": "try /healthz, /readyz or /metrics"}})

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("probe %s %s", self.address_string(), format % args)


def add_probe_arguments(parser: Any, *, default_port: int) -> None:
    parser.add_argument(
        "--health-port",
        type=int,
        default=default_port,
        help=f"serve /healthz, /readyz and /metrics on this port (default {default_port}); 0 disables it",
    )
    parser.add_argument(
        "--health-host",
        default=settings.HEALTH_HOST,
        help=f"address the probe binds (default {settings.HEALTH_HOST})",
    )


@contextmanager
def probe_serving(*, host: str, port: int) -> Iterator[Probe]:
    """A probe serving on host:port while the block runs. Port 0 serves nothing (beat() still works)."""
    probe = Probe(host=host, port=port)
    if port:
        try:
            probe.start()
        except OSError as exc:
            raise CommandError(
                f"cannot serve the health probe on {host}:{port}: {exc} (--health-port 0 disables it)"
            ) from exc
    try:
        yield probe
    finally:
        probe.stop()
