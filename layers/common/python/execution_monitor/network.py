"""Where outbound HTTP (http_request actions, webhook deliveries) may go: every resolved address
must be public, or inside a network the deployment allows, and never a denied endpoint."""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from execution_monitor.actions.failure import ActionFailed
from execution_monitor.settings import ActionSettings

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# IPv6 forms that carry an IPv4 address in their last 32 bits and reach it: IPv4-compatible
# (::a.b.c.d, deprecated but still routed by some stacks) and the NAT64 well-known prefix.
_LAST_32_BITS_IS_IPV4 = (ipaddress.IPv6Network("::/96"), ipaddress.IPv6Network("64:ff9b::/96"))


@lru_cache(maxsize=8)
def _allowed_networks(spec: str) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in spec.split(",") if cidr.strip())


@lru_cache(maxsize=8)
def _denied_endpoints(spec: str) -> frozenset[tuple[IpAddress, int]]:
    endpoints = []
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        host, _, port = entry.rpartition(":")
        endpoints.append((ipaddress.ip_address(host.strip("[]")), int(port)))
    return frozenset(endpoints)


def _embedded_ipv4(address: IpAddress) -> IpAddress:
    """The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4, Teredo): where it goes."""
    if not isinstance(address, ipaddress.IPv6Address):
        return address
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if any(address in network for network in _LAST_32_BITS_IS_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    return address


def _is_public(address: IpAddress) -> bool:
    # is_global excludes private, loopback, link-local (metadata), shared (100.64/10), reserved...;
    # the deprecated site-local fec0::/10 is not in Python's list, so it is refused explicitly.
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return False
    return address.is_global and not address.is_multicast


def resolve_safe_address(host: str, port: int) -> str:
    """The first resolved address of `host` that policy allows; every address must be allowed."""
    settings = ActionSettings.load()
    allowed = _allowed_networks(settings.http_action_allowed_networks)
    denied = _denied_endpoints(settings.http_action_denied_endpoints)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ActionFailed(f"cannot resolve host {host}: {error.strerror}") from error
    except UnicodeError as error:  # the IDNA codec refuses the name (a label over 63 characters)
        raise ActionFailed(f"cannot resolve host {host[:100]}: not a valid host name") from error
    resolved = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in resolved:
        target = _embedded_ipv4(address)
        if (target, port) in denied or (
            not _is_public(target) and not any(target in network for network in allowed)
        ):
            raise ActionFailed(f"refused to call {host}: {address} is not a public address")
    return str(resolved[0])


def check_url(url: str) -> None:
    """Refuses (ActionFailed) a URL whose host resolves to an address policy does not allow."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ActionFailed("url must be an absolute http(s) URL")
    try:
        port = parts.port
    except ValueError as error:  # out of range or not a number
        raise ActionFailed("url has an invalid port") from error
    resolve_safe_address(parts.hostname, port or (443 if parts.scheme == "https" else 80))
