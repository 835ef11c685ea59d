"""Performs `http_request`: one HTTP call, guarded against SSRF by checking every resolved address.

The output keeps its shape whatever the response: `{"status", "headers", "body"}`, with the body
capped at MAX_BODY_BYTES (then `"truncated": true` and the body is the text received) and parsed
only when it is JSON that nests at most jsonvalues.MAX_DEPTH levels (else it stays text).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from execution_monitor import jsonvalues
from execution_monitor.actions.definitions import HttpRequestParams
from execution_monitor.actions.failure import ActionFailed
from execution_monitor.network import resolve_safe_address

MAX_BODY_BYTES = 64 * 1024
MAX_HEADER_BYTES = 16 * 1024  # response headers kept in the output, in all
READ_CHUNK_BYTES = 16 * 1024


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


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # at most MAX_BODY_BYTES
    truncated: bool

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key.lower() == name.lower()), "")


def exchange(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> Answer:
    """One HTTP exchange with an address the SSRF guard allowed (pinned, so DNS cannot change it
    in between), within an overall deadline; the body read up to the cap."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    address = resolve_safe_address(host, port)
    connection_class = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
    connection = connection_class(host, port, address, timeout)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = _read_capped(response, deadline=time.monotonic() + timeout, describe=f"{method} {host}")
    except TimeoutError as error:
        raise ActionFailed(f"{method} {host} timed out after {timeout:g}s") from error
    except OSError as error:
        raise ActionFailed(f"{method} {host} failed: {error}") from error
    finally:
        connection.close()
    return Answer(response.status, response.getheaders(), raw[:MAX_BODY_BYTES], len(raw) > MAX_BODY_BYTES)


def perform(params: HttpRequestParams, timeout_seconds: float) -> dict[str, Any]:
    HttpRequestParams.absolute_http_url(params.url)
    headers = dict(params.headers or {})
    body = _encode_body(params.body, headers)
    answer = exchange(params.method, params.url, headers, body, min(params.timeout_seconds, timeout_seconds))
    output: dict[str, Any] = {
        "status": answer.status,
        "headers": _capped_headers(answer.headers),
        "body": answer.body.decode("utf-8", errors="replace")
        if answer.truncated
        else _decode_body(answer.body, answer.header("Content-Type")),
    }
    if answer.truncated:
        output["truncated"] = True
    expected = params.expected_status
    if (expected and answer.status not in expected) or (not expected and not 200 <= answer.status < 300):
        wanted = ", ".join(map(str, expected)) if expected else "2xx"
        host = urlsplit(params.url).hostname
        raise ActionFailed(f"{params.method} {host} answered HTTP {answer.status} (expected {wanted})")
    return output
