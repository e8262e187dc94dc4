"""Transform: raw consume -> produce -> commit passthrough vs the transform stage, in-process, same topic.

    python -m bench.transform --events 10000

Every case reads the same pre-filled topic from the start with its own consumer group, through the
same loop (getmany 500, handle, commit). The baseline's handler forwards each record unchanged; the
others are streams.transform_stage.TransformStage.handle (JSON Schema + JSONata, as the worker runs
it), with and without the schema. Pure in-memory rows (no Kafka) split the CPU between the steps.
Secondary: the real worker's transform stage end to end, from the enriched records' timestamps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

from bench.common import (
    ORDER_MAPPING,
    ORDER_SCHEMA,
    UNLIMITED,
    Context,
    Result,
    Stopwatch,
    best_of,
    headers_for,
    main,
    payloads,
    settings_for,
    worker,
)
from streams.consumer_loop import Batch
from streams.kafka_clients import make_group_consumer, make_producer
from streams.mapping import MappingCache, apply_mapping
from streams.registry import SpecRegistry
from streams.spec import PipelineSpec, SchemaRef, build_pipeline_spec, dump_spec
from streams.topics import Variant
from streams.transform import Record, transform_event
from streams.transform_stage import TransformStage
from streams.validation import ValidatorCache, validate
from tests.e2e.kit import Platform, create_topics, read_topic

BENCH = "transform"
Handler = Callable[[Batch], Awaitable[object]]


async def prefill(ctx: Context, topic: str, events: list[bytes], pipeline: str | None = None) -> None:
    producer = make_producer(settings_for(ctx.bootstrap), client_id="bench-prefill")
    await producer.start()
    try:
        sends = [
            await producer.send(topic, value=v, key=str(i).encode(), headers=headers_for(i, pipeline))
            for i, v in enumerate(events)
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def consume_through(ctx: Context, topic: str, n: int, make_handler: Callable[..., Handler]) -> Stopwatch:
    """Read `n` records of `topic` in a new group: handle each batch, commit. Timed from the first batch."""
    settings = settings_for(ctx.bootstrap)
    group = f"bench-{uuid.uuid4().hex[:8]}"
    consumer = make_group_consumer(settings, group=group, client_id=group)
    producer = make_producer(settings, client_id=f"{group}-producer")
    await producer.start()
    await consumer.start()
    consumer.subscribe(topics=[topic])
    handle = make_handler(producer)
    watch = Stopwatch(ctx)
    seen = 0
    try:
        while seen < n:
            batch: Batch = await consumer.getmany(timeout_ms=500, max_records=500)
            if not batch:
                continue
            if not seen:
                watch.start()
            await handle(batch)
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
            seen += sum(len(records) for records in batch.values())
        watch.stop()
    finally:
        await consumer.stop()
        await producer.stop()
    return watch


def passthrough(target: str) -> Callable[..., Handler]:
    def make(producer) -> Handler:  # type: ignore[no-untyped-def]
        async def handle(batch: Batch) -> None:
            sends = [
                await producer.send(target, value=m.value, key=m.key, headers=list(m.headers or ()))
                for records in batch.values()
                for m in records
            ]
            await asyncio.gather(*sends)

        return handle

    return make


def transform_stage(spec: PipelineSpec) -> Callable[..., Handler]:
    registry = SpecRegistry()
    registry.apply(spec.key, dump_spec(spec))

    def make(producer) -> Handler:  # type: ignore[no-untyped-def]
        stage = TransformStage(
            pipeline_id=spec.id,
            registry=registry,
            mappings=MappingCache(),
            validators=ValidatorCache(),
            producer=producer,
        )

        async def handle(batch: Batch) -> None:
            if await stage.handle(batch) is not None:
                raise RuntimeError("the transform stage did not take the batch (is the pipeline active?)")

        return handle

    return make


def in_memory(spec: PipelineSpec, events: list[bytes]) -> list[tuple[str, float]]:
    """CPU-seconds per event of each step alone, without Kafka."""
    records = [Record(spec.source_topic, 0, i, None, v, headers_for(i)) for i, v in enumerate(events)]
    mappings, validators = MappingCache(), ValidatorCache()
    validator = validators.get("orders", 1, ORDER_SCHEMA)
    texts = [v.decode() for v in events]
    steps: list[tuple[str, Callable[[int], object]]] = [
        ("json.loads", lambda i: json.loads(texts[i])),
        ("JSON Schema validate (parsed event)", lambda i: validate(validator, json.loads(texts[i]))),
        ("JSONata mapping (jsonatapy, text in/out)", lambda i: apply_mapping(mappings, ORDER_MAPPING, texts[i])),
        ("transform_event (schema + mapping)", lambda i: transform_event(spec, records[i], mappings, validators)),
    ]
    timings = []
    for name, step in steps:
        step(0)  # compile / cache
        started = time.process_time()
        for i in range(len(events)):
            step(i)
        timings.append((name, (time.process_time() - started) / len(events)))
    return timings


def _worker_end_to_end(ctx: Context, args: argparse.Namespace, events: list[bytes]) -> tuple[float, str]:
    """The worker's transform stage on a pre-filled raw topic: enriched records per second, by their timestamps."""
    platform = Platform(ctx.bootstrap)
    platform.stream("orders", partitions=args.partitions, **UNLIMITED)
    asyncio.run(prefill(ctx, platform.topic("orders", Variant.RAW), events))
    schema = SchemaRef(id="orders", version=1, schema=ORDER_SCHEMA)
    with worker(ctx, platform):
        watch = Stopwatch(ctx).start()  # the pipeline starts now, so the worker's CPU from here is the stage's
        platform.pipeline("enrich", source="orders", mapping=ORDER_MAPPING, destinations=[], input_schema=schema)
        target = platform.topic("orders", Variant.ENRICHED)
        enriched = read_topic(ctx.bootstrap, target, expect=len(events), timeout=300)
        watch.stop()
    stamps = [m.timestamp()[1] / 1000 for m in enriched]
    return (len(stamps) - 1) / (max(stamps) - min(stamps)), watch.meter.note(len(events))


