"""Shared pieces of the benchmarks: the event, the broker, the sink, the worker, CPU meters, results."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet

# Before anything imports streams.secrets or starts a worker: one platform key for the whole run.
os.environ.setdefault("SWITCHYARD_PLATFORM_KEY", Fernet.generate_key().decode())

from devkit.kafka_broker import KafkaBroker, free_port
from streams import envelope
from streams.settings import Settings
from tests.conftest import WorkerProcess
from tests.e2e.kit import Platform

ROOT = Path(__file__).resolve().parent.parent
UNLIMITED = {"rate_limit_per_s": 1e9, "rate_limit_burst": 10**9}

# An order-like event of ~1 KB (compact JSON) and what a realistic pipeline does with it.
ORDER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "type", "created_at", "customer", "items", "currency", "shipping"],
    "properties": {
        "id": {"type": "string", "pattern": "^ord-[0-9]+$"},
        "type": {"enum": ["order.created", "order.updated", "order.cancelled"]},
        "created_at": {"type": "string", "format": "date-time"},
        "customer": {
            "type": "object",
            "required": ["id", "name", "email"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string", "minLength": 1},
                "email": {"type": "string", "format": "email"},
                "tier": {"enum": ["standard", "silver", "gold"]},
            },
        },
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["sku", "price", "quantity"],
                "properties": {
                    "sku": {"type": "string", "pattern": "^SKU-[0-9]{5}$"},
                    "name": {"type": "string"},
                    "price": {"type": "number", "minimum": 0},
                    "quantity": {"type": "integer", "minimum": 1},
                },
            },
        },
        "currency": {"type": "string", "minLength": 3, "maxLength": 3},
        "shipping": {
            "type": "object",
            "required": ["method", "address"],
            "properties": {
                "method": {"enum": ["standard", "express"]},
                "address": {"type": "object", "required": ["city", "country"]},
            },
        },
    },
}

ORDER_MAPPING = """{
  "order_id": id,
  "customer_id": customer.id,
  "customer": customer.name,
  "email": $lowercase(customer.email),
  "items": $count(items),
  "skus": items.sku,
  "total": $round($sum(items.(price * quantity)), 2),
  "currency": $uppercase(currency),
  "ship_to": shipping.address.city & ", " & shipping.address.country,
  "express": shipping.method = "express"
}"""


def order_event(i: int) -> dict[str, Any]:
    items = [
        {
            "sku": f"SKU-{(i * 7 + k) % 100000:05d}",
            "name": ["Espresso beans 1kg", "Ceramic mug", "Milk frother", "Paper filters x100"][k],
            "price": round(4.5 + 3.25 * k + (i % 10) / 10, 2),
            "quantity": 1 + (i + k) % 3,
        }
        for k in range(4)
    ]
    return {
        "id": f"ord-{i:08d}",
        "type": "order.created",
        "created_at": "2025-11-03T10:15:30.123Z",
        "customer": {
            "id": f"cus-{i % 997:05d}",
            "name": "Ada Lovelace",
            "email": "Ada.Lovelace@example.com",
            "tier": "gold",
        },
        "items": items,
        "currency": "eur",
        "shipping": {
            "method": "express" if i % 2 else "standard",
            "address": {"line1": "12 Analytical Engine Road", "city": "London", "postcode": "NW1 6XE", "country": "GB"},
        },
        "payment": {"method": "card", "status": "authorized", "card_last4": "4242", "reference": f"pay-{i:012d}"},
        "channel": "web",
        "notes": "Leave at the front desk if nobody answers. Fragile items inside.",
        "tags": ["first-order", "newsletter", "promo-autumn"],
        "metadata": {"ip": "203.0.113.42", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0", "session": i},
    }


def payloads(n: int) -> list[bytes]:
    return [json.dumps(order_event(i), separators=(",", ":")).encode() for i in range(n)]


def headers_for(i: int, pipeline: str | None = None) -> envelope.Headers:
    headers = envelope.ingest_headers(event_id=f"bench-{i:08d}", correlation_id=f"corr-{i}", source="bench")
    if pipeline is not None:
        headers.append((envelope.PIPELINE, pipeline.encode()))
    return headers


def settings_for(bootstrap: str) -> Settings:
    return dataclasses.replace(Settings.from_env(), kafka_bootstrap=bootstrap)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


# --- processes ---------------------------------------------------------------------------------


@dataclass
class Context:
    """What every benchmark shares: the broker, a scratch directory, and the processes to meter."""

    bootstrap: str
    workdir: Path
    pids: dict[str, int] = field(default_factory=dict)


@contextmanager
def context(bootstrap: str | None = None, workdir: Path | None = None) -> Iterator[Context]:
    """A broker (the given one, else a fresh one) and a directory for its data and the worker logs.

    Without `workdir` the directory is temporary and removed at the end; with it, it is kept.
    """
    with tempfile.TemporaryDirectory(prefix="switchyard-bench-") as tmp:
        base = workdir or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        if bootstrap:
            yield Context(bootstrap=bootstrap, workdir=base)
            return
        broker = KafkaBroker(data_dir=base / "kafka").start()
        try:
            pid = broker._process.pid if broker._process else None
            yield Context(bootstrap=broker.bootstrap, workdir=base, pids={"kafka": pid} if pid else {})
        finally:
            broker.stop()


@contextmanager
def worker(ctx: Context, platform: Platform) -> Iterator[WorkerProcess]:
    """A real `faust -A streams.app worker` for the platform's environment, metered as "worker"."""
    process = WorkerProcess(env=platform.env, bootstrap=ctx.bootstrap, log_dir=ctx.workdir)
    try:
        process.start()  # stopped below even when it never became ready
        if process._process is not None:
            ctx.pids["worker"] = process._process.pid
        yield process
    finally:
        ctx.pids.pop("worker", None)
        process.stop()


