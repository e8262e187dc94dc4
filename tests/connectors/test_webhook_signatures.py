"""Standard Webhooks and generic HMAC-SHA256: reference vectors, round trips, and every way to fail."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from connectors.webhook_signatures import (
    SignatureInvalid,
    decode_secret,
    hmac_sha256_header,
    standard_webhooks_headers,
    verify_hmac_sha256,
    verify_standard_webhooks,
)

# The Standard Webhooks reference test vector.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def reference_headers() -> dict[str, str]:
    return {"webhook-id": MSG_ID, "webhook-timestamp": str(TIMESTAMP), "webhook-signature": SIGNATURE}


# --- secrets ----------------------------------------------------------------------------------


def test_whsec_secret_is_base64_decoded() -> None:
    assert decode_secret(SECRET) == base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")


def test_secret_without_prefix_is_raw_utf8() -> None:
    assert decode_secret("s3cr\u00e9t") == "s3cr\u00e9t".encode()


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_abc", "whsec_"])
def test_malformed_whsec_secret_is_refused(secret: str) -> None:
    with pytest.raises(SignatureInvalid, match="malformed secret"):
        decode_secret(secret)


def test_empty_secret_is_refused() -> None:
    with pytest.raises(SignatureInvalid, match="empty"):
        decode_secret("")


# --- Standard Webhooks: signing ---------------------------------------------------------------


def test_signing_reproduces_the_reference_vector() -> None:
    headers = standard_webhooks_headers(secret=SECRET, msg_id=MSG_ID, body=BODY, timestamp=TIMESTAMP)
    assert headers == reference_headers()


def test_timestamp_defaults_to_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("connectors.webhook_signatures.time.time", lambda: TIMESTAMP + 0.9)
    headers = standard_webhooks_headers(secret=SECRET, msg_id=MSG_ID, body=BODY)
    assert headers["webhook-timestamp"] == str(TIMESTAMP)
    assert headers["webhook-signature"] == SIGNATURE


def test_signing_with_a_malformed_secret_raises() -> None:
    with pytest.raises(SignatureInvalid, match="malformed secret"):
        standard_webhooks_headers(secret="whsec_%%%", msg_id=MSG_ID, body=BODY, timestamp=TIMESTAMP)


# --- Standard Webhooks: verifying -------------------------------------------------------------


def test_reference_vector_verifies() -> None:
    verify_standard_webhooks(secret=SECRET, headers=reference_headers(), body=BODY, now=TIMESTAMP)


def test_round_trip_with_a_raw_secret() -> None:
    body = b'{"order": 1}'
    headers = standard_webhooks_headers(secret="plain-secret", msg_id="m1", body=body, timestamp=1_700_000_000)
    verify_standard_webhooks(secret="plain-secret", headers=headers, body=body, now=1_700_000_010)


def test_wrong_secret_fails() -> None:
    with pytest.raises(SignatureInvalid, match="no matching"):
        verify_standard_webhooks(
            secret="whsec_" + base64.b64encode(b"another key").decode(),
            headers=reference_headers(),
            body=BODY,
            now=TIMESTAMP,
        )


def test_tampered_body_fails() -> None:
    with pytest.raises(SignatureInvalid, match="no matching"):
        verify_standard_webhooks(
            secret=SECRET, headers=reference_headers(), body=b'{"test": 2432232315}', now=TIMESTAMP
        )


def test_tampered_id_fails() -> None:
    headers = {**reference_headers(), "webhook-id": "msg_other"}
    with pytest.raises(SignatureInvalid, match="no matching"):
        verify_standard_webhooks(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP)


def test_tampered_timestamp_fails() -> None:
    headers = {**reference_headers(), "webhook-timestamp": str(TIMESTAMP + 1)}
    with pytest.raises(SignatureInvalid, match="no matching"):
        verify_standard_webhooks(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP)


def test_timestamp_at_the_edge_of_the_tolerance_passes() -> None:
    verify_standard_webhooks(
        secret=SECRET, headers=reference_headers(), body=BODY, tolerance_s=300, now=TIMESTAMP + 300
    )
    verify_standard_webhooks(
        secret=SECRET, headers=reference_headers(), body=BODY, tolerance_s=300, now=TIMESTAMP - 300
    )


def test_expired_timestamp_fails() -> None:
    with pytest.raises(SignatureInvalid, match="too old"):
        verify_standard_webhooks(
            secret=SECRET, headers=reference_headers(), body=BODY, tolerance_s=300, now=TIMESTAMP + 301
        )


def test_future_timestamp_fails() -> None:
    with pytest.raises(SignatureInvalid, match="in the future"):
        verify_standard_webhooks(
            secret=SECRET, headers=reference_headers(), body=BODY, tolerance_s=300, now=TIMESTAMP - 301
        )


def test_tolerance_uses_the_real_clock_by_default() -> None:
    with pytest.raises(SignatureInvalid, match="tolerance"):
        verify_standard_webhooks(secret=SECRET, headers=reference_headers(), body=BODY)


def test_non_integer_timestamp_fails() -> None:
    headers = {**reference_headers(), "webhook-timestamp": "yesterday"}
    with pytest.raises(SignatureInvalid, match="webhook-timestamp"):
        verify_standard_webhooks(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP)


def test_any_of_several_signatures_may_match() -> None:
    headers = {**reference_headers(), "webhook-signature": f"v1,AAAA{SIGNATURE[7:]} v1a,xyz {SIGNATURE}"}
    verify_standard_webhooks(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP)


def test_other_versions_are_ignored() -> None:
    headers = {**reference_headers(), "webhook-signature": "v2," + SIGNATURE.removeprefix("v1,")}
    with pytest.raises(SignatureInvalid, match="no matching"):
        verify_standard_webhooks(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP)


def test_garbage_signature_entries_fail_cleanly() -> None:
    headers = {**reference_headers(), "webhook-signature": "v1,!!!notbase64 v1 nonsense"}
    with pytest.raises(SignatureInvalid, match="no matching"):
        verify_standard_webhooks(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_fails_naming_it(missing: str) -> None:
    headers = reference_headers()
    del headers[missing]
    with pytest.raises(SignatureInvalid, match=f"missing header.*{missing}"):
        verify_standard_webhooks(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP)


def test_empty_header_counts_as_missing() -> None:
    headers = {**reference_headers(), "webhook-signature": ""}
    with pytest.raises(SignatureInvalid, match="missing header"):
        verify_standard_webhooks(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP)


def test_header_names_are_case_insensitive() -> None:
    headers = {"Webhook-Id": MSG_ID, "WEBHOOK-TIMESTAMP": str(TIMESTAMP), "Webhook-Signature": SIGNATURE}
    verify_standard_webhooks(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP)


def test_verifying_with_a_malformed_secret_fails() -> None:
    with pytest.raises(SignatureInvalid, match="malformed secret"):
        verify_standard_webhooks(secret="whsec_%%%", headers=reference_headers(), body=BODY, now=TIMESTAMP)


# --- generic HMAC-SHA256 ----------------------------------------------------------------------


def test_hmac_header_matches_githubs_documented_example() -> None:
    # https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    header = hmac_sha256_header(secret="It's a Secret to Everybody", body=b"Hello, World!")
    assert header == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_hmac_header_uses_a_whsec_secret_decoded() -> None:
    expected = hmac.new(base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), BODY, hashlib.sha256).hexdigest()
    assert hmac_sha256_header(secret=SECRET, body=BODY) == "sha256=" + expected


def test_hmac_round_trip_with_prefix_and_bare_hex() -> None:
    header = hmac_sha256_header(secret="k", body=b"payload")
    verify_hmac_sha256(secret="k", header_value=header, body=b"payload")
    verify_hmac_sha256(secret="k", header_value=header.removeprefix("sha256="), body=b"payload")
    verify_hmac_sha256(
        secret="k", header_value=" " + header.upper().replace("SHA256=", "sha256=") + " ", body=b"payload"
    )


def test_hmac_tampered_body_fails() -> None:
    header = hmac_sha256_header(secret="k", body=b"payload")
    with pytest.raises(SignatureInvalid, match="no matching"):
        verify_hmac_sha256(secret="k", header_value=header, body=b"payload!")


def test_hmac_wrong_secret_fails() -> None:
    header = hmac_sha256_header(secret="k", body=b"payload")
    with pytest.raises(SignatureInvalid, match="no matching"):
        verify_hmac_sha256(secret="other", header_value=header, body=b"payload")


@pytest.mark.parametrize("value", [None, "", "   "])
def test_hmac_missing_header_fails(value: str | None) -> None:
    with pytest.raises(SignatureInvalid, match="missing"):
        verify_hmac_sha256(secret="k", header_value=value, body=b"payload")


@pytest.mark.parametrize("value", ["sha256=", "sha256=zz", "sha1=abc", "sha256=\u00e9\u00e9"])
def test_hmac_garbage_header_fails_cleanly(value: str) -> None:
    with pytest.raises(SignatureInvalid, match="no matching"):
        verify_hmac_sha256(secret="k", header_value=value, body=b"payload")
