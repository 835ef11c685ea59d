"""Sync and async clients for every route of the API.

    client = Client("https://…", token=token)              # or AsyncClient(...) and `await`
    workflow = client.put_workflow("ws", "orders", {"name": "Orders", "actions": [...]})
    execution = client.start_execution("ws", "orders", input={"order": 7})
    for failed in client.list_executions("ws", "orders", status="failed", limit=50): ...

`token` is a string or a function returning one (called per request, so it may refresh).
Errors are exceptions (errors.py); list routes are iterators that follow `nextCursor`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
from httpx_sse import EventSource, SSEError, aconnect_sse, connect_sse

from execution_monitor_client import routes
from execution_monitor_client.errors import ApiError, NetworkError, UnexpectedResponse
from execution_monitor_client.models import (
    Execution,
    ExecutionEvent,
    Page,
    RetryPlan,
    Workflow,
    WorkflowSummary,
)
from execution_monitor_client.routes import Call
from execution_monitor_client.stream import StreamEvent, parse_event

T = TypeVar("T")

__version__ = "0.1.0"
DEFAULT_TIMEOUT_SECONDS = 30.0
# The server sends a keep-alive comment at least every 15 s: three missed ones mean a dead stream.
STREAM_READ_TIMEOUT_SECONDS = 45.0
MAX_PAGE_SIZE = 100
Token = str | Callable[[], str] | None


class _Bearer(httpx.Auth):
    def __init__(self, token: str | Callable[[], str]) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token() if callable(self.token) else self.token
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


@dataclass(frozen=True)
class ClientSettings:
    """What a client is made of; a sync client's watchers build their async twin from it."""

    base_url: str
    token: Token = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    headers: Mapping[str, str] = field(default_factory=dict)
    transport: httpx.BaseTransport | None = None
    async_transport: httpx.AsyncBaseTransport | None = None

    def _options(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url.rstrip("/"),
            "auth": _Bearer(self.token) if self.token else None,
            "timeout": self.timeout,
            "headers": {"User-Agent": f"execution-monitor-client/{__version__}", **self.headers},
        }

    def sync_http(self) -> httpx.Client:
        return httpx.Client(transport=self.transport, **self._options())

    def async_http(self) -> httpx.AsyncClient:
        transport = self.async_transport
        if transport is None and isinstance(self.transport, httpx.AsyncBaseTransport):
            transport = self.transport  # httpx.MockTransport serves both
        return httpx.AsyncClient(transport=transport, **self._options())


def _stream_request(workspace_id: str, workflow_id: str, execution_id: str, last_event_id: str | None) -> Any:
    path = routes.execution_path(routes.STREAM_EXECUTION, workspace_id, workflow_id, execution_id)
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    timeout = httpx.Timeout(DEFAULT_TIMEOUT_SECONDS, read=STREAM_READ_TIMEOUT_SECONDS)
    return path, {"headers": headers, "timeout": timeout}


def _network_error(settings: ClientSettings, path: str, error: httpx.TransportError) -> NetworkError:
    return NetworkError(
        f"cannot reach {settings.base_url.rstrip('/')}{path}: {str(error) or type(error).__name__}"
    )


def _check_stream(source: EventSource) -> None:
    """Raises when the stream was refused (its body must have been read then)."""
    if source.response.status_code != routes.STREAM_EXECUTION.success:
        raise ApiError.from_response(source.response)
    content_type = source.response.headers.get("content-type", "")
    if not content_type.startswith("text/event-stream"):
        raise UnexpectedResponse(f"the stream answered with content type {content_type!r}")


def _present(execution: Execution | None) -> Execution:
    if execution is None:  # a 304 answers only an If-None-Match, which a plain GET does not send
        raise UnexpectedResponse("304 Not Modified to a request without If-None-Match")
    return execution


