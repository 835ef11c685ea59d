"""The guide's `useWorkflowExecution` / `useWorkflowExecutions` hooks for asyncio programs.

    async with AsyncExecutionWatcher(client, ws, wf, ex, enable_sse=True, on_complete=notify) as w:
        final = await w.wait(timeout=600)

How an execution is followed:
- SSE (enable_sse=True): the stream's snapshot, then its updates applied to the held execution.
  After a drop it reconnects with Last-Event-ID = the version held, so the server sends what moved
  meanwhile (a fresh snapshot) and nothing is missed: at once, and after further failures in a
  row, after the server's `retry:` delay, doubling. After `max_stream_failures` failures in a row
  it falls back to polling.
- Polling (enable_polling=True): GET every `polling_interval` seconds with If-None-Match, so an
  unchanged execution costs a 304 without a body. Polling stops at a terminal status.
- At a terminal status, `auto_refresh_on_complete` makes one more conditional GET, then the
  callback of that status runs: on_complete (completed), on_fail (failed), on_cancel (cancelled).
- Errors: `error` holds the last one and on_error gets each. Transient ones (network, 5xx, 429)
  are retried; others (401, 404, ...) stop the watcher, and `wait()` raises them.
- retry_step() resumes the execution, and the watcher follows it again to its next end.

Callbacks run on the event loop (keep them short; they may not await). A callback that raises is
logged and does not stop the watcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from execution_monitor_client.client import AsyncClient
from execution_monitor_client.errors import ApiError, ExecutionMonitorError, UnexpectedResponse
from execution_monitor_client.models import ActionResult, Execution, Progress
from execution_monitor_client.stream import END, SNAPSHOT, UPDATE, apply_update, snapshot_execution

logger = logging.getLogger("execution_monitor_client")

ExecutionCallback = Callable[[Execution], object]
ErrorCallback = Callable[[ExecutionMonitorError], object]
ListCallback = Callable[[list[Execution]], object]

DEFAULT_STREAM_RETRY_SECONDS = 3.0  # until the server's `retry:` says otherwise
MAX_STREAM_RETRY_SECONDS = 30.0
# A stream that closes cleanly without any event counts as a failure only when it closes this soon
# (a server closing at once, every time); a long quiet one was just a deadline close.
MIN_HEALTHY_STREAM_SECONDS = 5.0


class WatchStopped(ExecutionMonitorError):
    """The watcher stopped before the execution finished (closed, or nothing left to follow)."""


@dataclass
class WatchStats:
    """What the watcher has done, for logs, tests and the curious."""

    mode: Literal["idle", "stream", "polling"] = "idle"
    requests: int = 0  # GETs of the execution
    not_modified: int = 0  # of those, answered 304
    stream_connections: int = 0
    stream_events: int = 0
    stream_failures: int = 0
    fell_back_to_polling: bool = False


def _emit(callback: Callable[[Any], object] | None, value: Any) -> None:
    if callback is None:
        return
    try:
        callback(value)
    except Exception:
        logger.exception("a watcher callback raised; the watcher goes on")


class AsyncExecutionWatcher:
    """Follows one execution; state, commands and callbacks of `useWorkflowExecution`."""

    def __init__(
        self,
        client: AsyncClient,
        workspace_id: str,
        workflow_id: str,
        execution_id: str,
        *,
        enable_polling: bool = True,
        polling_interval: float = 2.0,
        enable_sse: bool = False,
        auto_refresh_on_complete: bool = True,
        on_change: ExecutionCallback | None = None,
        on_complete: ExecutionCallback | None = None,
        on_cancel: ExecutionCallback | None = None,
        on_fail: ExecutionCallback | None = None,
        on_error: ErrorCallback | None = None,
        max_stream_failures: int = 3,
        max_consecutive_errors: int | None = None,
    ) -> None:
        if polling_interval <= 0:
            raise ValueError("polling_interval must be positive (seconds)")
        self.client = client
        self.workspace_id, self.workflow_id, self.execution_id = workspace_id, workflow_id, execution_id
        self.enable_polling, self.polling_interval = enable_polling, polling_interval
        self.enable_sse, self.auto_refresh_on_complete = enable_sse, auto_refresh_on_complete
        self.on_change, self.on_complete, self.on_cancel = on_change, on_complete, on_cancel
        self.on_fail, self.on_error = on_fail, on_error
        self.max_stream_failures, self.max_consecutive_errors = max_stream_failures, max_consecutive_errors

        self.execution: Execution | None = None
        self.error: ExecutionMonitorError | None = None
        self.is_loading = True
        self.stats = WatchStats()
        self._held: dict[str, Any] | None = None  # the JSON of `execution`, which updates apply to
        self._announced: str | None = None  # the terminal status whose callback has run
        self._errors_in_a_row = 0
        self._gave_up = False
        self._stream_retry = DEFAULT_STREAM_RETRY_SECONDS
        self._settled = asyncio.Event()  # set while not following: finished, given up or closed
        self._revive = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    # -- state (the hook's return values) ---------------------------------------------------------

    @property
    def progress(self) -> Progress | None:
        return self.execution.progress if self.execution else None

    @property
    def is_running(self) -> bool:
        return self.execution is not None and self.execution.status in ("pending", "running")

    @property
    def can_cancel(self) -> bool:
        return self.execution is not None and self.execution.can_cancel

    @property
    def can_retry(self) -> bool:
        return self.execution is not None and self.execution.can_retry

    def get_action_result(self, action_id: str) -> ActionResult | None:
        return self.execution.get_action_result(action_id) if self.execution else None

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> AsyncExecutionWatcher:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"watch-execution-{self.execution_id}"
            )
        return self

    async def __aenter__(self) -> AsyncExecutionWatcher:
        return self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stops following: cancels the loop, which closes its connection. Safe to repeat."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.stats.mode = "idle"
        self._settled.set()

    async def wait(self, timeout: float | None = None) -> Execution:
        """The execution once it has finished (completed, failed or cancelled).

        Raises TimeoutError after `timeout` seconds, the error that stopped the watcher, or
        WatchStopped when the watcher was closed or follows nothing (no polling and no SSE)."""
        self.start()
        async with asyncio.timeout(timeout):
            await self._settled.wait()
        if self.execution is not None and self.execution.is_terminal:
            return self.execution
        if self.error is not None and self._gave_up:
            raise self.error
        raise WatchStopped(
            f"execution {self.execution_id} is {self.execution.status if self.execution else 'unknown'} "
            "and the watcher is not following it"
        )

    # -- commands ---------------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Reads the execution now (a conditional GET); revives a watcher that gave up."""
        self.is_loading = True
        try:
            await self._fetch()
        finally:
            self.is_loading = False
        self._follow_again()

    async def cancel_execution(self) -> bool:
        return await self._command(
            self.client.cancel_execution(self.workspace_id, self.workflow_id, self.execution_id)
        )

    async def retry_step(self, action_id: str) -> bool:
        """Re-runs a failed step and those after it; the watcher follows the execution again."""
        return await self._command(
            self.client.retry_step(self.workspace_id, self.workflow_id, self.execution_id, action_id)
        )

    async def retry_execution(self) -> Execution | None:
        """Starts a new execution with the same input (returned); this one gains `retried_by`."""
        try:
            retry = await self.client.retry_execution(self.workspace_id, self.workflow_id, self.execution_id)
        except ExecutionMonitorError as error:
            self._report(error)
            return None
        await self._fetch()
        return retry

    async def _command(self, request: Any) -> bool:
        try:
            execution: Execution = await request
        except ExecutionMonitorError as error:
            self._report(error)
            return False
        # While following, the loop reaches the end itself and announces it after its refresh, so
        # on_cancel gets the same execution as wait(); a watcher at rest announces at once.
        following = not self._settled.is_set()
        self._apply(execution.to_json(), announce=not (following and self.auto_refresh_on_complete))
        self._follow_again()
        return True

    # -- following --------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._settled.clear()
            await self._follow()
            self._announce()  # a terminal status reached any way (a command, a refresh) is announced
            self.stats.mode = "idle"
            self._settled.set()
            await self._revive.wait()
            self._revive.clear()

    def _follow_again(self) -> None:
        """After a command or refresh: follow again if there is something left to follow."""
        finished = self.execution is not None and self.execution.is_terminal
        if self._closed or not self._settled.is_set() or (finished and not self._gave_up):
            return
        self._gave_up = False
        self._settled.clear()
        self._revive.set()

    async def _follow(self) -> None:
        self._gave_up = False
        if self.execution is not None and self.execution.is_terminal:
            return
        if self.enable_sse and await self._follow_stream():
            return
        if self.enable_polling:
            await self._poll()
        elif self.execution is None and not self.enable_sse:
            await self._fetch()  # neither live mode: load once, like the hook

    async def _finish(self) -> None:
        if self.auto_refresh_on_complete:
            await self._fetch()

    async def _poll(self) -> None:
        self.stats.mode = "polling"
        while True:
            await self._fetch(announce=not self.auto_refresh_on_complete)
            if self._gave_up:
                return
            if self.execution is not None and self.execution.is_terminal:
                await self._finish()
                return
            await asyncio.sleep(self.polling_interval)

    async def _follow_stream(self) -> bool:
        """Follows the SSE stream; True when done (finished or gave up), False to fall back to polling."""
        self.stats.mode = "stream"
        failures = 0
        while True:
            opened, events_before = time.monotonic(), self.stats.stream_events
            failed: ExecutionMonitorError | None = None
            try:
                if await self._read_stream():
                    await self._finish()
                    return True
            except ExecutionMonitorError as error:
                failed = error
            received = self.stats.stream_events > events_before
            if received:
                failures = 0  # it worked for a while: this drop starts a new count
            if failed is None and (received or time.monotonic() - opened >= MIN_HEALTHY_STREAM_SECONDS):
                continue  # a clean close (the server's deadline): resume at once
            failures += 1
            self.stats.stream_failures += 1
            logger.info("stream of %s failed (%s in a row): %s", self.execution_id, failures, failed)
            refused = isinstance(failed, ApiError) and not failed.transient  # retrying cannot help
            if refused or failures >= self.max_stream_failures:
                return self._give_up_stream(failed)
            await asyncio.sleep(self._stream_backoff(failures))

    def _stream_backoff(self, failures: int) -> float:
        """The first retry is immediate (most drops are blips); then the server's delay, doubling."""
        if failures <= 1:
            return 0.0
        return float(min(self._stream_retry * 2 ** (failures - 2), MAX_STREAM_RETRY_SECONDS))

    def _give_up_stream(self, failed: ExecutionMonitorError | None) -> bool:
        if self.enable_polling:
            self.stats.fell_back_to_polling = True
            logger.info("falling back to polling for %s", self.execution_id)
            return False
        self._report(failed or UnexpectedResponse("the stream keeps closing without events"))
        self._gave_up = True
        return True

    async def _read_stream(self) -> bool:
        """One connection; True once the execution reached a terminal status."""
        last_event_id = str(self.execution.version) if self.execution else None
        self.stats.stream_connections += 1
        async with self.client.stream_execution(
            self.workspace_id, self.workflow_id, self.execution_id, last_event_id=last_event_id
        ) as events:
            async for event in events:
                if event.retry is not None:
                    self._stream_retry = event.retry / 1000
                if not event.carries_data:
                    continue
                self.stats.stream_events += 1
                live = not self.auto_refresh_on_complete
                if event.event == SNAPSHOT:
                    self._apply(snapshot_execution(event), announce=live)
                elif event.event == UPDATE:
                    if self._held is None:
                        raise UnexpectedResponse("an update before any snapshot")
                    self._apply(apply_update(self._held, event.data), announce=live)
                elif event.event == END and (self.execution is None or not self.execution.is_terminal):
                    await self._fetch(announce=live)  # an end we have no terminal state for
                if self.execution is not None and self.execution.is_terminal:
                    return True
        return False

    # -- state changes ----------------------------------------------------------------------------

    async def _fetch(self, *, announce: bool = True) -> None:
        etag = self.execution.etag if self.execution else None
        self.stats.requests += 1
        try:
            execution = await self.client.get_execution_if_changed(
                self.workspace_id, self.workflow_id, self.execution_id, etag
            )
        except ExecutionMonitorError as error:
            self._report(error)
            stop = not error.transient or (
                self.max_consecutive_errors is not None
                and self._errors_in_a_row >= self.max_consecutive_errors
            )
            self._gave_up = self._gave_up or stop
            return
        self._errors_in_a_row = 0
        if execution is None:
            self.stats.not_modified += 1
            return
        self._apply(execution.to_json(), announce=announce)

    def _apply(self, data: dict[str, Any], *, announce: bool = True) -> None:
        try:
            execution = Execution.from_json(data)
        except (TypeError, ValueError) as error:
            raise UnexpectedResponse(f"an execution that does not follow the contract: {error}") from error
        previous = self.execution
        if previous is not None and execution.version < previous.version:
            return  # older than what we hold (a command's answer overtook the stream)
        self._held, self.execution = data, execution
        self.is_loading = False
        self.error = None
        if previous is None or execution.version != previous.version:
            _emit(self.on_change, execution)
        if not execution.is_terminal:
            self._announced = None
        elif announce:
            self._announce()

    def _announce(self) -> None:
        execution = self.execution
        if execution is None or not execution.is_terminal or self._announced == execution.status:
            return
        self._announced = execution.status
        callback = {"completed": self.on_complete, "failed": self.on_fail, "cancelled": self.on_cancel}
        _emit(callback[execution.status], execution)

    def _report(self, error: ExecutionMonitorError) -> None:
        self.error = error
        self.is_loading = False
        self._errors_in_a_row += 1
        _emit(self.on_error, error)


