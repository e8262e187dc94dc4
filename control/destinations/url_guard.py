"""Refuse destination URLs that point inside our network (SSRF), unless a setting allows those addresses.

This is the save-time check; the worker checks again at send time, since DNS can change in between.
A host name that does not resolve here is accepted: it may resolve where the workers run, and they guard it then.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _addresses(host: str) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _allowed(address: IpAddress) -> bool:
    if settings.ALLOW_PRIVATE_DESTINATIONS:
        return True
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.DESTINATION_ALLOWED_NETWORKS)


def _non_public(address: IpAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    for label, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("unspecified", address.is_unspecified),
    ):
        if flag:
            return label
    return None


def url_problem(url: str) -> str | None:
    """Why the URL may not be a destination, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "use an http:// or https:// URL"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username or parts.password:
        return "put credentials in the destination's auth settings, not in the URL"
    for address in _addresses(parts.hostname):
        kind = _non_public(address)
        if kind and not _allowed(address):
            return (
                f"{parts.hostname} resolves to {kind} address {address}, which destinations may not reach "
                "(allow it with SWITCHYARD_DESTINATION_ALLOWED_NETWORKS)"
            )
    return None
