"""HTTP sink: POST an event to a destination and classify the outcome.

2xx is done; 408, 429, 5xx, timeouts and connection errors are retryable (DeliveryFailed with
`retry_after`); any other status is permanent. The SSRF guard sits in the DNS resolver, so the
address checked is the address connected to, at send time.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import math
import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from connectors.webhook_signatures import SignatureInvalid, standard_webhooks_headers
from streams.exceptions import DeliveryFailed
from streams.secrets import SecretError, decrypt
from streams.spec import HttpDestinationSpec

logger = logging.getLogger("switchyard.delivery")

RETRYABLE_STATUS = {408, 429}
DEFAULT_RETRY_AFTER_S = 5.0
_MAX_RESPONSE_EXCERPT = 300


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 reached through IPv6 (mapped, NAT64, 6to4) is judged by the IPv4 address inside.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in ipaddress.IPv6Network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(str(embedded))
    return ip.is_global and not ip.is_multicast


def check_literal_host(host: str | None, *, allow_private: bool) -> None:
    """aiohttp does not consult the resolver for IP-literal hosts, so those are checked here."""
    if allow_private or not host:
        return
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return  # a name: the GuardedResolver checks what it resolves to
    if not is_public_address(host.strip("[]")):
        raise DeliveryFailed(
            f"destination address {host} is not public; refused (SSRF guard)", error_type="ForbiddenAddress"
        )


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver, then refuses private, loopback and link-local hosts."""

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = DefaultResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if self._allow_private:
            return results
        allowed = [r for r in results if is_public_address(r["host"])]
        if not allowed:
            raise DeliveryFailed(
                f"destination host {host!r} resolves only to non-public addresses; refused (SSRF guard)",
                error_type="ForbiddenAddress",
            )
        return allowed

    async def close(self) -> None:
        await self._inner.close()


MAX_RETRY_AFTER_S = 24 * 60 * 60.0


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a numeric Retry-After, bounded to a day; None when absent or not a number."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: fall back to the schedule rather than parse calendars here
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER_S)


def classify(status: int, body_excerpt: str, retry_after_header: str | None) -> DeliveryFailed | None:
    """None for success, else the classified failure."""
    if 200 <= status < 300:
        return None
    message = f"destination answered HTTP {status}: {body_excerpt}"
    if status in RETRYABLE_STATUS or status >= 500:
        parsed = parse_retry_after(retry_after_header)
        retry_after = DEFAULT_RETRY_AFTER_S if parsed is None else parsed
        return DeliveryFailed(message, error_type=f"HTTP{status}", retry_after=retry_after, status=status)
    return DeliveryFailed(message, error_type=f"HTTP{status}", status=status)


def auth_headers(destination: HttpDestinationSpec) -> dict[str, str]:
    """The Authorization header for basic or bearer auth; the secret is decrypted only here, at send time."""
    if destination.auth_type == "bearer":
        return {"Authorization": f"Bearer {decrypt(destination.auth_secret_enc)}"}
    if destination.auth_type == "basic":
        pair = f"{destination.auth_username}:{decrypt(destination.auth_secret_enc)}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    return {}


def request_headers(
    destination: HttpDestinationSpec,
    *,
    body: bytes,
    event_id: str,
    correlation_id: str | None,
    replay_job_id: str | None = None,
) -> dict[str, str]:
    headers = {
        **destination.headers,
        **auth_headers(destination),
        "Content-Type": "application/json",
        "Idempotency-Key": event_id,
        "User-Agent": "Switchyard/1",
    }
    if correlation_id:
        headers["X-Correlation-ID"] = correlation_id
    if replay_job_id:
        # Receivers can tell a replayed delivery from a live one (the Idempotency-Key stays the event id).
        headers["X-Switchyard-Replay-Job"] = replay_job_id
    if destination.signing_secret_enc:
        # Signed per attempt (fresh timestamp); webhook-id is the event id, stable across retries.
        secret = decrypt(destination.signing_secret_enc)
        headers.update(standard_webhooks_headers(secret=secret, msg_id=event_id, body=body))
    return headers


class HttpDestination:
    """One pooled aiohttp session shared by every HTTP destination of a worker."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._session: aiohttp.ClientSession | None = None

    async def setup(self) -> None:
        # No global cap: each destination's own concurrency limit bounds its connections, so a few
        # slow destinations cannot use up a shared pool and starve the others.
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(allow_private=self._allow_private), limit=0)
        self._session = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        destination: HttpDestinationSpec,
        *,
        body: bytes,
        event_id: str,
        correlation_id: str | None,
        replay_job_id: str | None = None,
    ) -> int:
        """Deliver once; return the status on success, raise DeliveryFailed otherwise."""
        if self._session is None:
            raise RuntimeError("HttpDestination.setup() was not called")
        try:
            headers = request_headers(
                destination, body=body, event_id=event_id, correlation_id=correlation_id, replay_job_id=replay_job_id
            )
        except (SecretError, SignatureInvalid) as exc:
            # A configuration problem, not the event's: retry (it may be fixed), never send unauthenticated.
            raise DeliveryFailed(str(exc), error_type="SecretError", retry_after=60.0) from exc
        check_literal_host(URL(destination.url).host, allow_private=self._allow_private)
        timeout = aiohttp.ClientTimeout(total=destination.timeout_s)
        try:
            async with self._session.request(
                destination.method, destination.url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                excerpt = (await response.text(errors="replace"))[:_MAX_RESPONSE_EXCERPT]
                failure = classify(response.status, excerpt, response.headers.get("Retry-After"))
        except DeliveryFailed:
            raise
        except TimeoutError as exc:
            raise DeliveryFailed(
                f"no answer within {destination.timeout_s}s", error_type="Timeout", retry_after=DEFAULT_RETRY_AFTER_S
            ) from exc
        except aiohttp.ClientError as exc:
            raise DeliveryFailed(
                f"could not reach the destination: {exc}",
                error_type="ConnectionError",
                retry_after=DEFAULT_RETRY_AFTER_S,
            ) from exc
        if failure is not None:
            raise failure
        return response.status
