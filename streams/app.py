"""The Faust worker: `faust -A streams.app worker -l info`.

One process runs the whole data plane: the config follower (specs into the registry), the
transform and delivery stages, and the HTTP server for ingest and health checks.
"""

from __future__ import annotations

import logging
import os

import faust
from aiohttp import web
from mode import Service

from connectors.http_sink import HttpDestination
from connectors.http_source import IngestRefused, IngestService, check_body, correlation_from
from streams.config_follower import ConfigFollower
from streams.kafka_clients import make_group_consumer, make_producer
from streams.mapping import MappingCache
from streams.processors import PatternStage, delivery_handler, transform_handler
from streams.registry import SpecRegistry
from streams.settings import Settings
from streams.topics import Variant

logger = logging.getLogger("switchyard.worker")

settings = Settings.from_env()

app = faust.App(
    f"switchyard-{settings.env}",
    broker=f"kafka://{settings.kafka_bootstrap}",
    store="memory://",
    datadir=os.environ.get("SWITCHYARD_WORKER_DATA_DIR", ".local/worker-data"),
    topic_replication_factor=int(os.environ.get("SWITCHYARD_REPLICATION_FACTOR", "1")),
    web_bind=settings.worker_bind,
    web_port=settings.worker_port,
)


class DataPlane(Service):
    """Owns the Kafka clients and runs the config follower and the two stages."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.registry = SpecRegistry()
        self.follower = ConfigFollower(settings, self.registry)
        self.sink = HttpDestination(allow_private=settings.allow_private_destinations)
        self.mappings = MappingCache(settings.jsonata_engine)

    async def on_start(self) -> None:
        # aiokafka clients bind to the running loop, so they are made here rather than at import.
        self.producer = make_producer(settings, client_id=f"{settings.worker_id}-producer")
        self.ingest = IngestService(
            registry=self.registry, producer=self.producer, ack_timeout_s=settings.ingest_ack_timeout_s
        )
        await self.producer.start()
        await self.sink.setup()

    async def on_stop(self) -> None:
        await self.sink.close()
        await self.producer.stop()

    def _stage(self, name: str, variant: Variant, handler: object) -> PatternStage:
        group = f"switchyard-{settings.env}-{name}"
        return PatternStage(
            name=name,
            env=settings.env,
            variant=variant,
            consumer_factory=lambda: make_group_consumer(
                settings, group=group, client_id=f"{settings.worker_id}-{name}"
            ),
            producer=self.producer,
            handler=handler,  # type: ignore[arg-type]
            ready=self.follower.caught_up,
        )

    @Service.task
    async def _follow_config(self) -> None:
        await self.follower.run()

    @Service.task
    async def _transform(self) -> None:
        await self._stage("transform", Variant.RAW, transform_handler(self.registry, self.mappings)).run()

    @Service.task
    async def _deliver(self) -> None:
        await self._stage("deliver", Variant.ENRICHED, delivery_handler(self.registry, self.sink)).run()


data_plane = DataPlane()
app.service(data_plane)  # type: ignore[arg-type]


def _error(refusal: IngestRefused) -> web.Response:
    return web.json_response(refusal.body(), status=refusal.status)


async def ingest_view(request: web.Request) -> web.Response:
    body = await request.read()
    try:
        check_body(
            content_type=request.headers.get("Content-Type"), body=body, max_bytes=settings.ingest_max_body_bytes
        )
        accepted = await data_plane.ingest.ingest(
            workspace=request.match_info["workspace"],
            stream=request.match_info["stream"],
            body=body,
            correlation_id=correlation_from(request.headers),
        )
    except IngestRefused as refusal:
        return _error(refusal)
    return web.json_response(
        {"event_id": accepted.event_id, "correlation_id": accepted.correlation_id},
        status=202,
        headers={"X-Correlation-ID": accepted.correlation_id},
    )


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ready = data_plane.follower.caught_up.is_set()
    return web.json_response({"config_caught_up": ready}, status=200 if ready else 503)


class WorkerWeb(Service):
    """Ingest and health endpoints on SWITCHYARD_WORKER_BIND:SWITCHYARD_WORKER_PORT."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        # Ingest bodies are checked against our own limit, with a clear 413; aiohttp's must be larger.
        self._web = web.Application(client_max_size=settings.ingest_max_body_bytes * 2)
        self._web.add_routes(
            [
                web.post("/ingest/{workspace}/{stream}", ingest_view),
                web.get("/healthz", healthz),
                web.get("/readyz", readyz),
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