class Paginator(Generic[T]):
    """Items of a list route across pages: `for item in paginator`, or `paginator.pages()`."""

    def __init__(
        self, fetch: Callable[[int, str | None], Page[T]], limit: int | None, page_size: int
    ) -> None:
        self._fetch, self._limit, self._page_size = fetch, limit, min(page_size, MAX_PAGE_SIZE)

    def pages(self, cursor: str | None = None) -> Iterator[Page[T]]:
        remaining = self._limit
        while remaining is None or remaining > 0:
            size = self._page_size if remaining is None else min(self._page_size, remaining)
            page = self._fetch(size, cursor)
            if remaining is not None:
                page = Page(page.items[:remaining], page.next_cursor)
                remaining -= len(page.items)
            yield page
            if not page.next_cursor or not page.items:
                return
            cursor = page.next_cursor

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items


class AsyncPaginator(Generic[T]):
    """`async for item in paginator`, or `async for page in paginator.pages()`."""

    def __init__(
        self, fetch: Callable[[int, str | None], Awaitable[Page[T]]], limit: int | None, page_size: int
    ) -> None:
        self._fetch, self._limit, self._page_size = fetch, limit, min(page_size, MAX_PAGE_SIZE)

    async def pages(self, cursor: str | None = None) -> AsyncIterator[Page[T]]:
        remaining = self._limit
        while remaining is None or remaining > 0:
            size = self._page_size if remaining is None else min(self._page_size, remaining)
            page = await self._fetch(size, cursor)
            if remaining is not None:
                page = Page(page.items[:remaining], page.next_cursor)
                remaining -= len(page.items)
            yield page
            if not page.next_cursor or not page.items:
                return
            cursor = page.next_cursor

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item


