"""The permission matrix and tenant isolation for every DLQ, replay and monitoring endpoint.

The same table-driven check as tests/control/api/test_permission_matrix.py (its Endpoint and check_endpoint):
anonymous 401; another workspace's member 404 (for this workspace's URL and for the ids under their own);
each role below the least allowed 403; the least role and platform staff succeed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from control.dlq.models import DlqRecord
from control.dlq.selectors import DlqFilter
from control.replay.choices import ReplayState
from control.replay.models import ReplayJob
from control.replay.services import replay_job_create
from tests.control.api.conftest import api_world, client_for  # noqa: F401  (fixtures)
from tests.control.api.test_permission_matrix import Endpoint, check_endpoint
from tests.control.conftest import World

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _prep(w: World) -> None:
    w.dlq = DlqRecord.objects.create(  # type: ignore[attr-defined]
        workspace=w.workspace, stream=w.stream, partition=0, offset=0, stage="validate", failed_at=datetime.now(UTC)
    )
    w.job = replay_job_create(workspace=w.workspace, stream=w.stream, target="retransform", filters=DlqFilter())  # type: ignore[attr-defined]


def _completed(w: World) -> None:
    _prep(w)
    ReplayJob.objects.filter(pk=w.job.pk).update(state=ReplayState.COMPLETED, started_at=datetime.now(UTC))  # type: ignore[attr-defined]


W = "/api/v1/workspaces/{ws}"
D = W + "/streams/{stream}/dlq"
R = W + "/replay-jobs"
ENDPOINTS: dict[str, Endpoint] = {
    "dlq-list": Endpoint("get", D + "/", "viewer", 200, prep=_prep),
    "dlq-summary": Endpoint("get", D + "/summary/", "viewer", 200, prep=_prep),
    "dlq-retrieve": Endpoint("get", D + "/{dlq}/", "viewer", 200, prep=_prep),
    "replay-list": Endpoint("get", R + "/", "viewer", 200, prep=_prep),
    "replay-retrieve": Endpoint("get", R + "/{job}/", "viewer", 200, prep=_prep),
    "replay-create": Endpoint(
        "post",
        R + "/",
        "editor",
        201,
        lambda w: {"stream": w.stream.pk, "target": "retransform", "selection": {"stages": ["validate"]}},
        prep=_prep,
    ),
    "replay-dry-run": Endpoint("post", R + "/{job}/dry-run/", "editor", 200, prep=_prep),
    "replay-start": Endpoint("post", R + "/{job}/start/", "editor", 200, prep=_prep),
    "replay-cancel": Endpoint("post", R + "/{job}/cancel/", "editor", 200, prep=_prep),
    "replay-rerun": Endpoint("post", R + "/{job}/rerun/", "editor", 201, prep=_completed),
    "stats-list": Endpoint("get", W + "/pipeline-stats/", "viewer", 200, prep=_prep),
    "stats-retrieve": Endpoint("get", W + "/pipeline-stats/{pipeline}/", "viewer", 200, prep=_prep),
}


def _ids(w: World) -> dict[str, Any]:
    return {"stream": w.stream.pk, "dlq": w.dlq.pk, "job": w.job.pk, "pipeline": w.pipeline.pk}  # type: ignore[attr-defined]


@pytest.mark.parametrize("allowed", ["least-role", "staff"])
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_endpoint_permissions(name: str, allowed: str, api_world: World, team, client_for) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    endpoint = ENDPOINTS[name]
    endpoint.prep(api_world)
    check_endpoint(endpoint, _ids(api_world), api_world, team, client_for, allowed)


def test_health_readiness_and_metrics(client, platform_env) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.content
    assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
    body = client.get("/metrics").content.decode()
    for name in (
        "switchyard_control_http_requests_total",
        "switchyard_control_outbox_pending",
        "switchyard_control_dlq_index_records",
    ):
        assert name in body


def test_metrics_needs_the_bearer_token_once_one_is_set(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = "s3cret-metrics"
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == "Bearer"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    allowed = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert allowed.status_code == 200 and b"switchyard_control_http_requests_total" in allowed.content
    assert client.get("/healthz").status_code == 200  # probes stay open: orchestrators do not send tokens


def test_readyz_says_which_dependency_is_down(client, db, settings) -> None:  # type: ignore[no-untyped-def]
    settings.KAFKA_BOOTSTRAP = "127.0.0.1:1"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["kafka"].startswith("unreachable")