class Sink:
    """bench/sink.py in its own process, so its CPU never competes with the client's event loop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process = subprocess.Popen([sys.executable, "-m", "bench.sink", "--port", str(self.port)], cwd=ROOT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                self.stats()
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the sink did not start")

    @property
    def pid(self) -> int:
        return self._process.pid

    def stats(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.url}/_sink/stats", timeout=10).json())

    def arrivals(self) -> dict[str, float]:
        return dict(requests.get(f"{self.url}/_sink/arrivals", timeout=30).json())

    def reset(self) -> None:
        requests.post(f"{self.url}/_sink/reset", timeout=10).raise_for_status()

    def wait_for(self, count: int, *, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        stats = self.stats()
        while stats["unique"] < count and time.monotonic() < deadline:
            time.sleep(0.2)
            stats = self.stats()
        if stats["unique"] < count:
            raise RuntimeError(f"only {stats['unique']} of {count} events reached the sink within {timeout}s")
        return stats

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


@contextmanager
def sink(ctx: Context) -> Iterator[Sink]:
    running = Sink()
    ctx.pids["sink"] = running.pid
    try:
        yield running
    finally:
        ctx.pids.pop("sink", None)
        running.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by this process and every process in ctx.pids between start() and stop()."""

    def __init__(self, ctx: Context) -> None:
        self._pids = {"bench": os.getpid(), **ctx.pids}
        self._start: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def start(self) -> CpuMeter:
        self._start = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        return self

    def stop(self) -> dict[str, float]:
        self.used = {name: cpu_seconds(pid) - self._start[name] for name, pid in self._pids.items()}
        return self.used

    def note(self, events: int) -> str:
        total = sum(self.used.values())
        parts = ", ".join(f"{name} {seconds:.1f}" for name, seconds in self.used.items())
        return f"CPU-s: {parts}; {1000 * total / max(events, 1):.2f} CPU-ms/event"


class Stopwatch:
    """Wall time and CPU (see CpuMeter) of one measured section."""

    def __init__(self, ctx: Context) -> None:
        self.meter = CpuMeter(ctx)
        self.elapsed = 0.0
        self._started = 0.0

    def start(self) -> Stopwatch:
        self.meter.start()
        self._started = time.perf_counter()
        return self

    def stop(self) -> float:
        self.elapsed = time.perf_counter() - self._started
        self.meter.stop()
        return self.elapsed


# --- results -----------------------------------------------------------------------------------


@dataclass
class Result:
    """One measured case. `ratio` is to the benchmark's raw baseline (for latency: x times the baseline's)."""

    bench: str
    case: str
    value: float
    unit: str
    ratio: float | None = None
    note: str = ""
    baseline: bool = False


def best_of(repeat: int, measure: Callable[[], Stopwatch]) -> Stopwatch:
    """The fastest of `repeat` runs: on a shared machine, the run least disturbed by other work."""
    return min((measure() for _ in range(max(1, repeat))), key=lambda watch: watch.elapsed)


def table(results: list[Result]) -> str:
    lines = ["| bench | case | result | ratio to baseline | notes |", "|---|---|---|---|---|"]
    for r in results:
        ratio = "baseline" if r.baseline else "" if r.ratio is None else f"{r.ratio:.2f}x"
        value = f"{r.value:,.0f} {r.unit}" if r.value >= 100 else f"{r.value:,.1f} {r.unit}"
        lines.append(f"| {r.bench} | {r.case} | {value} | {ratio} | {r.note} |")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bootstrap", default=os.environ.get("SWITCHYARD_BENCH_BOOTSTRAP"), help="use this broker")
    parser.add_argument("--events", type=int, default=10_000, help="events per throughput case")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each in-process case; the fastest counts")
    parser.add_argument("--partitions", type=int, default=2, help="partitions of every benchmark topic")
    parser.add_argument("--concurrency", type=int, default=32, help="HTTP ingest requests in flight")
    parser.add_argument("--batch", type=int, default=100, help="events per batched ingest request")
    parser.add_argument("--batch-concurrency", type=int, default=4, help="batched ingest requests in flight")
    parser.add_argument("--delivery-concurrency", type=int, default=10, help="deliveries in flight (C)")
    parser.add_argument("--rate", type=float, default=200.0, help="offered rate of the latency benchmark, events/s")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of the latency benchmark")
    parser.add_argument("--no-e2e", action="store_true", help="skip the secondary worker end-to-end cases")
    parser.add_argument("--workdir", type=Path, help="keep the broker data and worker logs here (default: temporary)")


def stop_on_sigterm() -> None:
    """`kill <pid>` unwinds like Ctrl-C, so the worker, the sink and the broker are stopped too."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def main(bench: str, run: Any, argv: list[str] | None = None) -> int:
    """Run one benchmark module on its own: `python -m bench.<name> [flags]`."""
    parser = argparse.ArgumentParser(description=f"Switchyard benchmark: {bench}")
    add_arguments(parser)
    args = parser.parse_args(argv)
    stop_on_sigterm()
    with context(args.bootstrap, args.workdir) as ctx:
        results = run(ctx, args)
    print(table(results))
    return 0
