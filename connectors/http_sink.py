"""HTTP sink: POST an event to a destination and classify the outcome.

2xx is done; 408, 429, 5xx, timeouts and connection errors are retryable (DeliveryFailed with
`retry_after`); any other status is permanent. The SSRF guard sits in the DNS resolver, so the
address checked is the address connected to, at send time.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from streams.exceptions import DeliveryFailed
from streams.spec import HttpDestinationSpec

logger = logging.getLogger("switchyard.delivery")

RETRYABLE_STATUS = {408, 429}
DEFAULT_RETRY_AFTER_S = 5.0
_MAX_RESPONSE_EXCERPT = 300


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


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


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to the schedule rather than parse calendars here


def classify(status: int, body_excerpt: str, retry_after_header: str | None) -> DeliveryFailed | None:
    """None for success, else the classified failure."""
    if 200 <= status < 300:
        return None
    message = f"destination answered HTTP {status}: {body_excerpt}"
    if status in RETRYABLE_STATUS or status >= 500:
        retry_after = parse_retry_after(retry_after_header) or DEFAULT_RETRY_AFTER_S
        return DeliveryFailed(message, error_type=f"HTTP{status}", retry_after=retry_after, status=status)
    return DeliveryFailed(message, error_type=f"HTTP{status}", status=status)


class HttpDestination:
    """One pooled aiohttp session shared by every HTTP destination of a worker."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._session: aiohttp.ClientSession | None = None

    async def setup(self) -> None:
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(allow_private=self._allow_private), limit=200)
        self._session = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self, destination: HttpDestinationSpec, *, body: bytes, event_id: str, correlation_id: str | None
    ) -> int:
        """Deliver once; return the status on success, raise DeliveryFailed otherwise."""
        if self._session is None:
            raise RuntimeError("HttpDestination.setup() was not called")
        headers: dict[str, Any] = {
            **destination.headers,
            "Content-Type": "application/json",
            "Idempotency-Key": event_id,
            "User-Agent": "Switchyard/1",
        }
        if correlation_id:
            headers["X-Correlation-ID"] = correlation_id
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
