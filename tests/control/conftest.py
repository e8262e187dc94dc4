"""Control-plane fixtures: users with roles, a populated workspace, and reading the config topic back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from django.core.cache import cache

from control.outbox.relay import outbox_relay_drain
from streams.topics import config_topic
from tests.control.factories import MembershipFactory, UserFactory, WorkspaceFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _control_settings(settings) -> None:  # type: ignore[no-untyped-def]
    # Tests run the relay explicitly (the after-commit thread would race the test's own transaction), and
    # destinations on loopback are allowed explicitly, as the local platform does.
    settings.OUTBOX_PUBLISH_ON_COMMIT = False
    settings.DESTINATION_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    cache.clear()  # throttling counters live in the cache


def config_records(bootstrap: str, env: str) -> list[tuple[str, bytes | None]]:
    """Every record on the config topic, in order, as (key, value)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"probe-{env}", "enable.auto.commit": False, "log_level": 3}
    )
    tp = TopicPartition(config_topic(env), 0, 0)
    _, high = consumer.get_watermark_offsets(tp, timeout=10)
    records: list[tuple[str, bytes | None]] = []
    if high:
        consumer.assign([tp])
        while True:
            message = consumer.poll(10)
            assert message is not None, "the config topic did not deliver the records it reports"
            assert message.error() is None, message.error()
            records.append((message.key().decode(), message.value()))
            if message.offset() + 1 >= high:
                break
    consumer.close()
    return records


def latest_config(bootstrap: str, env: str) -> dict[str, bytes | None]:
    return dict(config_records(bootstrap, env))


@pytest.fixture
def publish():  # type: ignore[no-untyped-def]
    """Run the outbox relay as its process would, and insist it published everything."""

    def run() -> int:
        result = outbox_relay_drain()
        assert not result.error and result.pending == 0, result
        return result.published

    return run


@dataclass
class Team:
    """A workspace with one user per role, plus a stranger (another workspace) and a staff user."""

    workspace: Any
    owner: Any
    editor: Any
    viewer: Any
    stranger: Any
    staff: Any

    def user(self, role: str) -> Any:
        return getattr(self, role)


@pytest.fixture
def team(db) -> Team:  # type: ignore[no-untyped-def]
    workspace = WorkspaceFactory(slug="acme")
    other = WorkspaceFactory(slug="globex")
    members = {
        role: MembershipFactory(workspace=workspace, user=UserFactory(username=role), role=role).user
        for role in ("owner", "editor", "viewer")
    }
    stranger = MembershipFactory(workspace=other, user=UserFactory(username="stranger"), role="owner").user
    staff = UserFactory(username="staff", is_staff=True)
    return Team(workspace=workspace, stranger=stranger, staff=staff, **members)


ORDER_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"id": {"type": "string"}, "total": {"type": "number"}},
    "required": ["id"],
}
OUT_SCHEMA = {"type": "object", "properties": {"order": {"type": "string"}}, "required": ["order"]}


@dataclass
class World:
    """One of everything in a workspace, made through the services."""

    workspace: Any
    stream: Any
    schema: Any
    out_schema: Any
    mapping: Any
    destination: Any
    pipeline: Any
    ingest_key: Any


def build_world(workspace: Any, actor: Any = None) -> World:
    from control.destinations.services import destination_create
    from control.mappings.services import mapping_create
    from control.pipelines.services import pipeline_create
    from control.schemas.services import schema_create
    from control.streams.services import ingest_key_create, stream_create

    stream = stream_create(workspace=workspace, name="orders", partitions=2, key_path="id", actor=actor)
    schema = schema_create(workspace=workspace, name="order", definition=ORDER_SCHEMA, actor=actor)
    out_schema = schema_create(workspace=workspace, name="order-out", definition=OUT_SCHEMA, actor=actor)
    mapping = mapping_create(
        workspace=workspace,
        name="to-order",
        expression='{"order": id}',
        sample_input={"id": "o-1"},
        expected_output={"order": "o-1"},
        actor=actor,
    )
    destination = destination_create(
        workspace=workspace,
        name="hook",
        url="https://example.com/hook",
        auth_type="bearer",
        auth_secret="s3cret-token",
        signing_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        actor=actor,
    )
    pipeline = pipeline_create(
        workspace=workspace,
        name="orders-out",
        source=stream,
        target=stream,
        input_schema_version=schema.versions.get(),
        mapping_version=mapping.versions.get(),
        output_schema_version=out_schema.versions.get(),
        destinations=[destination],
        actor=actor,
    )
    key, _ = ingest_key_create(workspace=workspace, name="producer", actor=actor)
    return World(workspace, stream, schema, out_schema, mapping, destination, pipeline, key)


@pytest.fixture
def world(platform_env, team) -> World:  # type: ignore[no-untyped-def]
    return build_world(team.workspace, actor=team.owner)
