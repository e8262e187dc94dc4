"""The DLQ index follows the topic (real broker), the API lists and summarises from it, the detail comes from Kafka."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from control.dlq.models import DlqRecord
from control.dlq.services import dlq_index_rebuild
from control.pipelines.services import pipeline_activate
from control.pipelines.specs import spec_bytes
from streams.exceptions import TransformFailed
from streams.spec import parse_spec
from tests.control.dlq.kit import dlq_produce, index_until, missing_id

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _spec(pipeline):  # type: ignore[no-untyped-def]
    revision = pipeline_activate(pipeline=pipeline)
    return parse_spec(spec_bytes(revision.spec, state="active"))


def test_index_list_filters_summary_and_detail(world, team) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(world.pipeline)
    bad_mapping = TransformFailed("T2001: not a number", error_type="T2001")
    ids = dlq_produce(
        world.stream,
        [({"total": 1}, missing_id()), ({"total": 2}, missing_id()), ({"id": "o-3"}, bad_mapping)],
        pipeline=spec,
    )
    index_until(3, world.stream)
    client = APIClient()
    client.force_authenticate(team.viewer)
    base = f"/api/v1/workspaces/acme/streams/{world.stream.pk}/dlq/"

    listed = client.get(base).json()
    assert listed["count"] == 3
    assert {r["event_id"] for r in listed["results"]} == set(ids)
    assert client.get(base, {"stage": "transform"}).json()["count"] == 1
    assert (
        client.get(base, {"error_type": "required", "pipeline": world.pipeline.pk, "revision": 1}).json()["count"] == 2
    )
    assert client.get(base, {"revision": 7}).json()["count"] == 0
    assert client.get(base, {"since": "2000-01-01T00:00:00Z", "until": "2000-01-02T00:00:00Z"}).json()["count"] == 0
    bad = client.get(base, {"stage": "nope"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"

    summary = client.get(base + "summary/").json()["results"]
    assert [(s["stage"], s["error_type"], s["count"]) for s in summary] == [
        ("validate", "required", 2),
        ("transform", "T2001", 1),
    ]
    assert summary[0]["first_seen"] <= summary[0]["last_seen"]

    row = DlqRecord.objects.get(event_id=ids[2])
    detail = client.get(f"{base}{row.pk}/").json()
    assert detail["event"]["available"] is True
    assert detail["event"]["payload"] == {"id": "o-3"}
    assert detail["event"]["headers"]["sy-event-id"] == ids[2]
    assert detail["event"]["error"]["type"] == "T2001"
    assert detail["origin_topic"].endswith(".orders.raw")


def test_the_index_is_rebuilt_from_the_topic(world) -> None:  # type: ignore[no-untyped-def]
    dlq_produce(world.stream, [({"n": i}, missing_id()) for i in range(5)], pipeline=None)
    assert dlq_index_rebuild(stream=world.stream) == 5
    DlqRecord.objects.filter(stream=world.stream, offset__lt=2).delete()
    assert dlq_index_rebuild(stream=world.stream) == 5  # again: same rows, nothing doubled
    assert sorted(DlqRecord.objects.filter(stream=world.stream).values_list("offset", flat=True)) == [0, 1, 2, 3, 4]
