"""Ingest: raw aiokafka produce vs HTTP ingest through a real worker (one event per request, and batches).

    python -m bench.ingest --events 10000 --concurrency 32 --batch 100

Clients are started (connections, metadata, producer id) and warmed up before the clock starts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import aiohttp

from bench.common import UNLIMITED, Context, Result, Stopwatch, best_of, main, payloads, settings_for, worker
from streams.kafka_clients import make_producer
from streams.topics import Variant
from tests.e2e.kit import Platform, create_topics, end_offsets

BENCH = "ingest"


async def raw_produce(ctx: Context, topic: str, events: list[bytes], *, concurrency: int | None) -> Stopwatch:
    """concurrency=None: every send handed to the producer at once, then all acks awaited (the client's
    ceiling). Else `concurrency` senders that each wait for their event's ack, as ingest does per request."""
    producer = make_producer(settings_for(ctx.bootstrap), client_id="bench-raw")
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(topic, value=v) for v in events[:500]])  # warm-up
        todo = iter(events)

        async def sender() -> None:
            for value in todo:
                await producer.send_and_wait(topic, value=value)

        watch = Stopwatch(ctx).start()
        if concurrency is None:
            await asyncio.gather(*[await producer.send(topic, value=v) for v in events])
        else:
            await asyncio.gather(*(sender() for _ in range(concurrency)))
        watch.stop()
        return watch
    finally:
        await producer.stop()


async def http_ingest(ctx: Context, url: str, key: str, bodies: list[bytes], *, concurrency: int) -> Stopwatch:
    """POST every body with `concurrency` requests in flight; every answer must be 202."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    refused: list[str] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def client(todo: list[bytes]) -> None:
            while todo:
                async with session.post(url, data=todo.pop(), headers=headers) as response:
                    text = await response.text()
                    if response.status != 202:
                        refused.append(f"{response.status} {text[:200]}")

        await asyncio.gather(*(client(bodies[:1]) for _ in range(concurrency)))  # open the connections
        todo = list(reversed(bodies))
        watch = Stopwatch(ctx).start()
        await asyncio.gather(*(client(todo) for _ in range(concurrency)))
        watch.stop()
    if refused:
        raise RuntimeError(f"{len(refused)} ingest requests refused, e.g. {refused[0]}")
    return watch


def run(ctx: Context, args: argparse.Namespace) -> list[Result]:
    n, concurrency, size = args.events, args.concurrency, args.batch
    events = payloads(n)
    batches = [b"[" + b",".join(events[i : i + size]) + b"]" for i in range(0, n, size)]
    platform = Platform(ctx.bootstrap)
    platform.stream("orders", partitions=args.partitions, **UNLIMITED)
    raw_topic = platform.topic("orders", Variant.RAW)
    baseline_topic = f"{platform.env}.bench.raw-produce.raw"
    create_topics(ctx.bootstrap, [baseline_topic], partitions=args.partitions)

    def result(case: str, watch: Stopwatch, base: float | None) -> Result:
        rate = n / watch.elapsed
        ratio = None if base is None else rate / base
        return Result(BENCH, case, rate, "ev/s", ratio, watch.meter.note(n), baseline=base is None)

    def produce(concurrency: int | None) -> Stopwatch:
        return asyncio.run(raw_produce(ctx, baseline_topic, events, concurrency=concurrency))

    results = [result("raw aiokafka produce, pipelined", best_of(args.repeat, lambda: produce(None)), None)]
    base = results[0].value
    case = f"raw produce, {concurrency} senders each awaiting its ack"
    results.append(result(case, best_of(args.repeat, lambda: produce(concurrency)), base))

    with worker(ctx, platform) as process:
        url = f"{process.url}/ingest/{platform.workspace}/orders"

        def post(bodies: list[bytes], in_flight: int) -> Stopwatch:
            return asyncio.run(http_ingest(ctx, url, platform.key, bodies, concurrency=in_flight))

        before = end_offsets(ctx.bootstrap, raw_topic, args.partitions)
        case = f"HTTP ingest, 1 event/request, {concurrency} in flight"
        results.append(result(case, best_of(args.repeat, lambda: post(events, concurrency)), base))
        case = f"HTTP ingest, {size} events/request, {args.batch_concurrency} in flight"
        results.append(result(case, best_of(args.repeat, lambda: post(batches, args.batch_concurrency)), base))
        stored = end_offsets(ctx.bootstrap, raw_topic, args.partitions) - before
        # Each run also sent one request per connection before the clock started.
        expected = max(1, args.repeat) * (2 * n + concurrency + args.batch_concurrency * min(n, size))
        if stored != expected:
            raise RuntimeError(f"ingest answered 202 for {expected} events but {stored} are on {raw_topic}")
    return results


if __name__ == "__main__":
    sys.exit(main(BENCH, run))
