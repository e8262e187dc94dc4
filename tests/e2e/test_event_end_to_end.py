"""One real event through all three parts: HTTP ingest -> Kafka -> worker (JSONata) -> HTTP receiver."""

from __future__ import annotations

import pytest
import requests

from control.outbox.relay import outbox_relay_drain
from control.pipelines import services
from control.streams.services import ingest_key_create, stream_get_or_create
from control.workspaces.services import workspace_get_or_create
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.django_db]

ORDER = {
    "id": "o-1",
    "customer": {"name": "Ada"},
    "items": [{"price": 2.5, "quantity": 2}, {"price": 1, "quantity": 1}],
    "currency": "eur",
}
MAPPING = """{
  "order_id": id,
  "customer": customer.name,
  "total": $sum(items.(price * quantity)),
  "currency": $uppercase(currency)
}"""


def _post(worker, stream: str, key: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
    return requests.post(f"{worker.url}/ingest/shop/{stream}", headers=headers, timeout=30, **kwargs)


def _ingest(worker, key: str, body: dict, correlation_id: str) -> str:  # type: ignore[no-untyped-def]
    response = _post(worker, "orders", key, json=body, headers={"X-Correlation-ID": correlation_id})
    assert response.status_code == 202, response.text
    return str(response.json()["event_id"])


def test_event_is_transformed_and_delivered_with_its_ids(platform_env, worker, receiver) -> None:  # type: ignore[no-untyped-def]
    workspace, _ = workspace_get_or_create(slug="shop", name="Shop")
    orders, _ = stream_get_or_create(workspace=workspace, name="orders", partitions=2)
    pipeline = services.pipeline_quickstart(
        workspace=workspace,
        name="orders-out",
        source=orders,
        target=orders,
        expression=MAPPING,
        destination_url=f"{receiver.url}/hooks/orders",
    )
    _, key = ingest_key_create(workspace=workspace, name="e2e", stream=orders)
    outbox_relay_drain()  # the relay process's job; the test's transaction never commits, so run it here

    # The stream and pipeline were created after the worker started: it must pick both up by itself.
    event_id = wait_for(lambda: _try_ingest(worker, key, ORDER, "corr-e2e-1"), timeout=60, what="the stream and key")
    delivered = wait_for(lambda: list(receiver.receiver.received), timeout=60, what="a delivery").pop()

    assert delivered.path == "/hooks/orders"
    assert delivered.json() == {"order_id": "o-1", "customer": "Ada", "total": 6, "currency": "EUR"}
    assert delivered.headers["Idempotency-Key"] == event_id
    assert delivered.headers["X-Correlation-ID"] == "corr-e2e-1"

    # A new mapping revision is used for the next event, without a restart.
    services.pipeline_mapping_change(pipeline=pipeline, expression='{"order": id, "revision": 2}')
    outbox_relay_drain()
    wait_for(
        lambda: _deliveries_after_change(worker, receiver, key),
        timeout=60,
        what="the new mapping revision to take effect",
    )

    # Refusals say what to fix, and nothing is stored.
    missing = requests.post(f"{worker.url}/ingest/shop/nothing", json={"a": 1}, timeout=10)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "unknown_stream")
    assert _post(worker, "orders", "syk_not-a-key", json={}).status_code == 401
    bad = _post(worker, "orders", key, data=b'{"a": ', headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert "line 1 column" in bad.json()["error"]["message"]
    assert _post(worker, "orders", key, data=b"a=1", headers={"Content-Type": "text/plain"}).status_code == 415


def _try_ingest(worker, key: str, body: dict, correlation_id: str) -> str | None:  # type: ignore[no-untyped-def]
    response = _post(worker, "orders", key, json=body, headers={"X-Correlation-ID": correlation_id})
    if response.status_code in (401, 404):  # the stream's spec, or its key, has not reached the worker yet
        return None
    assert response.status_code == 202, response.text
    return str(response.json()["event_id"])


def _deliveries_after_change(worker, receiver, key: str) -> bool:  # type: ignore[no-untyped-def]
    # Send until one arrives in the new shape: the worker applies the spec asynchronously.
    _ingest(worker, key, ORDER, "corr-e2e-2")
    return any(r.json() == {"order": "o-1", "revision": 2} for r in list(receiver.receiver.received))
