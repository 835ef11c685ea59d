"""Performs `http_request`: one HTTP call, guarded against SSRF by checking every resolved address.

The output keeps its shape whatever the response: `{"status", "headers", "body"}`, with the body
capped at MAX_BODY_BYTES (then `"truncated": true` and the body is the text received) and parsed
only when it is JSON that nests at most jsonvalues.MAX_DEPTH levels (else it stays text).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from execution_monitor import jsonvalues
from execution_monitor.actions.definitions import HttpRequestParams
from execution_monitor.actions.failure import ActionFailed
from execution_monitor.settings import ActionSettings

MAX_BODY_BYTES = 64 * 1024
MAX_HEADER_BYTES = 16 * 1024  # response headers kept in the output, in all
READ_CHUNK_BYTES = 16 * 1024
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
    resolved = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in resolved:
        target = _embedded_ipv4(address)
        if (target, port) in denied or (
            not _is_public(target) and not any(target in network for network in allowed)
        ):
            raise ActionFailed(f"refused to call {host}: {address} is not a public address")
    return str(resolved[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, so a second DNS answer cannot redirect us."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def _encode_body(body: Any, headers: dict[str, str]) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, str):
        return body.encode()
    headers.setdefault("Content-Type", "application/json")
    return json.dumps(body).encode()


def _decode_body(raw: bytes, content_type: str) -> Any:
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            return jsonvalues.loads(text)
        except ValueError:
            return text  # not JSON after all, or too deep to keep as structure
    return text


def _read_capped(response: http.client.HTTPResponse, *, deadline: float, describe: str) -> bytes:
    """The body up to the cap plus one byte, within the action's overall deadline (the socket
    timeout alone applies per read, so a server dripping bytes could hold the Lambda for minutes)."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BODY_BYTES:
        if time.monotonic() > deadline:
            raise ActionFailed(f"{describe} did not finish its response in time")
        chunk = response.read1(min(READ_CHUNK_BYTES, MAX_BODY_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _capped_headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    kept: dict[str, str] = {}
    size = 0
    for name, value in pairs:
        size += len(name) + len(value)
        if size > MAX_HEADER_BYTES:
            break
        kept[name.lower()] = value
    return kept


def perform(params: HttpRequestParams, timeout_seconds: float) -> dict[str, Any]:
    HttpRequestParams.absolute_http_url(params.url)
    parts = urlsplit(params.url)
    host = parts.hostname or ""
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    address = resolve_safe_address(host, port)
    timeout = min(params.timeout_seconds, timeout_seconds)
    connection_class = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
    connection = connection_class(host, port, address, timeout)
    headers = dict(params.headers or {})
    body = _encode_body(params.body, headers)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.request(params.method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = _read_capped(response, deadline=time.monotonic() + timeout, describe=f"{params.method} {host}")
    except TimeoutError as error:
        raise ActionFailed(f"{params.method} {host} timed out after {timeout:g}s") from error
    except OSError as error:
        raise ActionFailed(f"{params.method} {host} failed: {error}") from error
    finally:
        connection.close()
    truncated = len(raw) > MAX_BODY_BYTES
    raw = raw[:MAX_BODY_BYTES]
    content_type = response.getheader("Content-Type", "") or ""
    output: dict[str, Any] = {
        "status": response.status,
        "headers": _capped_headers(response.getheaders()),
        "body": raw.decode("utf-8", errors="replace") if truncated else _decode_body(raw, content_type),
    }
    if truncated:
        output["truncated"] = True
    expected = params.expected_status
    if (expected and response.status not in expected) or (not expected and not 200 <= response.status < 300):
        wanted = ", ".join(map(str, expected)) if expected else "2xx"
        raise ActionFailed(f"{params.method} {host} answered HTTP {response.status} (expected {wanted})")
    return output
