"""The local API Gateway: an ASGI app that routes by the same ROUTES table the CDK stack deploys.

Per request: match a route, run the REQUEST authorizer (authorized routes), build the proxy event,
call the function's `lambda_handler` in a worker thread (handlers are sync and block on I/O), and
turn its proxy response back into HTTP. Streaming routes go to the function's ASGI app instead,
with the request context in headers, as the Lambda Web Adapter does. ASGI (not WSGI) so that
those long-lived SSE responses share the port with everything else.
"""

from __future__ import annotations

import base64
import fnmatch
import importlib
import json
import logging
import re
import uuid
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infrastructure.local import events, tokens
from infrastructure.local.events import HttpRequest, LambdaContext
from infrastructure.routes import API_PREFIX, AUTHORIZER_FUNCTION, ROUTES, Route

log = logging.getLogger("infrastructure.local.gateway")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
# Streaming functions expose the ASGI app the Lambda Web Adapter runs as `<function>.app:app`.
STREAMING_APP_MODULE = "{function}.app"
# Lambda Web Adapter (v1.0) sets these itself; copies sent by a client must never reach the app.
ADAPTER_HEADERS = (b"x-amzn-request-context", b"x-amzn-lambda-context")

Handler = Callable[[dict[str, Any], Any], Any]


def load_handler(function: str) -> Handler:
    """`functions/<function>/handler.py:lambda_handler`, imported on first use (fast startup)."""
    handler: Handler = importlib.import_module(f"{function}.handler").lambda_handler
    return handler


def load_streaming_app(function: str) -> ASGIApp:
    app: ASGIApp = importlib.import_module(STREAMING_APP_MODULE.format(function=function)).app
    return app


@dataclass(frozen=True)
class CompiledRoute:
    route: Route
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, route: Route) -> CompiledRoute:
        # /a/{id}/b -> ^/a/(?P<id>[^/]+)/b$ : a parameter is exactly one path segment, as in API Gateway.
        parts = re.split(r"\{(\w+)\}", route.path)
        regex = "".join(
            f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
        )
        return cls(route, re.compile(f"^{regex}$"))


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """A gateway-made error, shaped like the stack's gateway responses (constructs/api.py)."""
    body = json.dumps({"error": {"code": code, "message": message}})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def to_http(result: Any, request_id: str) -> Response:
    """A Lambda proxy response as HTTP; anything malformed is a 502, as in API Gateway."""
    if not isinstance(result, dict) or "statusCode" not in result:
        log.error("malformed Lambda proxy response: %r", result)
        return error(502, "internal_error", "Internal server error")
    body = result.get("body") or ""
    content = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    # headers and multiValueHeaders merge; for a name in both, the multi-value list wins.
    merged: dict[str, list[str]] = {
        name: [str(value)] for name, value in (result.get("headers") or {}).items()
    }
    for name, values in (result.get("multiValueHeaders") or {}).items():
        merged[name] = [str(value) for value in values]
    lowered = {name.lower() for name in merged}
    status = int(result["statusCode"])
    if "content-type" not in lowered and status not in (204, 304):  # those have no body to describe
        merged["Content-Type"] = ["application/json"]
    merged["x-amzn-RequestId"] = [request_id]
    response = Response(content, status_code=status)
    response.raw_headers.extend(
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, values in merged.items()
        if name.lower() not in ("content-length", "transfer-encoding", "connection")
        for value in values
    )
    return response


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows(policy: dict[str, Any], method_arn: str) -> bool:
    """Whether the authorizer's IAM policy allows this method (a matching Deny wins, as in IAM)."""
    matching = [
        statement
        for statement in _as_list(policy.get("Statement") or [])
        if any(
            isinstance(resource, str) and fnmatch.fnmatchcase(method_arn, resource)
            for resource in _as_list(statement.get("Resource"))
        )
    ]
    return bool(matching) and all(statement.get("Effect") == "Allow" for statement in matching)