class AsyncExecutionsWatcher:
    """`useWorkflowExecutions`: the newest executions of a workflow (or of the whole workspace
    when workflow_id is None), read again every `polling_interval` seconds."""

    def __init__(
        self,
        client: AsyncClient,
        workspace_id: str,
        workflow_id: str | None = None,
        *,
        limit: int = 20,
        status: str | None = None,
        enable_polling: bool = True,
        polling_interval: float = 2.0,
        on_change: ListCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> None:
        if polling_interval <= 0:
            raise ValueError("polling_interval must be positive (seconds)")
        self.client, self.workspace_id, self.workflow_id = client, workspace_id, workflow_id
        self.limit, self.status = limit, status
        self.enable_polling, self.polling_interval = enable_polling, polling_interval
        self.on_change, self.on_error = on_change, on_error
        self.executions: list[Execution] = []
        self.error: ExecutionMonitorError | None = None
        self.is_loading = True
        self._loaded = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> list[Execution]:
        return [execution for execution in self.executions if execution.status in ("pending", "running")]

    def start(self) -> AsyncExecutionsWatcher:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="watch-executions")
        return self

    async def __aenter__(self) -> AsyncExecutionsWatcher:
        return self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait_loaded(self, timeout: float | None = None) -> list[Execution]:
        """The list once the first read answered (raises its error if it failed)."""
        self.start()
        async with asyncio.timeout(timeout):
            await self._loaded.wait()
        if not self.executions and self.error is not None:
            raise self.error
        return self.executions

    async def refresh(self) -> None:
        self.is_loading = True
        if self.workflow_id is None:
            listing = self.client.list_workspace_executions(
                self.workspace_id, status=self.status, limit=self.limit
            )
        else:
            listing = self.client.list_executions(
                self.workspace_id, self.workflow_id, status=self.status, limit=self.limit
            )
        try:
            executions = [execution async for execution in listing]
        except ExecutionMonitorError as error:
            self.error = error
            _emit(self.on_error, error)
        else:
            self.error = None
            before = [(execution.id, execution.version) for execution in self.executions]
            self.executions = executions
            if (
                before != [(execution.id, execution.version) for execution in executions]
                or not self._loaded.is_set()
            ):
                _emit(self.on_change, executions)
        finally:
            self.is_loading = False
            self._loaded.set()

    async def _run(self) -> None:
        await self.refresh()
        while self.enable_polling:
            await asyncio.sleep(self.polling_interval)
            await self.refresh()
