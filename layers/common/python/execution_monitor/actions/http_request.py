"""`http_request`: one HTTP call, guarded against SSRF by checking every resolved address."""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from execution_monitor.actions.base import ActionBase
from execution_monitor.api_model import ApiModel
from execution_monitor.settings import get_settings

MAX_BODY_BYTES = 64 * 1024
READ_CHUNK_BYTES = 16 * 1024
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ActionFailed(Exception):
    """The action ran and failed for a reason the user can act on (one line, no stack)."""


class HttpRequestParams(ApiModel):
    url: str = Field(max_length=2048)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    headers: dict[str, str] | None = None
    body: Any = None
    timeout_seconds: float = Field(default=10, gt=0, le=60)
    expected_status: list[int] | None = Field(default=None, min_length=1, max_length=50)

    @field_validator("url")
    @classmethod
    def absolute_http_url(cls, url: str) -> str:
        if "{{" in url:
            return url  # checked again once its references are resolved
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an absolute http(s) URL")
        return url

    @field_validator("expected_status")
    @classmethod
    def real_status_codes(cls, codes: list[int] | None) -> list[int] | None:
        if codes and any(not 100 <= code <= 599 for code in codes):
            raise ValueError("status codes are between 100 and 599")
        return codes


class HttpRequestAction(ActionBase):
    type: Literal["http_request"]
    params: HttpRequestParams


@lru_cache(maxsize=8)
def _allowed_networks(spec: str) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in spec.split(",") if cidr.strip())


def _embedded_ipv4(address: IpAddress) -> IpAddress:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo), which is where it really goes."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address.sixtofour:
            return address.sixtofour
        if address.teredo:
            return address.teredo[1]
    return address


def _is_public(address: IpAddress) -> bool:
    # is_global excludes private, loopback, link-local (metadata), shared (100.64/10), reserved...
    return address.is_global and not address.is_multicast


def resolve_safe_address(host: str, port: int) -> str:
    """The first resolved address of `host` that policy allows; every address must be allowed."""
    allowed = _allowed_networks(get_settings().http_action_allowed_networks)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ActionFailed(f"cannot resolve host {host}: {error.strerror}") from error
    addresses = [_embedded_ipv4(ipaddress.ip_address(info[4][0])) for info in infos]
    for address in addresses:
        if not _is_public(address) and not any(address in network for network in allowed):
            raise ActionFailed(f"refused to call {host}: {address} is not a public address")
    return str(addresses[0])


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
            return json.loads(text)
        except ValueError:
            return text
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
        "headers": {name.lower(): value for name, value in response.getheaders()},
        "body": raw.decode("utf-8", errors="replace") if truncated else _decode_body(raw, content_type),
    }
    if truncated:
        output["truncated"] = True
    expected = params.expected_status
    if (expected and response.status not in expected) or (not expected and not 200 <= response.status < 300):
        wanted = ", ".join(map(str, expected)) if expected else "2xx"
        raise ActionFailed(f"{params.method} {host} answered HTTP {response.status} (expected {wanted})")
    return output