class Gateway:
    def __init__(
        self,
        routes: tuple[Route, ...] = ROUTES,
        *,
        load: Callable[[str], Handler] = load_handler,
        load_streaming: Callable[[str], ASGIApp] = load_streaming_app,
        is_ready: Callable[[], bool] = lambda: True,
        site: ASGIApp | None = None,
    ) -> None:
        """`site` serves every GET/HEAD outside /api (the monitor's static files, in make dev)."""
        self.routes = [CompiledRoute.of(route) for route in routes]
        self.site = site
        self.load = load
        self.load_streaming = load_streaming
        self.is_ready = is_ready

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets (the API has none)
        if scope["path"] == "/health":
            ready = self.is_ready()
            body = json.dumps({"status": "ok" if ready else "starting"})
            await Response(body, status_code=200 if ready else 503, media_type="application/json")(
                scope, receive, send
            )
        elif scope["path"] == tokens.JWKS_ROUTE:
            # The authorizer fetches the public keys here, as it fetches Cognito's in AWS.
            await Response(tokens.JWKS_PATH.read_bytes(), media_type="application/json")(scope, receive, send)
        elif self.site is not None and _is_site_request(scope):
            await self.site(scope, receive, send)
        else:
            await self.handle(scope, receive, send)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | Response:
        allowed = []
        for compiled in self.routes:
            found = compiled.pattern.match(path)
            if found is None:
                continue
            if compiled.route.method == method:
                # API Gateway matches the encoded path and decodes the parameter values.
                return compiled.route, {name: unquote(value) for name, value in found.groupdict().items()}
            allowed.append(compiled.route.method)
        if allowed:
            # Deployed, API Gateway answers 404 here too (MISSING_AUTHENTICATION_TOKEN); locally a 405
            # with Allow tells the developer which methods the path has.
            return error(
                405, "method_not_allowed", f"{method} is not allowed here", {"Allow": ", ".join(allowed)}
            )
        return error(404, "not_found", "no such route")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        matched = self.match(scope["method"], path)
        if isinstance(matched, Response):
            await matched(scope, receive, send)
            return
        route, path_parameters = matched
        body = await _read_body(scope, receive)
        if body is None:
            await error(413, "payload_too_large", "the request is too large")(scope, receive, send)
            return
        client = scope.get("client")
        request = HttpRequest(
            method=scope["method"],
            path=path,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]],
            body=body,
            source_ip=client[0] if client else "127.0.0.1",
        )
        authorizer: dict[str, Any] | None = None
        if route.authorized:
            authorized = await self.authorize(request, route, path_parameters, request_id)
            if isinstance(authorized, Response):
                await authorized(scope, receive, send)
                return
            authorizer = authorized
        if route.streaming:
            await self.stream(scope, receive, send, request, route, request_id, authorizer)
            return
        event = events.proxy_event(request, route.path, path_parameters, request_id, authorizer)
        response = await self.invoke(route.function, event, request_id)
        await response(scope, receive, send)

    async def invoke(self, function: str, event: dict[str, Any], request_id: str) -> Response:
        try:
            handler = self.load(function)
            result = await run_in_threadpool(
                handler, event, LambdaContext(function, aws_request_id=request_id)
            )
        except Exception:
            # An unhandled error in the function: API Gateway answers 502 and the trace goes to the log.
            log.exception("function %s failed", function)
            return error(502, "internal_error", "Internal server error")
        return to_http(result, request_id)

    async def authorize(
        self, request: HttpRequest, route: Route, path_parameters: dict[str, str], request_id: str
    ) -> dict[str, Any] | Response:
        """The authorizer's context for requestContext.authorizer, or the gateway response to send."""
        event = events.authorizer_event(request, route.path, path_parameters, request_id)
        try:
            handler = self.load(AUTHORIZER_FUNCTION)
            result = await run_in_threadpool(handler, event, LambdaContext(AUTHORIZER_FUNCTION))
        except Exception as failure:
            # Only the exact message "Unauthorized" means 401; any other failure is a 500 in AWS.
            if str(failure) == "Unauthorized":
                return error(401, "unauthorized", "a valid bearer token is required")
            log.exception("the authorizer failed")
            return error(500, "internal_error", "the authorizer failed")
        if not _allows(result.get("policyDocument") or {}, event["methodArn"]):
            return error(403, "forbidden", "access denied")
        return {**(result.get("context") or {}), "principalId": result.get("principalId")}

    async def stream(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request: HttpRequest,
        route: Route,
        request_id: str,
        authorizer: dict[str, Any] | None,
    ) -> None:
        """Hand the request to the streaming function's ASGI app, as the Lambda Web Adapter would."""
        context = events.request_context(request, route.path, request_id, authorizer)
        lambda_context = LambdaContext(
            route.function, timeout_ms=events.STREAM_TIMEOUT_MS, aws_request_id=request_id
        )
        headers = [(name, value) for name, value in scope["headers"] if name not in ADAPTER_HEADERS]
        headers += [
            (b"x-amzn-request-context", json.dumps(context).encode()),
            (b"x-amzn-lambda-context", json.dumps(lambda_context.web_adapter_header()).encode()),
        ]
        replayed = False

        async def replay() -> Message:
            # The body was read already; give it once, then pass on disconnects to the app.
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            return await receive()

        try:
            app = self.load_streaming(route.function)
        except Exception:
            log.exception("streaming function %s failed to load", route.function)
            await error(502, "internal_error", "Internal server error")(scope, receive, send)
            return
        await app({**scope, "headers": headers}, replay, send)


def _is_site_request(scope: Scope) -> bool:
    path: str = scope["path"]
    is_api = path == API_PREFIX or path.startswith(f"{API_PREFIX}/")
    return not is_api and scope["method"] in ("GET", "HEAD")


async def _read_body(scope: Scope, receive: Receive) -> bytes | None:
    """The whole body, or None once it exceeds MAX_BODY_BYTES (checked before reading when declared)."""
    declared = dict(scope["headers"]).get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to do at ASGI startup: the runtime is started (and stopped) around the server.
    while True:
        message: MutableMapping[str, Any] = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