class Client:
    """Blocking client. Use it as a context manager, or call `close()`."""

    def __init__(
        self,
        base_url: str,
        token: Token = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = ClientSettings(
            base_url, token, timeout, dict(headers or {}), transport, async_transport
        )
        self._http = self.settings.sync_http()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def call(self, call: Call[T]) -> T:
        try:
            response = self._http.request(
                call.route.method,
                call.path,
                params=dict(call.params),
                headers=dict(call.headers),
                json=call.json,
            )
        except httpx.TransportError as error:
            raise _network_error(self.settings, call.path, error) from error
        return call.result(response)

    # -- workflows

    def put_workflow(
        self,
        workspace_id: str,
        workflow_id: str,
        definition: Mapping[str, Any],
        *,
        rotate_webhook_secret: bool = False,
    ) -> Workflow:
        """Creates or replaces a workflow. `webhook_secret` is set on the answer only when the PUT
        created the first webhook or `rotate_webhook_secret` asked for a new one."""
        return self.call(routes.put_workflow(workspace_id, workflow_id, definition, rotate_webhook_secret))

    def get_workflow(self, workspace_id: str, workflow_id: str) -> Workflow:
        return self.call(routes.get_workflow(workspace_id, workflow_id))

    def list_workflows(
        self, workspace_id: str, *, limit: int | None = None, page_size: int = 20
    ) -> Paginator[WorkflowSummary]:
        return Paginator(
            lambda size, cursor: self.call(routes.list_workflows(workspace_id, size, cursor)),
            limit,
            page_size,
        )

    # -- executions

    def start_execution(
        self,
        workspace_id: str,
        workflow_id: str,
        input: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Execution:
        return self.call(routes.start_execution(workspace_id, workflow_id, input, idempotency_key))

    def list_executions(
        self,
        workspace_id: str,
        workflow_id: str,
        *,
        status: str | None = None,
        limit: int | None = None,
        page_size: int = 20,
    ) -> Paginator[Execution]:
        """Newest first. `limit` caps the items in all; None follows every page."""
        return Paginator(
            lambda size, cursor: self.call(
                routes.list_executions(workspace_id, workflow_id, status, size, cursor)
            ),
            limit,
            page_size,
        )

    def list_workspace_executions(
        self, workspace_id: str, *, status: str | None = None, limit: int | None = None, page_size: int = 20
    ) -> Paginator[Execution]:
        """Executions of every workflow of the workspace, newest first."""
        return Paginator(
            lambda size, cursor: self.call(
                routes.list_workspace_executions(workspace_id, status, size, cursor)
            ),
            limit,
            page_size,
        )

    def get_execution(self, workspace_id: str, workflow_id: str, execution_id: str) -> Execution:
        return _present(self.call(routes.get_execution(workspace_id, workflow_id, execution_id)))

    def get_execution_if_changed(
        self, workspace_id: str, workflow_id: str, execution_id: str, etag: str | None
    ) -> Execution | None:
        """None when the execution still has this ETag (a 304: no body, no cost)."""
        return self.call(routes.get_execution(workspace_id, workflow_id, execution_id, etag))

    def cancel_execution(self, workspace_id: str, workflow_id: str, execution_id: str) -> Execution:
        return self.call(routes.cancel_execution(workspace_id, workflow_id, execution_id))

    def retry_execution(self, workspace_id: str, workflow_id: str, execution_id: str) -> Execution:
        """Starts a new execution with the same input and definition (its `retry_of` is this one)."""
        return self.call(routes.retry_execution(workspace_id, workflow_id, execution_id))

    def retry_step(self, workspace_id: str, workflow_id: str, execution_id: str, action_id: str) -> Execution:
        return self.call(routes.retry_step(workspace_id, workflow_id, execution_id, action_id))

    def get_retry_plan(
        self, workspace_id: str, workflow_id: str, execution_id: str, action_id: str | None = None
    ) -> RetryPlan:
        """What a retry would do; no action_id = the whole-execution retry."""
        return self.call(routes.get_retry_plan(workspace_id, workflow_id, execution_id, action_id))

    def list_execution_events(
        self, workspace_id: str, workflow_id: str, execution_id: str
    ) -> list[ExecutionEvent]:
        return self.call(routes.list_execution_events(workspace_id, workflow_id, execution_id))

    @contextmanager
    def stream_execution(
        self, workspace_id: str, workflow_id: str, execution_id: str, *, last_event_id: str | None = None
    ) -> Iterator[Iterator[StreamEvent]]:
        """The raw event stream of one execution (one connection, no reconnect: see watch_execution).

        with client.stream_execution(ws, wf, ex) as events:
            for event in events: ...
        """
        path, options = _stream_request(workspace_id, workflow_id, execution_id, last_event_id)
        try:
            with connect_sse(self._http, "GET", path, **options) as source:
                if source.response.status_code != routes.STREAM_EXECUTION.success:
                    source.response.read()
                _check_stream(source)
                yield (parse_event(sse) for sse in source.iter_sse())
        except httpx.TransportError as error:
            raise _network_error(self.settings, path, error) from error
        except SSEError as error:
            raise UnexpectedResponse(str(error)) from error

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document the API serves."""
        return self.call(routes.openapi())


class AsyncClient:
    """The same API for asyncio. Use `async with`, or `await close()`."""

    def __init__(
        self,
        base_url: str,
        token: Token = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = ClientSettings(
            base_url, token, timeout, dict(headers or {}), async_transport=transport
        )
        self._http = self.settings.async_http()

    @classmethod
    def from_settings(cls, settings: ClientSettings) -> AsyncClient:
        client = cls.__new__(cls)
        client.settings = settings
        client._http = settings.async_http()
        return client

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def call(self, call: Call[T]) -> T:
        try:
            response = await self._http.request(
                call.route.method,
                call.path,
                params=dict(call.params),
                headers=dict(call.headers),
                json=call.json,
            )
        except httpx.TransportError as error:
            raise _network_error(self.settings, call.path, error) from error
        return call.result(response)

    async def put_workflow(
        self,
        workspace_id: str,
        workflow_id: str,
        definition: Mapping[str, Any],
        *,
        rotate_webhook_secret: bool = False,
    ) -> Workflow:
        return await self.call(
            routes.put_workflow(workspace_id, workflow_id, definition, rotate_webhook_secret)
        )

    async def get_workflow(self, workspace_id: str, workflow_id: str) -> Workflow:
        return await self.call(routes.get_workflow(workspace_id, workflow_id))

    def list_workflows(
        self, workspace_id: str, *, limit: int | None = None, page_size: int = 20
    ) -> AsyncPaginator[WorkflowSummary]:
        return AsyncPaginator(
            lambda size, cursor: self.call(routes.list_workflows(workspace_id, size, cursor)),
            limit,
            page_size,
        )

    async def start_execution(
        self,
        workspace_id: str,
        workflow_id: str,
        input: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Execution:
        return await self.call(routes.start_execution(workspace_id, workflow_id, input, idempotency_key))

    def list_executions(
        self,
        workspace_id: str,
        workflow_id: str,
        *,
        status: str | None = None,
        limit: int | None = None,
        page_size: int = 20,
    ) -> AsyncPaginator[Execution]:
        return AsyncPaginator(
            lambda size, cursor: self.call(
                routes.list_executions(workspace_id, workflow_id, status, size, cursor)
            ),
            limit,
            page_size,
        )

    def list_workspace_executions(
        self, workspace_id: str, *, status: str | None = None, limit: int | None = None, page_size: int = 20
    ) -> AsyncPaginator[Execution]:
        return AsyncPaginator(
            lambda size, cursor: self.call(
                routes.list_workspace_executions(workspace_id, status, size, cursor)
            ),
            limit,
            page_size,
        )

    async def get_execution(self, workspace_id: str, workflow_id: str, execution_id: str) -> Execution:
        return _present(await self.call(routes.get_execution(workspace_id, workflow_id, execution_id)))

    async def get_execution_if_changed(
        self, workspace_id: str, workflow_id: str, execution_id: str, etag: str | None
    ) -> Execution | None:
        return await self.call(routes.get_execution(workspace_id, workflow_id, execution_id, etag))

    async def cancel_execution(self, workspace_id: str, workflow_id: str, execution_id: str) -> Execution:
        return await self.call(routes.cancel_execution(workspace_id, workflow_id, execution_id))

    async def retry_execution(self, workspace_id: str, workflow_id: str, execution_id: str) -> Execution:
        return await self.call(routes.retry_execution(workspace_id, workflow_id, execution_id))

    async def retry_step(
        self, workspace_id: str, workflow_id: str, execution_id: str, action_id: str
    ) -> Execution:
        return await self.call(routes.retry_step(workspace_id, workflow_id, execution_id, action_id))

    async def get_retry_plan(
        self, workspace_id: str, workflow_id: str, execution_id: str, action_id: str | None = None
    ) -> RetryPlan:
        return await self.call(routes.get_retry_plan(workspace_id, workflow_id, execution_id, action_id))

    async def list_execution_events(
        self, workspace_id: str, workflow_id: str, execution_id: str
    ) -> list[ExecutionEvent]:
        return await self.call(routes.list_execution_events(workspace_id, workflow_id, execution_id))

    @asynccontextmanager
    async def stream_execution(
        self, workspace_id: str, workflow_id: str, execution_id: str, *, last_event_id: str | None = None
    ) -> AsyncIterator[AsyncIterator[StreamEvent]]:
        """async with client.stream_execution(ws, wf, ex) as events: async for event in events: ..."""
        path, options = _stream_request(workspace_id, workflow_id, execution_id, last_event_id)
        try:
            async with aconnect_sse(self._http, "GET", path, **options) as source:
                if source.response.status_code != routes.STREAM_EXECUTION.success:
                    await source.response.aread()
                _check_stream(source)
                events = _parsed(source)
                try:
                    yield events
                finally:
                    await events.aclose()
        except httpx.TransportError as error:
            raise _network_error(self.settings, path, error) from error
        except SSEError as error:
            raise UnexpectedResponse(str(error)) from error

    async def openapi(self) -> dict[str, Any]:
        return await self.call(routes.openapi())


async def _parsed(source: EventSource) -> AsyncGenerator[StreamEvent, None]:
    async for sse in source.aiter_sse():
        yield parse_event(sse)
