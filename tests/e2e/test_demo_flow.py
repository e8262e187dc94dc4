"""The demo flow, through the REST API, with a real worker and receiver:
bad event -> DLQ (visible in the DLQ API) -> new mapping version + activation -> dry run says it passes
-> replay -> delivered once, with the same event id and correlation id."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from rest_framework.test import APIClient

from control.monitoring.consumer import StatusConsumer
from control.outbox.relay import outbox_relay_drain
from control.workspaces.services import workspace_get_or_create
from streams import envelope
from tests.conftest import wait_for
from tests.control.factories import MembershipFactory, UserFactory
from tests.e2e.kit import headers_of, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.django_db]

BROKEN = '{"order": id, "total": $number(amount)}'  # "12,50" is not a number: D3030 at the transform stage
FIXED = '{"order": id, "total": $number($replace(amount, ",", "."))}'


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def _ingest(worker: Any, key: str, body: dict[str, Any], correlation_id: str) -> str | None:
    response = requests.post(
        f"{worker.url}/ingest/demo/orders",
        json=body,
        headers={"Authorization": f"Bearer {key}", "X-Correlation-ID": correlation_id},
        timeout=30,
    )
    if response.status_code == 404:  # the worker has not seen the stream's spec yet
        return None
    assert response.status_code == 202, response.text
    return str(response.json()["event_id"])


def test_bad_event_dlq_fix_dry_run_replay_delivered(platform_env, kafka_bootstrap, worker, receiver) -> None:  # type: ignore[no-untyped-def]
    workspace, _ = workspace_get_or_create(slug="demo", name="Demo")
    owner = UserFactory(username="ops")
    MembershipFactory(workspace=workspace, user=owner, role="owner")
    api = APIClient()
    api.force_authenticate(owner)
    ws = "/api/v1/workspaces/demo"

    stream = _ok(api.post(f"{ws}/streams/", {"name": "orders", "partitions": 2}), 201)
    mapping = _ok(api.post(f"{ws}/mappings/", {"name": "orders", "expression": BROKEN}), 201)
    destination = _ok(
        api.post(
            f"{ws}/destinations/", {"name": "receiver", "url": f"{receiver.url}/orders", "retry_schedule_s": [1, 1]}
        ),
        201,
    )
    version_1 = _ok(api.get(f"{ws}/mappings/{mapping['id']}/versions/1/"))
    pipeline = _ok(
        api.post(
            f"{ws}/pipelines/",
            {
                "name": "orders-out",
                "source": stream["id"],
                "target": stream["id"],
                "mapping_version": version_1["id"],
                "destinations": [destination["id"]],
            },
        ),
        201,
    )
    _ok(api.post(f"{ws}/pipelines/{pipeline['id']}/activate/"))
    key = _ok(api.post(f"{ws}/ingest-keys/", {"name": "demo", "stream": stream["id"]}), 201)["key"]
    outbox_relay_drain()  # the relay process's job (the test's transaction never commits)

    # 1. A bad event goes to the DLQ, and the DLQ API shows it.
    correlation_id = f"corr-{uuid.uuid4().hex[:8]}"
    event_id = wait_for(
        lambda: _ingest(worker, key, {"id": "o-1", "amount": "12,50"}, correlation_id), what="the stream to be known"
    )
    indexer = StatusConsumer(group=f"test-{uuid.uuid4().hex[:8]}")
    dlq_url = f"{ws}/streams/{stream['id']}/dlq/"
    try:
        [dead] = wait_for(
            lambda: indexer.poll_once(0.5) >= 0 and _ok(api.get(dlq_url))["results"], what="the event in the DLQ API"
        )
        assert (dead["event_id"], dead["stage"], dead["error_type"]) == (event_id, "transform", "D3030")
        assert (
            dead["pipeline"] == str(pipeline["id"])
            and dead["revision"] == 1
            and dead["correlation_id"] == correlation_id
        )
        detail = _ok(api.get(f"{dlq_url}{dead['id']}/"))
        assert detail["event"]["payload"] == {"id": "o-1", "amount": "12,50"}
        summary = _ok(api.get(f"{dlq_url}summary/"))["results"]
        assert [(s["stage"], s["error_type"], s["count"]) for s in summary] == [("transform", "D3030", 1)]

        # 2. The fix: a new mapping version, put into the pipeline and activated (revision 2).
        version_2 = _ok(api.post(f"{ws}/mappings/{mapping['id']}/versions/", {"expression": FIXED}), 201)
        _ok(api.patch(f"{ws}/pipelines/{pipeline['id']}/", {"mapping_version": version_2["id"]}))
        assert _ok(api.post(f"{ws}/pipelines/{pipeline['id']}/activate/"))["revision"] == 2
        outbox_relay_drain()

        # 3. The dry run says it passes now.
        job = _ok(
            api.post(
                f"{ws}/replay-jobs/",
                {
                    "stream": stream["id"],
                    "target": "retransform",
                    "selection": {"stages": ["transform"]},
                    "rate_per_s": 20,
                },
            ),
            201,
        )
        assert job["selected"] == 1
        report = _ok(api.post(f"{ws}/replay-jobs/{job['id']}/dry-run/"))["dry_run"]
        assert (report["would_pass"], report["would_fail"], report["skipped"]) == (1, 0, 0)
        assert report["passes"][0]["to"] == f"pipeline {pipeline['id']} revision 2"

        # 4. Replay: delivered once, with the same event id and correlation id.
        started = _ok(api.post(f"{ws}/replay-jobs/{job['id']}/start/"))
        assert started["state"] == "running" and sum(started["end_offsets"].values()) == 1
        [delivered] = wait_for(lambda: list(receiver.receiver.received), timeout=90, what="the replayed delivery")
        assert delivered.json() == {"order": "o-1", "total": 12.5}
        assert delivered.headers["Idempotency-Key"] == event_id
        assert delivered.headers["X-Correlation-ID"] == correlation_id
        assert delivered.headers["X-Switchyard-Replay-Job"] == started["job_id"]

        def finished() -> Any:
            indexer.poll_once(0.5)
            body = _ok(api.get(f"{ws}/replay-jobs/{job['id']}/"))
            return body if body["state"] == "completed" else None

        done = wait_for(finished, timeout=60, what="the job's progress to say completed")
        assert (done["matched"], done["replayed"], done["skipped"], done["failed"]) == (1, 1, 0, 0)

        # The worker's 15 s status report names the key it accepted events with; the consumer records its use.
        def key_last_used() -> Any:
            indexer.poll_once(0.5)
            [row] = _ok(api.get(f"{ws}/ingest-keys/"))["results"]
            return row["last_used_at"]

        assert wait_for(key_last_used, timeout=45, what="the ingest key's last_used_at from the worker's report")
    finally:
        indexer.close()

    # The replayed event carries the job id in Kafka; the job is in the audit log; it cannot run twice.
    enriched = read_topic(kafka_bootstrap, f"{platform_env}.demo.orders.enriched", expect=1)
    assert headers_of(enriched[-1])[envelope.REPLAY_JOB] == done["job_id"]
    actions = {e["action"] for e in _ok(api.get(f"{ws}/audit-events/", {"object_type": "replayjob"}))["results"]}
    assert {"replay.create", "replay.dry_run", "replay.start", "replay.completed"} <= actions
    assert api.post(f"{ws}/replay-jobs/{job['id']}/start/").status_code == 409
    rerun = _ok(api.post(f"{ws}/replay-jobs/{job['id']}/rerun/"), 201)
    assert rerun["selected"] == 0  # nothing failed again since: the re-run selects nothing already replayed
    assert len(receiver.receiver.received) == 1
