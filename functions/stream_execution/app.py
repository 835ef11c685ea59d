"""GET …/executions/{executionId}/stream: Server-Sent Events for one execution (Starlette ASGI app).

In AWS, uvicorn serves this app behind the Lambda Web Adapter in response_stream mode (`run.sh` is
the handler); locally, the gateway calls the same `app`. Either way the caller was authorized in
front (REQUEST authorizer) and the principal arrives in the `x-amzn-request-context` header, which
the adapter (or the local gateway) sets and overwrites: it is the only identity this app trusts.
The Lambda deadline arrives in `x-amzn-lambda-context`. The protocol lives in execution_monitor.live.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from execution_monitor import metric_names as names
from execution_monitor import observability, paths
from execution_monitor.api_model import IDENTIFIER_PATTERN
from execution_monitor.cors import CorsMiddleware
from execution_monitor.errors import DomainError, NotFound, Unauthorized, ValidationFailed, error_json
from execution_monitor.executions import require_execution
from execution_monitor.live import (
    LiveSettings,
    execution_events,
    live_settings,
    parse_last_event_id,
    stream_budget_seconds,
)
from execution_monitor.membership import principal_from_authorizer, require_member
from execution_monitor.observability import logger
from execution_monitor.settings import TableSettings
from execution_monitor.store import default_store
from execution_monitor.store.interface import LiveReader

REQUEST_CONTEXT_HEADER = "x-amzn-request-context"
LAMBDA_CONTEXT_HEADER = "x-amzn-lambda-context"
STREAM_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # proxies (nginx and the like) must not buffer the stream
}
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


class EventStreamResponse(Response):
    """A text/event-stream response that stops as soon as the client disconnects.

    Starlette's StreamingResponse watches for the disconnect only under ASGI spec < 2.4; this one
    always does, so an abandoned stream stops reading DynamoDB at once (a streamed Lambda is billed
    until it returns, whether anyone listens or not).
    """

    media_type = "text/event-stream"

    def __init__(self, events: AsyncGenerator[str, None], headers: dict[str, str] | None = None) -> None:
        self.events = events
        self.status_code = 200
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def stop_on_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(stop_on_disconnect)
            try:
                await send(
                    {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
                )
                async with aclosing(self.events) as events:
                    async for chunk in events:
                        await send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except OSError:
                pass  # the client went away between the disconnect and our write
            finally:
                group.cancel_scope.cancel()


def _error(error: DomainError) -> Response:
    return Response(error.body(), status_code=error.status_code, media_type="application/json")


def _header_json(request: Request, name: str) -> dict[str, Any]:
    try:
        value = json.loads(request.headers.get(name) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _check_identifiers(path_parameters: dict[str, str]) -> None:
    bad = [name for name, value in path_parameters.items() if not _IDENTIFIER.match(value)]
    if bad:
        raise ValidationFailed(
            f"{bad[0]}: String should match pattern '{IDENTIFIER_PATTERN}'",
            details=[{"loc": ["path", name], "msg": "invalid identifier"} for name in bad],
        )


def create_app(
    source: Callable[[], LiveReader] | None = None, settings: Callable[[], LiveSettings] = live_settings
) -> CorsMiddleware:
    """The ASGI app; tests inject the source and settings (nothing is built before a request)."""
    get_source = source or _default_source

    async def stream_execution(request: Request) -> Response:
        workspace_id = request.path_params["workspaceId"]
        workflow_id = request.path_params["workflowId"]
        execution_id = request.path_params["executionId"]
        try:
            authorizer = _header_json(request, REQUEST_CONTEXT_HEADER).get("authorizer")
            require_member(principal_from_authorizer(authorizer), workspace_id)
            _check_identifiers({"workflowId": workflow_id, "executionId": execution_id})
            reader = get_source()
            found = await anyio.to_thread.run_sync(reader.get_execution_from, workspace_id, execution_id, 0)
            opened = require_execution(found, workflow_id, execution_id)
        except (Unauthorized, NotFound, ValidationFailed) as error:
            return _error(error)
        config = settings()
        events = execution_events(
            reader,
            workspace_id,
            execution_id,
            opened,
            last_event_id=parse_last_event_id(request.headers.get("last-event-id")),
            budget_seconds=stream_budget_seconds(request.headers.get(LAMBDA_CONTEXT_HEADER), config),
            settings=config,
        )
        return EventStreamResponse(_logged(events, execution_id), headers=STREAM_HEADERS)

    async def health(_: Request) -> Response:
        # The Lambda Web Adapter's readiness check (AWS_LWA_READINESS_CHECK_PATH=/health).
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route(paths.STREAM, stream_execution, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ],
        exception_handlers={Exception: _unexpected, HTTPException: _http_error},
    )
    # Outside Starlette's error middleware, so a 500 carries CORS too; API Gateway answers preflights.
    return CorsMiddleware(app)


async def _logged(events: AsyncGenerator[str, None], execution_id: str) -> AsyncGenerator[str, None]:
    """Ends the stream (the client reconnects) instead of crashing it when a read fails; counts
    the connection and the events it sent (keep-alive comments aside)."""
    observability.count(names.SSE_CONNECTIONS_OPENED)
    sent = 0
    async with aclosing(events) as inner:
        try:
            async for event in inner:
                sent += not event.startswith(":")
                yield event
        except Exception:
            logger.exception("stream failed; closing it", extra={"execution_id": execution_id})
        finally:
            observability.count(names.SSE_EVENTS_SENT, sent)
            observability.flush()


async def _unexpected(request: Request, error: Exception) -> Response:
    logger.exception("unhandled error")
    return _error(DomainError("internal error"))


async def _http_error(request: Request, error: Exception) -> Response:
    # Starlette's own answers (unknown path, wrong method) in the contract's error shape.
    status = error.status_code if isinstance(error, HTTPException) else 500
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "bad_request")
    body = error_json(code, str(getattr(error, "detail", "error")))
    # Keeps Allow on a 405.
    return Response(body, status, headers=getattr(error, "headers", None), media_type="application/json")


def _default_source() -> LiveReader:
    return default_store().executions  # the store and its client are cached


TableSettings.load()
app = create_app()
