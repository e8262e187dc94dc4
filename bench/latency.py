"""Latency: HTTP ingest -> worker (transform, delivery) -> sink at a fixed offered rate, p50/p99,
against a raw aiokafka produce -> consume round trip at the same rate.

    python -m bench.latency --rate 200 --duration 20

Open loop: event i is sent at t0 + i/rate whatever happened to earlier ones. The send time is taken
just before the request, the arrival time by the sink (same host clock), matched by event id (the
ingest answer's event_id is the Idempotency-Key of the delivery).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp

from bench.common import (
    ORDER_MAPPING,
    ORDER_SCHEMA,
    UNLIMITED,
    Context,
    Result,
    main,
    payloads,
    percentile,
    settings_for,
    sink,
    worker,
)
from streams.kafka_clients import make_group_consumer, make_producer
from streams.spec import SchemaRef
from streams.topics import Variant
from tests.e2e.kit import Platform, create_topics, destination, end_offsets, event_id_of, read_topic

BENCH = "latency"


async def _paced(rate: float, count: int, send: Callable[[int], Coroutine[Any, Any, None]]) -> None:
    """Start send(i) at t0 + i/rate (open loop) and wait for all of them."""
    tasks = []
    t0 = time.perf_counter() + 0.05
    for i in range(count):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(i)))
    await asyncio.gather(*tasks)


async def ingest_at_rate(
    url: str, key: str, events: list[bytes], rate: float, *, warmup_s: float = 1.0
) -> tuple[dict[str, float], list[float]]:
    """Send times by event id, and the ingest answers' latencies (s), after `warmup_s` of the same traffic."""
    sent: dict[str, float] = {}
    acks: list[float] = []
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def send(i: int) -> None:
            started = time.time()
            async with session.post(url, data=events[i % len(events)], headers=headers) as response:
                body = await response.json()
                if response.status != 202:
                    raise RuntimeError(f"ingest answered {response.status}: {body}")
            acks.append(time.time() - started)
            sent[body["event_id"]] = started

        await _paced(rate, int(rate * warmup_s), send)  # connections opened at this rate
        sent.clear()
        acks.clear()
        await _paced(rate, len(events), send)
    return sent, acks


async def kafka_hop(
    ctx: Context, topic: str, events: list[bytes], rate: float, *, relay_to: str | None = None, commit: bool = False
) -> list[float]:
    """Produce at `rate` and time when each record reaches a consumer (worker client settings, one loop).

    With `relay_to` the consumer behaves like a stage: after each poll it produces every record onward
    and awaits the acks, and with `commit` also commits the batch, before it polls again.
    """
    settings = settings_for(ctx.bootstrap)
    producer = make_producer(settings, client_id="bench-rtt-producer")
    group = f"bench-rtt-{uuid.uuid4().hex[:8]}"
    consumer = make_group_consumer(settings, group=group, client_id=group)
    await producer.start()
    await consumer.start()
    consumer.subscribe(topics=[topic])
    sent: dict[bytes, float] = {}
    latencies: list[float] = []
    count = len(events)

    async def consume() -> None:
        while len(latencies) < count:
            batch = await consumer.getmany(timeout_ms=500)
            now = time.time()
            for records in batch.values():
                latencies.extend(now - sent[r.key] for r in records if r.key in sent)
            if relay_to and batch:
                relayed = [await producer.send(relay_to, r.value, key=r.key) for rs in batch.values() for r in rs]
                await asyncio.gather(*relayed)
                if commit:
                    await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})

    async def send(i: int) -> None:
        key = f"{i}".encode()
        sent[key] = time.time()
        await producer.send(topic, value=events[i], key=key)

    try:
        while not consumer.assignment():  # joined the group: nothing will be missed
            await consumer.getmany(timeout_ms=200)
        reader = asyncio.create_task(consume())
        await _paced(rate, count, send)
        await asyncio.wait_for(reader, 60)
    finally:
        await consumer.stop()
        await producer.stop()
    return latencies


def _row(case: str, latencies: list[float], base: tuple[float, float] | None) -> list[Result]:
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    note = f"n={len(latencies)}, max {max(latencies) * 1000:.1f} ms"
    return [
        Result(BENCH, f"{case} p50", p50, "ms", p50 / base[0] if base else None, note, baseline=base is None),
        Result(BENCH, f"{case} p99", p99, "ms", p99 / base[1] if base else None, note, baseline=base is None),
    ]


