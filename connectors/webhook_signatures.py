"""Request signatures: Standard Webhooks (https://www.standardwebhooks.com/) and generic HMAC-SHA256.

We sign what we send (so destinations can check it came from us and was not replayed) and verify
what sources send (so an ingest URL that leaks is not enough to inject events). Every comparison
of a signature is constant-time, so the time a refusal takes says nothing about the right value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
HMAC_PREFIX = "sha256="


class SignatureInvalid(Exception):
    """A request whose signature does not verify; the message says which check failed."""


def decode_secret(secret: str) -> bytes:
    """The HMAC key: "whsec_<base64>" is decoded (Standard Webhooks); anything else is raw UTF-8 (generic HMAC)."""
    if secret.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureInvalid("malformed secret: the part after 'whsec_' is not valid base64") from exc
    else:
        key = secret.encode()
    if not key:
        # An empty HMAC key is a signature anybody can compute: refuse it rather than "verify" with it.
        raise SignatureInvalid("malformed secret: the signing secret is empty")
    return key


def _standard_webhooks_signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def standard_webhooks_headers(*, secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The three headers that sign `body` as a Standard Webhooks message (the id and time are signed too)."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = _standard_webhooks_signature(decode_secret(secret), msg_id, ts, body)
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}",
    }


def verify_standard_webhooks(
    *, secret: str, headers: Mapping[str, str], body: bytes, tolerance_s: int = 300, now: float | None = None
) -> None:
    """Raise SignatureInvalid unless one "v1" signature matches and the timestamp is within `tolerance_s`.

    The timestamp check (both directions) is what stops a captured request being replayed later.
    Several space-separated signatures are allowed so senders can rotate secrets without downtime.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [name for name in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER) if not lowered.get(name)]
    if missing:
        raise SignatureInvalid(f"missing header(s): {', '.join(missing)}")
    msg_id = lowered[ID_HEADER]
    try:
        timestamp = int(lowered[TIMESTAMP_HEADER].strip())
    except ValueError as exc:
        raise SignatureInvalid(f"{TIMESTAMP_HEADER} is not an integer number of seconds") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureInvalid(
            f"{TIMESTAMP_HEADER} is outside the tolerance of {tolerance_s}s "
            f"({'too old' if timestamp < current else 'in the future'})"
        )
    expected = _standard_webhooks_signature(decode_secret(secret), msg_id, timestamp, body)
    for entry in lowered[SIGNATURE_HEADER].split():
        version, _, encoded = entry.partition(",")
        if version != SIGNATURE_VERSION:
            continue  # other versions (e.g. asymmetric "v1a") are not ours to check
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(candidate, expected):
            return
    raise SignatureInvalid(f"no matching {SIGNATURE_VERSION} signature in {SIGNATURE_HEADER}")


def hmac_sha256_header(*, secret: str, body: bytes) -> str:
    """A "sha256=<hex>" value over `body`, as GitHub's X-Hub-Signature-256 and many others send."""
    return HMAC_PREFIX + hmac.new(decode_secret(secret), body, hashlib.sha256).hexdigest()


def verify_hmac_sha256(*, secret: str, header_value: str | None, body: bytes) -> None:
    """Raise SignatureInvalid unless `header_value` ("sha256=<hex>" or bare hex) is the HMAC of `body`."""
    if header_value is None or not header_value.strip():
        raise SignatureInvalid("missing signature header")
    given = header_value.strip()
    if given[: len(HMAC_PREFIX)].lower() == HMAC_PREFIX:
        given = given[len(HMAC_PREFIX) :]
    expected = hmac.new(decode_secret(secret), body, hashlib.sha256).hexdigest()
    # Both sides are ASCII-encoded so a non-ASCII header cannot raise instead of failing cleanly.
    if not hmac.compare_digest(given.lower().encode("ascii", "replace"), expected.encode()):
        raise SignatureInvalid("no matching signature: the HMAC-SHA256 of the body does not match")
