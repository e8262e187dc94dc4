"""The Faust worker: `faust -A streams.app worker -l info`.

One process runs the whole data plane: followers of the config and idempotency topics, a
supervisor that keeps one transform task per pipeline and one delivery task per destination, the
retry stage, and the HTTP server for ingest, health and status. Run N of them to scale out:
each stage is a Kafka consumer group, so partitions are shared among the workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import faust
from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from mode import Service
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from connectors.http_sink import HttpDestination
from connectors.http_source import IngestService, correlation_from
from streams.consumer_loop import ConsumerLoop
from streams.delivery_stage import DeliveryStage
from streams.destinations import DestinationStates
from streams.group_lag import GroupLag
from streams.idempotency import IdempotencyStore
from streams.kafka_clients import make_group_consumer, make_producer, make_reader
from streams.mapping import MappingCache
from streams.observability import (
    INGEST_REQUESTS,
    INGESTED_EVENTS,
    METRICS_UNAUTHORIZED,
    UNDELIVERED,
    json_logging_config,
    log_context,
    metrics_allowed,
    pipeline_snapshot,
)
from streams.registry import SpecRegistry
from streams.replay import ReplayProgress
from streams.replay_stage import ReplayStage
from streams.retry_stage import RetryStage
from streams.settings import Settings
from streams.supervisor import Runner, Supervisor, TaskKey
from streams.topic_follower import TopicFollower
from streams.topics import config_topic, delivery_group, internal_topic, transform_group
from streams.transform_stage import TransformStage
from streams.validation import ValidatorCache

logger = logging.getLogger("switchyard.worker")

settings = Settings.from_env()

app = faust.App(
    f"switchyard-{settings.env}",
    broker=f"kafka://{settings.kafka_bootstrap}",
    store="memory://",
    datadir=settings.worker_data_dir,
    topic_replication_factor=settings.replication_factor,
    web_bind=settings.worker_bind,
    web_port=settings.worker_port,
    logging_config=json_logging_config(settings.log_level) if settings.log_format == "json" else None,
)

IDEMPOTENCY_TOPIC = internal_topic(env=settings.env, name="ingest-idempotency")
STATUS_TOPIC = internal_topic(env=settings.env, name="status")
REPLAY_COMMANDS_TOPIC = internal_topic(env=settings.env, name="replay-commands")
REPLAY_PROGRESS_TOPIC = internal_topic(env=settings.env, name="replay-progress")


class DataPlane(Service):
    """Owns the Kafka clients and every data-plane task of this worker."""

    producer: AIOKafkaProducer | None = None
    admin: AIOKafkaAdminClient | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.registry = SpecRegistry()
        self.sink = HttpDestination(allow_private=settings.allow_private_destinations)
        self.mappings = MappingCache(settings.jsonata_engine)
        self.validators = ValidatorCache()
        self.idempotency = IdempotencyStore(window_s=settings.idempotency_window_s)
        self.states = DestinationStates(on_change=self._publish_status)
        self.supervisor = Supervisor(registry=self.registry, runner_for=self._runner_for)
        self.config = TopicFollower(
            settings,
            topic=config_topic(settings.env),
            apply=lambda key, value: self.registry.apply(key.decode() if key else "", value),
            on_batch=self._on_config,
        )
        self.replay_progress: dict[str, ReplayProgress] = {}
        self.progress_follower = TopicFollower(settings, topic=REPLAY_PROGRESS_TOPIC, apply=self._apply_progress)
        self.idempotency_follower = TopicFollower(
            settings, topic=IDEMPOTENCY_TOPIC, apply=self.idempotency.apply_record
        )

    async def on_start(self) -> None:
        # aiokafka clients bind to the running loop, so they are made here rather than at import.
        # One admin client for the worker's life: topics at start, /readyz, and the replay stage's lag reads.
        self.admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        await self.admin.start()
        await self._ensure_internal_topics(self.admin)
        self.producer = make_producer(settings, client_id=f"{settings.worker_id}-producer")
        await self.producer.start()
        await self.sink.setup()
        self.ingest = IngestService(
            registry=self.registry,
            producer=self.producer,
            ack_timeout_s=settings.ingest_ack_timeout_s,
            max_body_bytes=settings.ingest_max_body_bytes,
            idempotency=self.idempotency,
            idempotency_topic=IDEMPOTENCY_TOPIC,
            # Not before every spec and every remembered Idempotency-Key answer is loaded.
            ready=[self.config.caught_up, self.idempotency_follower.caught_up],
        )

    async def on_stop(self) -> None:
        await self.supervisor.stop()
        await self.sink.close()
        if self.admin is not None:
            await self.admin.close()
        # With Kafka gone, stop() would wait forever for unacknowledged sends; those were not
        # acknowledged to anyone (ingest answered 503, stages did not commit), so give up on them.
        if self.producer is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.producer.stop(), 10)

    async def kafka_reachable(self, timeout_s: float = 3.0) -> bool:
        if self.admin is None:
            return False
        try:
            await asyncio.wait_for(self.admin.describe_cluster(), timeout_s)
        except Exception:  # whatever the client raises, Kafka did not answer in time
            return False
        return True

    @staticmethod
    async def _ensure_internal_topics(admin: AIOKafkaAdminClient) -> None:
        compact = {"cleanup.policy": "compact"}
        window_ms = str(int(settings.idempotency_window_s * 1000))
        wanted = {  # name: (partitions, config)
            IDEMPOTENCY_TOPIC: (3, {"cleanup.policy": "compact,delete", "retention.ms": window_ms}),
            STATUS_TOPIC: (1, compact),
            REPLAY_COMMANDS_TOPIC: (3, compact),
            REPLAY_PROGRESS_TOPIC: (1, compact),
        }
        topics = [
            NewTopic(name, num_partitions=n, replication_factor=settings.replication_factor, topic_configs=config)
            for name, (n, config) in wanted.items()
        ]
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker made it first
                await admin.create_topics(missing)

    def _apply_progress(self, key: bytes | None, value: bytes | None) -> None:
        if key and value:
            with contextlib.suppress(ValueError, TypeError):
                self.replay_progress[key.decode()] = ReplayProgress.from_json(value)

    def _on_config(self) -> None:
        if self.config.caught_up.is_set():
            self.supervisor.reconcile()

    def _runner_for(self, key: TaskKey) -> Runner:
        kind, pipeline_id = key[0], key[1]
        if kind == "transform":
            stage = TransformStage(
                pipeline_id=pipeline_id,
                registry=self.registry,
                mappings=self.mappings,
                validators=self.validators,
                producer=self.producer,
            )
            group = transform_group(settings.env, pipeline_id)
            return self._consumer_loop(
                f"transform-{pipeline_id}", group, pipeline_id, key[2], stage.handle, stage.paused
            )
        destination_id = key[2]
        delivery = DeliveryStage(
            pipeline_id=pipeline_id,
            destination_id=destination_id,
            registry=self.registry,
            sink=self.sink,
            states=self.states,
            producer=self.producer,
        )
        name = f"deliver-{pipeline_id}-{destination_id}"
        group = delivery_group(settings.env, pipeline_id, destination_id)
        return self._consumer_loop(name, group, pipeline_id, key[3], delivery.handle, delivery.paused)

    def _consumer_loop(self, name: str, group: str, pipeline: str, topic: str, handle, paused) -> Runner:  # type: ignore[no-untyped-def]
        loop = ConsumerLoop(
            name=name,
            group=group,
            pipeline=pipeline,
            consumer_factory=lambda: make_group_consumer(
                settings, group=group, client_id=f"{settings.worker_id}-{name}"
            ),
            topics=[topic],
            handle=handle,
            paused=paused,
        )
        return loop.run

    def _publish_status(self, destination_id: str, snapshot: dict[str, Any]) -> None:
        value = json.dumps({**snapshot, "worker": settings.worker_id, "at": time.time()}).encode()
        key = f"destination:{destination_id}".encode()
        task = asyncio.ensure_future(self.producer.send(STATUS_TOPIC, key=key, value=value))
        task.add_done_callback(lambda t: t.exception() and logger.warning("status not published: %r", t.exception()))

    @Service.task
    async def _follow_config(self) -> None:
        await self.config.run()

    @Service.task
    async def _follow_idempotency(self) -> None:
        await self.idempotency_follower.run()

    @Service.task
    async def _retry(self) -> None:
        await self.config.caught_up.wait()
        group = f"switchyard-{settings.env}-retry"
        stage = RetryStage(
            env=settings.env,
            group=group,
            consumer_factory=lambda: make_group_consumer(
                settings, group=group, client_id=f"{settings.worker_id}-retry"
            ),
            registry=self.registry,
            sink=self.sink,
            states=self.states,
            producer=self.producer,
        )
        self.retry_stage = stage
        await stage.run()

    @Service.task
    async def _follow_replay_progress(self) -> None:
        await self.progress_follower.run()

    @Service.task
    async def _replay(self) -> None:
        await self.progress_follower.caught_up.wait()  # know which jobs already finished
        group = f"switchyard-{settings.env}-replay"
        assert self.admin is not None, "on_start made it"
        offsets_reader = make_reader(settings, client_id=f"{settings.worker_id}-replay-lag")
        await offsets_reader.start()
        stage = ReplayStage(
            commands_topic=REPLAY_COMMANDS_TOPIC,
            progress_topic=REPLAY_PROGRESS_TOPIC,
            consumer_factory=lambda: make_group_consumer(
                settings, group=group, client_id=f"{settings.worker_id}-replay"
            ),
            reader_factory=lambda: make_reader(settings, client_id=f"{settings.worker_id}-replay-reader"),
            producer=self.producer,
            progress=self.replay_progress,
            worker_id=settings.worker_id,
            env=settings.env,
            registry=self.registry,
            group_lag=GroupLag(admin=self.admin, offsets_reader=offsets_reader),
        )
        try:
            await stage.run()
        finally:
            await offsets_reader.stop()

    @Service.timer(60.0)
    async def _expire_idempotency(self) -> None:
        self.idempotency.expire()

    @Service.timer(5.0)
    async def _publish_ages(self) -> None:
        UNDELIVERED.publish(time.time())

    @Service.timer(15.0)
    async def _publish_worker_stats(self) -> None:
        """Cumulative per-pipeline counters of this worker (the control plane charts their deltas), and the
        ingest keys used since the last report (the control plane moves their last_used_at forward)."""
        if self.producer is None:
            return
        value = {
            "worker": settings.worker_id,
            "at": time.time(),
            "pipelines": pipeline_snapshot(),
            "destinations": self.states.snapshots(),
            # Drained before the send: if the send fails these uses are not reported. Acceptable for a
            # "last used" timestamp; a key in steady use is reported again on the next tick.
            "ingest_keys": self.ingest.usage.drain(),
        }
        key = f"worker:{settings.worker_id}".encode()
        with contextlib.suppress(Exception):  # stats are best effort; the next tick tries again
            await self.producer.send(STATUS_TOPIC, key=key, value=json.dumps(value).encode())


data_plane = DataPlane()
app.service(data_plane)  # type: ignore[arg-type]


async def ingest_view(request: web.Request) -> web.Response:
    workspace, stream = request.match_info["workspace"], request.match_info["stream"]
    with log_context(correlation_id=correlation_from(request.headers), workspace=workspace, stream=stream):
        answer = await data_plane.ingest.handle(
            workspace=workspace, stream=stream, headers=request.headers, body=await request.read()
        )
    INGEST_REQUESTS.labels(str(answer.status)).inc()
    if answer.status == 202 and "Idempotent-Replayed" not in answer.headers:
        INGESTED_EVENTS.labels(workspace, stream).inc(len(answer.body.get("event_ids", ())))
    return web.json_response(answer.body, status=answer.status, headers=answer.headers)


async def metrics(request: web.Request) -> web.Response:
    if not metrics_allowed(request.headers.get("Authorization"), settings.metrics_token):
        return web.json_response(METRICS_UNAUTHORIZED, status=401, headers={"WWW-Authenticate": "Bearer"})
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    checks = {
        "kafka": await data_plane.kafka_reachable(),
        "config_caught_up": data_plane.config.caught_up.is_set(),
        "idempotency_caught_up": data_plane.idempotency_follower.caught_up.is_set(),
        "replay_progress_caught_up": data_plane.progress_follower.caught_up.is_set(),
    }
    return web.json_response(checks, status=200 if all(checks.values()) else 503)


async def status(request: web.Request) -> web.Response:
    retry = getattr(data_plane, "retry_stage", None)
    return web.json_response(
        {
            "worker": settings.worker_id,
            "tasks": sorted("/".join(k) for k in data_plane.supervisor.running),
            "pipelines": {p.id: {"revision": p.revision, "state": p.state} for p in data_plane.registry.pipelines()},
            "destinations": data_plane.states.snapshots(),
            "pending_retries": retry.pending_count if retry else 0,
        }
    )


class WorkerWeb(Service):
    """Ingest, health and status endpoints on SWITCHYARD_WORKER_BIND:SWITCHYARD_WORKER_PORT."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Bodies are checked against our own limit with a clear 413; aiohttp's own must be larger.
        self._web = web.Application(client_max_size=settings.ingest_max_body_bytes * 2)
        self._web.add_routes(
            [
                web.post("/ingest/{workspace}/{stream}", ingest_view),
                web.get("/healthz", healthz),
                web.get("/readyz", readyz),
                web.get("/status", status),
                web.get("/metrics", metrics),
            ]
        )
        self._runner = web.AppRunner(self._web, access_log=None)

    async def on_start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, settings.worker_bind, settings.worker_port).start()
        logger.info("worker HTTP on http://%s:%d", settings.worker_bind, settings.worker_port)

    async def on_stop(self) -> None:
        await self._runner.cleanup()


app.web_server(WorkerWeb())
