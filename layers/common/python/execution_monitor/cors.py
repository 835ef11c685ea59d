"""CORS per DESIGN "CORS": headers for the origins in ALLOWED_ORIGINS, nothing for any other.

One implementation wherever a response is made: the API handlers (`api.serve`), the SSE app and
the local gateway (`CorsMiddleware`), and the preflight function behind API Gateway's OPTIONS
methods. Headers are only added where a response lacks them, so layers can stack (the SSE app's
answer passes through the local gateway's middleware unchanged). Bearer tokens, not cookies: no
Access-Control-Allow-Credentials. Plain ASGI here, no Starlette: the common layer has none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from execution_monitor.settings import CorsSettings

ALLOWED_METHODS = ("GET", "POST", "PUT", "OPTIONS")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "Last-Event-ID")
EXPOSED_HEADERS = ("ETag",)
PREFLIGHT_MAX_AGE_SECONDS = 600  # Chromium caps it at 7200; ten minutes keeps a changed policy quick
ALLOW_ORIGIN = "Access-Control-Allow-Origin"


def allowed_origins() -> frozenset[str]:
    return CorsSettings.load().allowed_origins


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A request header by name, whatever its case (HTTP/2 lowercases, API Gateway keeps the case)."""
    wanted = name.lower()
    return next((value for key, value in (headers or {}).items() if key.lower() == wanted), None)


def response_headers(origin: str | None, allowed: frozenset[str]) -> dict[str, str]:
    """What every answer to a listed origin carries; nothing for any other origin (or none)."""
    if not origin or origin not in allowed:
        return {}
    return {
        ALLOW_ORIGIN: origin,
        "Access-Control-Expose-Headers": ", ".join(EXPOSED_HEADERS),
        "Vary": "Origin",
    }


def is_preflight(method: str, headers: Mapping[str, str] | None) -> bool:
    return method.upper() == "OPTIONS" and header(headers, "Access-Control-Request-Method") is not None


def preflight_headers(origin: str | None, allowed: frozenset[str]) -> dict[str, str]:
    """The 204 answer's headers to a listed origin's preflight; nothing for any other origin."""
    headers = response_headers(origin, allowed)
    if not headers:
        return {}
    return {
        **headers,
        "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
        "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
    }


def missing(existing: Mapping[str, str], cors: Mapping[str, str]) -> dict[str, str]:
    """The headers to write so a response with `existing` headers carries `cors`: nothing when it
    already answers CORS itself; Origin joins an existing Vary instead of replacing it."""
    present = {name.lower(): (name, value) for name, value in existing.items()}
    if not cors or ALLOW_ORIGIN.lower() in present:
        return {}
    updates = {name: value for name, value in cors.items() if name.lower() not in present}
    if "Vary" in cors and "vary" in present:
        name, value = present["vary"]
        varies = [part.strip() for part in value.split(",") if part.strip()]
        if not any(part.lower() in ("origin", "*") for part in varies):
            updates[name] = ", ".join([*varies, cors["Vary"]])
    return updates


def with_cors(response: dict[str, Any], request_headers: Mapping[str, str] | None) -> dict[str, Any]:
    """A Lambda proxy response with the CORS headers its request's origin should get."""
    cors = response_headers(header(request_headers, "Origin"), allowed_origins())
    if not cors:
        return response
    single = dict(response.get("headers") or {})
    multiple = {name: list(values) for name, values in (response.get("multiValueHeaders") or {}).items()}
    existing = {**single, **{name: ", ".join(values) for name, values in multiple.items()}}
    for name, value in missing(existing, cors).items():
        if name in multiple:
            multiple[name] = [value]
        else:
            single[name] = value
    return {**response, "headers": single, **({"multiValueHeaders": multiple} if multiple else {})}


def preflight_response(request_headers: Mapping[str, str] | None) -> dict[str, Any]:
    """API Gateway's OPTIONS methods: 204 for a listed origin, 403 without CORS for any other."""
    cors = preflight_headers(header(request_headers, "Origin"), allowed_origins())
    if not cors:
        return {"statusCode": 403, "headers": {"Content-Type": "application/json"}, "body": _REFUSED}
    return {"statusCode": 204, "headers": cors, "body": ""}


_REFUSED = '{"error":{"code":"forbidden","message":"this origin may not call the API"}}'

# -- ASGI (the SSE app, and the local gateway) ---------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class CorsMiddleware:
    """ASGI middleware: CORS headers (those lacking) on every answer to a listed origin; with
    `answer_preflights`, a listed origin's preflight is answered 204 before the app sees it."""

    def __init__(
        self,
        app: ASGIApp,
        origins: Callable[[], Iterable[str]] = allowed_origins,
        *,
        answer_preflights: bool = False,
    ) -> None:
        self.app = app
        self.origins = origins
        self.answer_preflights = answer_preflights

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        origin, allowed = header(headers, "Origin"), frozenset(self.origins())
        if self.answer_preflights and is_preflight(scope["method"], headers):
            preflight = preflight_headers(origin, allowed)
            if preflight:
                await _empty_response(send, 204, preflight)
                return
        cors = response_headers(origin, allowed)
        if not cors:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_raw_headers(list(message.get("headers") or []), cors)
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _with_raw_headers(raw: list[tuple[bytes, bytes]], cors: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    existing: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        existing[name] = f"{existing[name]}, {value}" if name in existing else value
    updates = {name.lower(): value for name, value in missing(existing, cors).items()}
    kept = [(name, value) for name, value in raw if name.decode("latin-1").lower() not in updates]
    return kept + [(name.encode("latin-1"), value.encode("latin-1")) for name, value in updates.items()]


async def _empty_response(send: Send, status: int, headers: Mapping[str, str]) -> None:
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
