"""CORS for `make dev`, per DESIGN "CORS": browser clients on the origins in ALLOWED_ORIGINS.

For a listed origin, a preflight (OPTIONS with Access-Control-Request-Method) on any path answers
204 without auth, and every other response (gateway-made errors and the SSE stream included)
carries Access-Control-Allow-Origin, Vary: Origin and Access-Control-Expose-Headers: ETag. A
request from any other origin passes through untouched: no CORS headers, so the browser blocks it.
Bearer tokens, not cookies: no Allow-Credentials.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOWED_ORIGINS_ENV = "ALLOWED_ORIGINS"
ALLOWED_METHODS = ("GET", "POST", "PUT", "OPTIONS")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "Last-Event-ID")
EXPOSED_HEADERS = ("ETag",)
PREFLIGHT_MAX_AGE_SECONDS = 600  # Chromium caps it at 7200; ten minutes keeps a changed policy quick


def allowed_origins_from_env(environ: dict[str, str] | None = None) -> frozenset[str]:
    """ALLOWED_ORIGINS="https://a.example, https://b.example" -> {...}; trailing slashes dropped."""
    raw = (os.environ if environ is None else environ).get(ALLOWED_ORIGINS_ENV, "")
    return frozenset(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())


class Cors:
    """ASGI middleware: CORS headers for listed origins, preflights answered before the app."""

    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str]) -> None:
        self.app = app
        self.allowed_origins = frozenset(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.allowed_origins:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin not in self.allowed_origins:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self.preflight(origin)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_cors_headers(MutableHeaders(scope=message), origin)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    def preflight(origin: str) -> Response:
        response = Response(status_code=204)
        add_cors_headers(response.headers, origin)
        response.headers["Access-Control-Allow-Methods"] = ", ".join(ALLOWED_METHODS)
        response.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
        return response


def add_cors_headers(headers: MutableHeaders, origin: str) -> None:
    headers["Access-Control-Allow-Origin"] = origin
    headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
    headers.add_vary_header("Origin")
