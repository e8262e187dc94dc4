"""The HTTP source's pure parts: body checks, correlation ids and key usage."""

from __future__ import annotations

import uuid

import pytest

from connectors.http_source import IngestRefused, KeyUsage, check_body, correlation_from

LIMIT = 64


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "  application/json  ;charset=UTF-8",
        "application/cloudevents+json",
    ],
)
def test_check_body_accepts_json(content_type: str) -> None:
    assert check_body(content_type=content_type, body=b'{"id": 1}', max_bytes=LIMIT) is None


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(IngestRefused) as info:
        check_body(content_type="application/json", body=b"[]", max_bytes=LIMIT)
    assert (info.value.status, info.value.code) == (400, "empty_batch")


@pytest.mark.parametrize("body", [b"[1]", b"42", b'"text"', b"null", '{"city": "Zürich"}'.encode()])
def test_check_body_accepts_any_json_document(body: bytes) -> None:
    check_body(content_type="application/json", body=body, max_bytes=LIMIT)


def test_check_body_accepts_a_body_of_exactly_the_limit() -> None:
    body = b'{"a": "' + b"x" * (LIMIT - 9) + b'"}'
    assert len(body) == LIMIT
    check_body(content_type="application/json", body=body, max_bytes=LIMIT)


def test_check_body_refuses_a_body_over_the_limit_with_413() -> None:
    body = b'{"a": "' + b"x" * (LIMIT - 8) + b'"}'
    assert len(body) == LIMIT + 1
    with pytest.raises(IngestRefused) as info:
        check_body(content_type="application/json", body=body, max_bytes=LIMIT)
    refusal = info.value
    assert refusal.status == 413
    assert refusal.code == "payload_too_large"
    assert f"{LIMIT + 1} bytes" in refusal.message
    assert f"limit is {LIMIT}" in refusal.message
    assert refusal.body() == {"error": {"code": "payload_too_large", "message": refusal.message, "details": {}}}


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        ("text/plain", "'text/plain'"),
        ("application/x-www-form-urlencoded", "'application/x-www-form-urlencoded'"),
        ("application/jsonx", "'application/jsonx'"),
        (None, "'none'"),
        ("", "'none'"),
    ],
)
def test_check_body_refuses_a_wrong_content_type_with_415(content_type: str | None, shown: str) -> None:
    with pytest.raises(IngestRefused) as info:
        check_body(content_type=content_type, body=b"{}", max_bytes=LIMIT)
    assert info.value.status == 415
    assert info.value.code == "unsupported_media_type"
    assert "Content-Type: application/json" in info.value.message
    assert f"got {shown}" in info.value.message


def test_check_body_refuses_invalid_json_with_400_and_position() -> None:
    body = b'{"a": 1,\n  "b": }'
    with pytest.raises(IngestRefused) as info:
        check_body(content_type="application/json", body=body, max_bytes=LIMIT)
    refusal = info.value
    assert refusal.status == 400
    assert refusal.code == "invalid_json"
    assert refusal.details == {"line": 2, "column": 8, "position": 16}
    assert "line 2 column 8" in refusal.message
    assert refusal.body()["error"] == {"code": "invalid_json", "message": refusal.message, "details": refusal.details}


@pytest.mark.parametrize("body", [b"", b"{", b"{'a': 1}", b'{"a": 1} {"b": 2}'])
def test_check_body_refuses_each_kind_of_broken_json(body: bytes) -> None:
    with pytest.raises(IngestRefused) as info:
        check_body(content_type="application/json", body=body, max_bytes=LIMIT)
    assert info.value.status == 400
    assert info.value.code == "invalid_json"
    assert info.value.details is not None
    assert {"line", "column", "position"} <= set(info.value.details)


def test_check_body_refuses_non_utf8_with_400() -> None:
    with pytest.raises(IngestRefused) as info:
        check_body(content_type="application/json", body=b'{"a": "\xff"}', max_bytes=LIMIT)
    assert info.value.status == 400
    assert info.value.code == "invalid_json"
    assert "UTF-8" in info.value.message


def test_correlation_from_prefers_x_correlation_id() -> None:
    headers = {"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"}
    assert correlation_from(headers) == "corr-1"


def test_correlation_from_falls_back_to_x_request_id() -> None:
    assert correlation_from({"X-Request-ID": "req-1", "Accept": "*/*"}) == "req-1"
    assert correlation_from({"X-Correlation-ID": "   ", "X-Request-ID": "req-2"}) == "req-2"


def test_correlation_from_strips_and_caps_the_value() -> None:
    assert correlation_from({"X-Correlation-ID": "  corr-1  "}) == "corr-1"
    assert correlation_from({"X-Correlation-ID": "c" * 500}) == "c" * 200


def test_correlation_from_generates_a_fresh_uuid_otherwise() -> None:
    first = correlation_from({})
    second = correlation_from({"X-Correlation-ID": "", "X-Request-ID": " "})
    assert first != second
    for value in (first, second):
        assert uuid.UUID(value).version == 4


@pytest.mark.parametrize("name", ["x-correlation-id", "X-Correlation-Id"])
def test_correlation_from_matches_header_names_case_insensitively(name: str) -> None:
    assert correlation_from({name: "corr-1"}) == "corr-1"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"amount": NaN}', "application/json"),
        (b'{"amount": Infinity}', "application/json"),
        (b'[{"amount": 1e400}]', "application/json"),
        (b'{"a": 1}\n{"amount": -Infinity}\n', "application/x-ndjson"),
    ],
)
def test_non_json_numbers_are_refused_not_stored(body: bytes, content_type: str) -> None:
    with pytest.raises(IngestRefused) as info:
        check_body(content_type=content_type, body=body, max_bytes=LIMIT)
    assert (info.value.status, info.value.code) == (400, "invalid_json")


def test_key_usage_keeps_each_keys_latest_use_until_drained() -> None:
    usage = KeyUsage()
    usage.used("1", 100.0)
    usage.used("1", 90.0)  # an older use (a slower request finishing later) does not move it back
    usage.used("2", 95.5)
    usage.used("1", 120.0)
    assert usage.drain() == {"1": 120.0, "2": 95.5}
    assert usage.drain() == {}
    usage.used("2", 130.0)
    assert usage.drain() == {"2": 130.0}
