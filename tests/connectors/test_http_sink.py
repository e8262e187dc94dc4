"""The HTTP sink: outcome classification, the SSRF guard, and real sends to a local receiver."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator

import pytest

from connectors.http_sink import (
    DEFAULT_RETRY_AFTER_S,
    GuardedResolver,
    HttpDestination,
    classify,
    is_public_address,
    parse_retry_after,
)
from devkit.kafka_broker import free_port
from devkit.receiver import ReceiverThread
from streams.exceptions import DeliveryFailed
from streams.spec import HttpDestinationSpec

# ---------------------------------------------------------------- classify


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_success(status: int) -> None:
    assert classify(status, "ok", None) is None


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_retryable_statuses_get_the_default_retry_after(status: int) -> None:
    failure = classify(status, "busy", None)
    assert isinstance(failure, DeliveryFailed)
    assert failure.retryable
    assert failure.retry_after == DEFAULT_RETRY_AFTER_S
    assert failure.status == status
    assert failure.error_type == f"HTTP{status}"
    assert failure.stage == "deliver"
    assert str(failure) == f"destination answered HTTP {status}: busy"


@pytest.mark.parametrize(("header", "expected"), [("12", 12.0), ("1.5", 1.5), ("120", 120.0)])
@pytest.mark.parametrize("status", [429, 503])
def test_a_numeric_retry_after_is_honoured(status: int, header: str, expected: float) -> None:
    failure = classify(status, "", header)
    assert failure is not None
    assert failure.retry_after == expected


@pytest.mark.parametrize("header", ["Wed, 21 Oct 2026 07:28:00 GMT", "soon", ""])
def test_a_non_numeric_retry_after_falls_back_to_the_default(header: str) -> None:
    failure = classify(503, "", header)
    assert failure is not None
    assert failure.retry_after == DEFAULT_RETRY_AFTER_S


def test_retry_after_zero_is_honoured() -> None:
    failure = classify(503, "", "0")
    assert failure is not None
    assert failure.retry_after == 0.0


@pytest.mark.parametrize("status", [300, 301, 302, 400, 401, 403, 404, 409, 410, 422])
def test_other_statuses_are_permanent(status: int) -> None:
    failure = classify(status, "no", "30")
    assert isinstance(failure, DeliveryFailed)
    assert not failure.retryable
    assert failure.retry_after is None
    assert failure.status == status
    assert failure.error_type == f"HTTP{status}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("7", 7.0), ("0", 0.0), ("-3", 0.0), ("Wed, 21 Oct 2026 07:28:00 GMT", None)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


# ---------------------------------------------------------------- addresses


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "192.0.2.1",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff0e::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(address)


def test_is_public_address_refuses_a_host_name() -> None:
    with pytest.raises(ValueError):
        is_public_address("example.com")


def test_guarded_resolver_refuses_a_host_that_resolves_to_loopback() -> None:
    async def resolve() -> None:
        resolver = GuardedResolver(allow_private=False)
        try:
            await resolver.resolve("localhost", 80)
        finally:
            await resolver.close()

    with pytest.raises(DeliveryFailed) as info:
        asyncio.run(resolve())
    assert info.value.error_type == "ForbiddenAddress"
    assert "localhost" in str(info.value)
    assert not info.value.retryable


def test_guarded_resolver_allows_private_hosts_when_told_to() -> None:
    async def resolve() -> list[str]:
        resolver = GuardedResolver(allow_private=True)
        try:
            return [r["host"] for r in await resolver.resolve("localhost", 80)]
        finally:
            await resolver.close()

    hosts = asyncio.run(resolve())
    assert hosts
    assert set(hosts) <= {"127.0.0.1", "::1"}


# ---------------------------------------------------------------- real sends


@pytest.fixture
def http_receiver() -> Iterator[ReceiverThread]:
    thread = ReceiverThread(free_port()).start()
    try:
        yield thread
    finally:
        thread.stop()


def control(receiver: ReceiverThread, **behaviour: object) -> None:
    request = urllib.request.Request(
        f"{receiver.url}/_control",
        data=json.dumps(behaviour).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def send(
    destination: HttpDestinationSpec,
    *,
    allow_private: bool = True,
    body: bytes = b'{"id": 11}',
    event_id: str = "0190a1b2-0000-7000-8000-000000000001",
    correlation_id: str | None = "corr-42",
) -> int:
    async def run() -> int:
        sink = HttpDestination(allow_private=allow_private)
        await sink.setup()
        try:
            return await sink.send(destination, body=body, event_id=event_id, correlation_id=correlation_id)
        finally:
            await sink.close()

    return asyncio.run(run())


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_send_delivers_body_and_headers(http_receiver: ReceiverThread) -> None:
    destination = HttpDestinationSpec(id="d", url=f"{http_receiver.url}/hooks/orders", headers={"X-Tenant": "acme"})
    assert send(destination) == 200

    assert len(http_receiver.receiver.received) == 1
    got = http_receiver.receiver.received[0]
    assert got.method == "POST"
    assert got.path == "/hooks/orders"
    assert got.json() == {"id": 11}
    headers = lower(got.headers)
    assert headers["idempotency-key"] == "0190a1b2-0000-7000-8000-000000000001"
    assert headers["x-correlation-id"] == "corr-42"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Switchyard/1"
    assert headers["x-tenant"] == "acme"


def test_send_uses_the_destination_method_and_omits_a_missing_correlation_id(http_receiver: ReceiverThread) -> None:
    destination = HttpDestinationSpec(id="d", url=f"{http_receiver.url}/put-here", method="PUT")
    assert send(destination, correlation_id=None, event_id="ev-2") == 200
    got = http_receiver.receiver.received[0]
    assert got.method == "PUT"
    headers = lower(got.headers)
    assert "x-correlation-id" not in headers
    assert headers["idempotency-key"] == "ev-2"


def test_destination_headers_cannot_override_the_idempotency_key(http_receiver: ReceiverThread) -> None:
    destination = HttpDestinationSpec(
        id="d", url=f"{http_receiver.url}/h", headers={"Idempotency-Key": "forged", "Content-Type": "text/plain"}
    )
    send(destination, event_id="ev-3")
    headers = lower(http_receiver.receiver.received[0].headers)
    assert headers["idempotency-key"] == "ev-3"
    assert headers["content-type"] == "application/json"


def test_a_503_answer_is_a_retryable_failure(http_receiver: ReceiverThread) -> None:
    control(http_receiver, statuses=[503])
    with pytest.raises(DeliveryFailed) as info:
        send(HttpDestinationSpec(id="d", url=f"{http_receiver.url}/h"))
    assert info.value.retryable
    assert info.value.retry_after == DEFAULT_RETRY_AFTER_S
    assert info.value.status == 503
    assert info.value.error_type == "HTTP503"
    assert '"received": true' in str(info.value)
    assert len(http_receiver.receiver.received) == 1
    # The receiver answers 200 once its scripted statuses are used up.
    assert send(HttpDestinationSpec(id="d", url=f"{http_receiver.url}/h")) == 200


def test_a_400_answer_is_a_permanent_failure(http_receiver: ReceiverThread) -> None:
    control(http_receiver, statuses=[400])
    with pytest.raises(DeliveryFailed) as info:
        send(HttpDestinationSpec(id="d", url=f"{http_receiver.url}/h"))
    assert not info.value.retryable
    assert info.value.status == 400
    assert info.value.error_type == "HTTP400"


def test_a_slow_destination_is_a_retryable_timeout(http_receiver: ReceiverThread) -> None:
    control(http_receiver, delays=[2])
    with pytest.raises(DeliveryFailed) as info:
        send(HttpDestinationSpec(id="d", url=f"{http_receiver.url}/h", timeout_s=0.3))
    assert info.value.error_type == "Timeout"
    assert info.value.retryable


def test_an_unreachable_destination_is_a_retryable_connection_error() -> None:
    with pytest.raises(DeliveryFailed) as info:
        send(HttpDestinationSpec(id="d", url=f"http://127.0.0.1:{free_port()}/h", timeout_s=5))
    assert info.value.error_type == "ConnectionError"
    assert info.value.retryable


def test_send_before_setup_is_an_error() -> None:
    async def run() -> None:
        await HttpDestination(allow_private=True).send(
            HttpDestinationSpec(id="d", url="http://127.0.0.1:9/h"), body=b"{}", event_id="e", correlation_id=None
        )

    with pytest.raises(RuntimeError, match="setup"):
        asyncio.run(run())


def test_guarded_sink_refuses_a_host_name_that_resolves_to_loopback(http_receiver: ReceiverThread) -> None:
    with pytest.raises(DeliveryFailed) as info:
        send(HttpDestinationSpec(id="d", url=f"http://localhost:{http_receiver.port}/h"), allow_private=False)
    assert info.value.error_type == "ForbiddenAddress"
    assert not info.value.retryable
    assert len(http_receiver.receiver.received) == 0


def test_guarded_sink_refuses_a_loopback_ip_literal(http_receiver: ReceiverThread) -> None:
    with pytest.raises(DeliveryFailed) as info:
        send(HttpDestinationSpec(id="d", url=f"{http_receiver.url}/h"), allow_private=False)
    assert info.value.error_type == "ForbiddenAddress"
    assert len(http_receiver.receiver.received) == 0
