"""Data-plane test kit: provision topics and publish specs straight to the config topic.

The data plane's contract is the spec on the config topic, so these tests drive it the way the
control plane does, without going through Django.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from streams import envelope
from streams.secrets import encrypt, hash_ingest_key, new_ingest_key
from streams.spec import (
    HttpDestinationSpec,
    IngestKeySpec,
    PipelineSpec,
    SourceSpec,
    build_pipeline_spec,
    build_source_spec,
    dump_spec,
)
from streams.topics import Variant, config_topic, topic_name

FAST_RETRIES = (1.0, 1.0, 1.0)


def create_topics(
    bootstrap: str, names: list[str], *, partitions: int = 2, config: dict[str, str] | None = None
) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=10).topics)
    new = [NewTopic(n, partitions, 1, config=config or {}) for n in names if n not in existing]
    if new:
        for future in admin.create_topics(new).values():
            future.result(30)


@dataclass
class Platform:
    """One environment on the test broker: its config topic, its streams, its specs."""

    bootstrap: str
    env: str = field(default_factory=lambda: f"dp{uuid.uuid4().hex[:8]}")
    workspace: str = "acme"
    key: str = field(default_factory=new_ingest_key)

    def __post_init__(self) -> None:
        create_topics(self.bootstrap, [config_topic(self.env)], partitions=1, config={"cleanup.policy": "compact"})
        self._producer = Producer(
            # log_level 2: no connection noise once the session broker stops after the last test
            {"bootstrap.servers": self.bootstrap, "acks": "all", "enable.idempotence": True, "log_level": 2}
        )

    def topic(self, stream: str, variant: Variant) -> str:
        return topic_name(env=self.env, workspace=self.workspace, stream=stream, variant=variant)

    def stream(self, name: str, *, partitions: int = 2, **options: Any) -> SourceSpec:
        create_topics(self.bootstrap, [self.topic(name, v) for v in Variant], partitions=partitions)
        options.setdefault("ingest_keys", (IngestKeySpec(id="k1", sha256=hash_ingest_key(self.key), prefix="syk_"),))
        spec = build_source_spec(env=self.env, workspace=self.workspace, stream=name, **options)
        self.publish(spec)
        return spec

    def pipeline(
        self,
        id: str,
        *,
        source: str,
        target: str | None = None,
        mapping: str = "$",
        destinations: list[HttpDestinationSpec],
        state: str = "active",
        revision: int = 1,
        **options: Any,
    ) -> PipelineSpec:
        spec = build_pipeline_spec(
            env=self.env,
            id=id,
            workspace=self.workspace,
            name=id,
            revision=revision,
            state=state,
            source_stream=source,
            target_stream=target or source,
            mapping=mapping,
            destinations=destinations,
            **options,
        )
        self.publish(spec)
        return spec

    def publish(self, spec: PipelineSpec | SourceSpec) -> None:
        self._producer.produce(config_topic(self.env), key=spec.key.encode(), value=dump_spec(spec))
        assert self._producer.flush(15) == 0, "the spec was not acknowledged"

    def ingest(
        self, worker_url: str, stream: str, body: Any, *, headers: dict[str, str] | None = None
    ) -> requests.Response:
        return requests.post(
            f"{worker_url}/ingest/{self.workspace}/{stream}",
            json=body,
            headers={"Authorization": f"Bearer {self.key}", **(headers or {})},
            timeout=30,
        )

    def ingest_accepted(self, worker_url: str, stream: str, body: Any, **kwargs: Any) -> list[str]:
        """Ingest like a well-behaved client: retry while the worker has not seen the stream's spec
        yet (404) and after a 429's Retry-After. Returns the event ids."""
        deadline = time.monotonic() + 30
        while True:
            response = self.ingest(worker_url, stream, body, **kwargs)
            if response.status_code not in (404, 429) or time.monotonic() > deadline:
                break
            time.sleep(float(response.headers.get("Retry-After", 0.3)))
        assert response.status_code == 202, response.text
        return list(response.json()["event_ids"])


def wait_applied(worker_url: str, pipeline_id: str, revision: int) -> None:
    """Until the worker runs `revision` of the pipeline (its /status says so)."""
    from tests.conftest import wait_for

    def applied() -> bool:
        pipelines = requests.get(f"{worker_url}/status", timeout=5).json()["pipelines"]
        return pipelines.get(pipeline_id, {}).get("revision") == revision

    wait_for(applied, what=f"{pipeline_id} revision {revision} on the worker")


def destination(url: str, id: str = "d1", **options: Any) -> HttpDestinationSpec:
    options.setdefault("retry_schedule_s", FAST_RETRIES)
    options.setdefault("timeout_s", 5.0)
    for name in ("auth_secret_enc", "signing_secret_enc"):
        if name in options and options[name] and not options[name].startswith("gAAAA"):
            options[name] = encrypt(options[name])
    return HttpDestinationSpec(id=id, url=url, **options)


def read_topic(bootstrap: str, topic: str, *, expect: int, timeout: float = 60) -> list[Any]:
    """Read records from the start of `topic` until `expect` arrived (or fail after `timeout`)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"probe-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expect and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                records.append(message)
    finally:
        consumer.close()
    assert len(records) >= expect, f"only {len(records)} of {expect} records arrived on {topic}"
    return records


def headers_of(message: Any) -> dict[str, str]:
    return {k: v.decode() for k, v in (message.headers() or [])}


def end_offsets(bootstrap: str, topic: str, partitions: int) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "probe-offsets"})
    try:
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions))
    finally:
        consumer.close()


def delivered_ids(receiver: Any) -> Iterator[str]:
    for item in list(receiver.receiver.received):
        yield item.headers.get("Idempotency-Key", "")


def event_id_of(message: Any) -> str | None:
    return envelope.header(message.headers(), envelope.EVENT_ID)


def body_of(message: Any) -> Any:
    return json.loads(message.value())


def dlq_end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "probe-offsets"})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
    finally:
        consumer.close()


def send_command(platform: Platform, command: Any) -> None:
    from streams.topics import internal_topic

    topic = internal_topic(env=platform.env, name="replay-commands")
    platform._producer.produce(topic, key=command.job_id.encode(), value=command.to_json())
    assert platform._producer.flush(15) == 0


def latest_progress(platform: Platform, job_id: str) -> dict[str, Any] | None:
    from streams.topics import internal_topic

    topic = internal_topic(env=platform.env, name="replay-progress")
    consumer = Consumer(
        {
            "bootstrap.servers": platform.bootstrap,
            "group.id": f"probe-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    latest = None
    try:
        idle = 0
        while idle < 3:
            message = consumer.poll(0.5)
            if message is None:
                idle += 1
                continue
            if message.error() is None and message.key() == job_id.encode():
                latest = json.loads(message.value())
    finally:
        consumer.close()
    return latest