def run(ctx: Context, args: argparse.Namespace) -> list[Result]:
    n = args.events
    events = payloads(n)
    env = f"bench{uuid.uuid4().hex[:6]}"
    schema = SchemaRef(id="orders", version=1, schema=ORDER_SCHEMA)
    common = {"env": env, "workspace": "acme", "name": "enrich", "revision": 1, "state": "active"}
    spec = build_pipeline_spec(
        id="enrich", source_stream="orders", target_stream="orders", mapping=ORDER_MAPPING, destinations=[],
        input_schema=schema, **common,
    )  # fmt: skip
    mapping_only = build_pipeline_spec(
        id="enrich", source_stream="orders", target_stream="mapped", mapping=ORDER_MAPPING, destinations=[], **common
    )
    copy_topic = f"{env}.acme.copy.raw"
    topics = [spec.source_topic, spec.target_topic, mapping_only.target_topic, copy_topic]
    create_topics(ctx.bootstrap, topics, partitions=args.partitions)
    asyncio.run(prefill(ctx, spec.source_topic, events))

    cases = [
        ("raw consume -> produce -> commit", passthrough(copy_topic)),
        ("transform stage: JSON Schema + JSONata", transform_stage(spec)),
        ("transform stage: JSONata only", transform_stage(mapping_only)),
    ]
    results: list[Result] = []
    for i, (case, handler) in enumerate(cases):
        watch = best_of(args.repeat, lambda h=handler: asyncio.run(consume_through(ctx, spec.source_topic, n, h)))
        rate, cpu_us = n / watch.elapsed, 1e6 * watch.meter.used["bench"] / n
        if not i:
            base_rate, base_cpu_us = rate, cpu_us
        note = f"{cpu_us:.0f} us CPU/event ({base_cpu_us / cpu_us:.2f}x the baseline's events per CPU-second)"
        results.append(Result(BENCH, case, rate, "ev/s", rate / base_rate if i else None, note, baseline=not i))
    for name, seconds in in_memory(spec, events[: min(n, 5000)]):
        note = f"{seconds * 1e6:.0f} us CPU/event, no Kafka (baseline: {base_cpu_us:.0f} us)"
        results.append(Result(BENCH, f"in memory: {name}", 1 / seconds, "ev/CPU-s", None, note))
    if not args.no_e2e:
        rate, note = _worker_end_to_end(ctx, args, events)
        results.append(Result(BENCH, "worker transform stage end to end", rate, "ev/s", rate / base_rate, note))
    return results


if __name__ == "__main__":
    sys.exit(main(BENCH, run))