def write_times(ctx: Context, topic: str, partitions: int) -> dict[str, float]:
    """When each event's record was written to `topic` (its CreateTime, set by the worker's producer), by event id."""
    records = read_topic(ctx.bootstrap, topic, expect=end_offsets(ctx.bootstrap, topic, partitions))
    return {event_id_of(m) or "": m.timestamp()[1] / 1000 for m in records}


def _hops(
    ctx: Context, args: argparse.Namespace, platform: Platform, sent: dict[str, float], arrivals: dict[str, float]
) -> list[Result]:
    """Where the end-to-end time goes, from the records' timestamps (ms resolution)."""
    raw = write_times(ctx, platform.topic("orders", Variant.RAW), args.partitions)
    enriched = write_times(ctx, platform.topic("orders", Variant.ENRICHED), args.partitions)
    hops = {
        "HTTP send -> raw record produced (ingest)": {e: raw[e] - t for e, t in sent.items()},
        "raw -> enriched record produced (transform stage)": {e: enriched[e] - raw[e] for e in sent},
        "enriched -> sink arrival (delivery stage)": {e: arrivals[e] - enriched[e] for e in sent},
    }
    results: list[Result] = []
    for hop, values in hops.items():
        ms = [v * 1000 for v in values.values()]
        note = f"p99 {percentile(ms, 99):.1f} ms"
        results.append(Result(BENCH, f"  hop: {hop} p50", percentile(ms, 50), "ms", None, note))
    return results


def run(ctx: Context, args: argparse.Namespace) -> list[Result]:
    count = int(args.rate * args.duration)
    events = payloads(count)
    platform = Platform(ctx.bootstrap)
    platform.stream("orders", partitions=args.partitions, **UNLIMITED)
    # A fresh source topic per phase: a new consumer group reads from the start of its topic.
    rtt, hop_in, hop_in_commit, relay = (f"{platform.env}.bench.{name}.raw" for name in ("rtt", "a", "b", "relay"))
    create_topics(ctx.bootstrap, [rtt, hop_in, hop_in_commit, relay], partitions=args.partitions)
    at = f"at {args.rate:g} ev/s"
    raw = asyncio.run(kafka_hop(ctx, rtt, events, args.rate))
    results = _row(f"raw Kafka produce->consume {at}", raw, None)
    base = (results[0].value, results[1].value)
    for source, commit in ((hop_in, False), (hop_in_commit, True)):
        hop = asyncio.run(kafka_hop(ctx, source, events, args.rate, relay_to=relay, commit=commit))
        shape = "consume, produce, await acks" + (", commit each batch" if commit else "")
        results += _row(f"raw stage hop ({shape}) {at}", hop, base)

    with sink(ctx) as receiver, worker(ctx, platform) as process:
        platform.pipeline(
            "latency",
            source="orders",
            mapping=ORDER_MAPPING,
            input_schema=SchemaRef(id="orders", version=1, schema=ORDER_SCHEMA),
            destinations=[destination(f"{receiver.url}/orders", max_concurrency=args.delivery_concurrency)],
        )
        url = f"{process.url}/ingest/{platform.workspace}/orders"
        # Until one event made it through, the stages' consumer groups are still joining.
        deadline = time.monotonic() + 60
        while not receiver.stats()["unique"] and time.monotonic() < deadline:
            asyncio.run(ingest_at_rate(url, platform.key, events[:10], 20, warmup_s=0))
            time.sleep(0.5)
        time.sleep(2)
        receiver.reset()
        sent, acks = asyncio.run(ingest_at_rate(url, platform.key, events, args.rate))
        arrivals = receiver.arrivals()
        deadline = time.monotonic() + 120
        while not sent.keys() <= arrivals.keys() and time.monotonic() < deadline:
            time.sleep(0.5)
            arrivals = receiver.arrivals()
    missing = len(sent.keys() - arrivals.keys())
    if missing:
        raise RuntimeError(f"{missing} of {len(sent)} ingested events never reached the sink")
    end_to_end = [arrivals[event_id] - started for event_id, started in sent.items()]
    results += _row(f"HTTP ingest answer (202) {at}", acks, base)
    results += _row(f"ingest -> transform -> delivery {at}", end_to_end, base)
    return results + _hops(ctx, args, platform, sent, arrivals)


if __name__ == "__main__":
    sys.exit(main(BENCH, run))
