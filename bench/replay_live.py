"""Live latency while a replay runs: does a big replay starve live traffic?

    python -m bench.replay_live --events 20000 --rate 200 --duration 20

One worker, one pipeline. Its first revision fails every event, so `--events` orders land in the DLQ;
the second revision is good. Then live orders are sent at `--rate` for `--duration` seconds, four times:
with no replay (the baseline), during a re-transform replay of the whole DLQ that waits for live
traffic (`live_lag_limit` 1000, then 200, the default), and during the same replay with the wait
switched off (only the job's rate limit, set far above what the worker can take). Live latency is HTTP send ->
sink arrival, p50/p99, as a ratio to the baseline; the replay's time is command -> last replayed
event at the sink.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid

import aiohttp

from bench.common import ORDER_MAPPING, UNLIMITED, Context, Result, main, payloads, percentile, sink, worker
from bench.latency import ingest_at_rate
from streams.replay import RETRANSFORM, ReplayCommand
from streams.topics import Variant
from tests.e2e.kit import Platform, destination, dlq_end_offsets, end_offsets, send_command, wait_applied

BENCH = "replay_live"
NO_WAIT = 10**12


async def ingest_batches(url: str, key: str, events: list[bytes], *, batch: int = 100) -> list[str]:
    """The backlog, sent as JSON arrays; returns the event ids."""
    ids: list[str] = []
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        for start in range(0, len(events), batch):
            body = b"[" + b",".join(events[start : start + batch]) + b"]"
            async with session.post(url, data=body, headers=headers) as response:
                answer = await response.json()
                if response.status != 202:
                    raise RuntimeError(f"ingest answered {response.status}: {answer}")
                ids += answer["event_ids"]
    return ids


def _wait(predicate, what: str, timeout: float = 300) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.5)


def run(ctx: Context, args: argparse.Namespace) -> list[Result]:
    platform = Platform(ctx.bootstrap)
    platform.stream("orders", partitions=args.partitions, **UNLIMITED)
    dlq = platform.topic("orders", Variant.DLQ)
    live_count = int(args.rate * args.duration)
    events = payloads(args.events + live_count)
    backlog, live = events[: args.events], events[args.events :]
    results: list[Result] = []
    with sink(ctx) as receiver, worker(ctx, platform) as process:
        dest = [destination(f"{receiver.url}/orders", max_concurrency=args.delivery_concurrency)]
        platform.pipeline("replayed", source="orders", mapping='$error("not yet")', destinations=dest)
        url = f"{process.url}/ingest/{platform.workspace}/orders"
        backlog_ids = set(asyncio.run(ingest_batches(url, platform.key, backlog)))
        _wait(lambda: end_offsets(ctx.bootstrap, dlq, args.partitions) >= args.events, "the backlog in the DLQ")
        platform.pipeline("replayed", source="orders", mapping=ORDER_MAPPING, destinations=dest, revision=2)
        wait_applied(process.url, "replayed", 2)
        asyncio.run(ingest_at_rate(url, platform.key, live[:50], 50, warmup_s=0))  # the stages' groups have joined
        receiver.wait_for(50, timeout=60)

        base: tuple[float, float] | None = None
        for case, limit in (
            ("no replay", None),
            ("during a replay that waits for live traffic (live_lag_limit 1000)", 1000),
            ("during a replay that waits for live traffic (live_lag_limit 200, the default)", 200),
            ("during a replay without the wait (rate limit only)", NO_WAIT),
        ):
            receiver.reset()
            started = time.time()
            if limit is not None:
                command = ReplayCommand(
                    job_id=f"bench-{uuid.uuid4().hex[:8]}",
                    action="run",
                    dlq_topic=dlq,
                    target=RETRANSFORM,
                    end_offsets=dlq_end_offsets(ctx.bootstrap, dlq, args.partitions),
                    rate_per_s=1e6,
                    live_lag_limit=limit,
                )
                send_command(platform, command)
            sent, _ = asyncio.run(ingest_at_rate(url, platform.key, live, args.rate, warmup_s=0))
            wanted = set(sent) | (backlog_ids if limit is not None else set())
            _wait(lambda w=wanted: w <= receiver.arrivals().keys(), f"{case}: every event at the sink", timeout=600)
            arrivals = receiver.arrivals()
            latencies = [arrivals[e] - t for e, t in sent.items()]
            p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
            note = f"n={len(latencies)}, max {max(latencies) * 1000:.0f} ms"
            if limit is not None:
                replay_s = max(arrivals[e] for e in backlog_ids) - started
                note += f"; {args.events} replayed in {replay_s:.1f} s ({args.events / replay_s:,.0f} ev/s)"
            results += [
                Result(BENCH, f"live p50 {case}", p50, "ms", p50 / base[0] if base else None, note, base is None),
                Result(BENCH, f"live p99 {case}", p99, "ms", p99 / base[1] if base else None, note, base is None),
            ]
            if base is None:
                base = (p50, p99)
    return results


if __name__ == "__main__":
    sys.exit(main(BENCH, run))
