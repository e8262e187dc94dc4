"""Delivery: direct aiohttp POSTs vs connectors.http_sink.HttpDestination.send, both at concurrency C,
to the same local sink (bench/sink.py in its own process). Secondary: the worker's delivery stage end to end.

    python -m bench.delivery --events 10000 --delivery-concurrency 10
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

import aiohttp

from bench.common import (
    UNLIMITED,
    Context,
    Result,
    Sink,
    Stopwatch,
    best_of,
    main,
    payloads,
    sink,
    worker,
)
from bench.transform import prefill
from connectors.http_sink import HttpDestination
from streams.spec import HttpDestinationSpec
from streams.topics import Variant
from tests.e2e.kit import Platform, destination

BENCH = "delivery"
Send = Callable[[int, bytes], Awaitable[None]]


async def _drive(ctx: Context, events: list[bytes], concurrency: int, send: Send) -> Stopwatch:
    """`concurrency` loops sending the events, after one warm-up request each (connections open)."""
    todo = list(reversed(list(enumerate(events))))

    async def loop(items: list[tuple[int, bytes]]) -> None:
        while items:
            await send(*items.pop())

    await asyncio.gather(*(loop([(-1 - i, events[0])]) for i in range(concurrency)))
    watch = Stopwatch(ctx).start()
    await asyncio.gather(*(loop(todo) for _ in range(concurrency)))
    watch.stop()
    return watch


async def direct(ctx: Context, url: str, events: list[bytes], concurrency: int) -> Stopwatch:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def send(i: int, body: bytes) -> None:
            headers = {"Content-Type": "application/json", "Idempotency-Key": f"direct-{i}"}
            async with session.post(url, data=body, headers=headers) as response:
                await response.text()
                if response.status != 200:
                    raise RuntimeError(f"the sink answered {response.status}")

        return await _drive(ctx, events, concurrency, send)


async def ours(ctx: Context, url: str, events: list[bytes], concurrency: int) -> Stopwatch:
    sink_ = HttpDestination(allow_private=True)
    await sink_.setup()
    spec = HttpDestinationSpec(id="d1", url=url, max_concurrency=concurrency)
    try:

        async def send(i: int, body: bytes) -> None:
            await sink_.send(spec, body=body, event_id=f"ours-{i}", correlation_id=f"corr-{i}")

        return await _drive(ctx, events, concurrency, send)
    finally:
        await sink_.close()


def _worker_end_to_end(ctx: Context, args: argparse.Namespace, events: list[bytes], receiver: Sink) -> Result:
    """The worker's delivery stage on a pre-filled enriched topic; rate from first to last arrival at the sink."""
    platform = Platform(ctx.bootstrap)
    platform.stream("orders", partitions=args.partitions, **UNLIMITED)
    asyncio.run(prefill(ctx, platform.topic("orders", Variant.ENRICHED), events, pipeline="deliver"))
    receiver.reset()
    c = args.delivery_concurrency
    with worker(ctx, platform):
        watch = Stopwatch(ctx).start()
        target = destination(f"{receiver.url}/orders", max_concurrency=c)
        platform.pipeline("deliver", source="orders", destinations=[target])
        stats = receiver.wait_for(len(events), timeout=300)
        watch.stop()
    rate = (len(events) - 1) / (stats["last"] - stats["first"])
    extra = stats["count"] - stats["unique"]
    note = watch.meter.note(len(events)) + (f"; {extra} duplicate deliveries" if extra else "")
    return Result(BENCH, f"worker delivery stage end to end, max_concurrency={c}", rate, "ev/s", None, note)


def run(ctx: Context, args: argparse.Namespace) -> list[Result]:
    n, c = args.events, args.delivery_concurrency
    events = payloads(n)
    with sink(ctx) as receiver:
        url = f"{receiver.url}/orders"
        base = best_of(args.repeat, lambda: asyncio.run(direct(ctx, url, events, c)))
        mine = best_of(args.repeat, lambda: asyncio.run(ours(ctx, url, events, c)))
        base_rate, rate = n / base.elapsed, n / mine.elapsed
        results = [
            Result(BENCH, f"direct aiohttp POST, {c} in flight", base_rate, "ev/s", None, base.meter.note(n), True),
            Result(BENCH, f"HttpDestination.send, {c} in flight", rate, "ev/s", rate / base_rate, mine.meter.note(n)),
        ]
        if not args.no_e2e:
            e2e = _worker_end_to_end(ctx, args, events, receiver)
            e2e.ratio = e2e.value / base_rate
            results.append(e2e)
    return results


if __name__ == "__main__":
    sys.exit(main(BENCH, run))
