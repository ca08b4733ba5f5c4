"""Who is asking: the client's address, for the rate limits of the login and signing pages.

Behind a reverse proxy or a load balancer every request comes from the proxy, so keying a
limit on the peer address makes the whole community share one bucket. The proxy says whom it
serves in ``X-Forwarded-For`` (nginx, Caddy, HAProxy, Traefik, the cloud load balancers) or in
``Forwarded`` (RFC 7239); but anyone can send those headers, so they are believed only when the
peer that connected is a trusted proxy (``CLA_TRUSTED_PROXIES``), and only as far as trusted
hops go. Each proxy appends the address it saw, so the list is read from the right and the
first address that is not a trusted proxy is the client; whatever the client wrote into the
header itself lies to the left of that and is never reached. Only the one header the
deployment's proxy sets (``CLA_FORWARDED_HEADER``) is read: a proxy passes the other one
through untouched, so reading it would let a client pick its own address.

A hop that is not an address (``unknown``, an obfuscated ``_name``, garbage) ends the walk at
the last address before it: the trusted proxy that wrote it could not say more.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

from bot.settings import DEFAULT_FORWARDED_HEADER, Network
from bot.web.keys import SETTINGS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN = "unknown"  # no peer address (a Unix socket)
IPV6_LIMIT_PREFIX = 64  # one IPv6 subscriber gets a /64: limit the prefix, not each address


def parse_address(text: str | None) -> IPAddress | None:
    """An address as a peer or a proxy writes it: ``192.0.2.1``, ``192.0.2.1:4711``,
    ``2001:db8::1``, ``[2001:db8::1]:4711``, optionally quoted; IPv4-mapped IPv6 addresses
    become IPv4. ``None`` for anything else."""
    if not text:
        return None
    value = text.strip().strip('"').strip()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        value = value[1:end]
    elif value.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has several colons
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forwarded_hops(values: Sequence[str], header: str) -> list[str]:
    """The hops a header lists, left (farthest) to right (nearest), raw. ``values`` are the
    header's lines in the order received (several lines form one list)."""
    hops: list[str] = []
    for line in values:
        for element in line.split(","):
            if header == "forwarded":
                found = ""
                for pair in element.split(";"):
                    name, _, value = pair.partition("=")
                    if name.strip().lower() == "for":
                        found = value
                hops.append(found)
            else:
                hops.append(element)
    return [hop.strip() for hop in hops]


def _trusted(address: IPAddress, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_address(
    peer: str | None,
    forwarded: Sequence[str],
    *,
    trusted: Sequence[Network],
    header: str = DEFAULT_FORWARDED_HEADER,
) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the rightmost
    hop of ``forwarded`` (the lines of ``header``) that is not a trusted proxy."""
    address = parse_address(peer)
    if address is None:
        return peer or UNKNOWN
    if not _trusted(address, trusted):
        return str(address)
    for raw in reversed(forwarded_hops(forwarded, header)):
        hop = parse_address(raw)
        if hop is None:
            break
        address = hop
        if not _trusted(hop, trusted):
            break
    return str(address)


def limit_key(address: str) -> str:
    """The rate-limit bucket of an address: itself for IPv4, its /64 for IPv6 (a client that
    holds a /64 could otherwise take a fresh address for every request)."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, IPV6_LIMIT_PREFIX), strict=False))
    return address


def client_ip(request: web.Request) -> str:
    """This request's client address, by the deployment's trusted proxies."""
    settings = request.config_dict[SETTINGS]
    header = settings.forwarded_header
    return client_address(
        request.remote,
        request.headers.getall(header, []) if settings.trusted_proxies else [],
        trusted=settings.trusted_proxies,
        header=header,
    )


def client_key(request: web.Request) -> str:
    """The rate-limit key of this request's client."""
    return limit_key(client_ip(request))
