"""`watch_execution` / `watch_executions` for blocking programs: the asyncio watchers, run on an
event loop in a thread of their own.

    with watch_execution(client, ws, wf, ex, enable_sse=True, on_complete=notify) as watcher:
        final = watcher.wait(timeout=600)

One thread per watcher; `close()` (or leaving the `with` block) stops it and closes its
connections, so nothing is left behind. Callbacks run on the watcher's thread; they must not call
the watcher's blocking methods (that raises RuntimeError rather than deadlock).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from execution_monitor_client.client import AsyncClient, Client
from execution_monitor_client.errors import ExecutionMonitorError
from execution_monitor_client.models import ActionResult, Execution, Progress
from execution_monitor_client.watchers import (
    AsyncExecutionsWatcher,
    AsyncExecutionWatcher,
    ErrorCallback,
    ExecutionCallback,
    ListCallback,
    WatchStats,
    WatchStopped,
)

T = TypeVar("T")
CLOSE_TIMEOUT_SECONDS = 10.0


class _LoopThread:
    """An event loop running in its own (daemon) thread; coroutines are submitted from outside."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            coroutine.close()
            raise RuntimeError("a watcher's blocking methods cannot be called from its own callbacks")
        if self.loop.is_closed():
            coroutine.close()
            raise WatchStopped("the watcher is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(CLOSE_TIMEOUT_SECONDS)
        self.loop.close()


class _Blocking:
    """What both sync watchers share: a loop thread, an async twin of the client, close()."""

    def __init__(self, client: Client, name: str, make: Callable[[AsyncClient], Any]) -> None:
        self._thread = _LoopThread(name)
        self._client = AsyncClient.from_settings(client.settings)

        async def started() -> Any:
            return make(self._client).start()

        try:
            self._core = self._thread.run(started())
        except BaseException:
            self._thread.run(self._client.close())
            self._thread.stop()
            raise
        self._closed = False

    def close(self) -> None:
        """Stops the watcher, closes its connections and ends its thread. Safe to repeat."""
        if self._closed:
            return
        self._closed = True

        async def shut() -> None:
            await self._core.close()
            await self._client.close()

        self._thread.run(shut())
        self._thread.stop()

    def __exit__(self, *_: object) -> None:
        self.close()


class ExecutionWatcher(_Blocking):
    """Blocking face of AsyncExecutionWatcher; made by `watch_execution`."""

    _core: AsyncExecutionWatcher

    def __init__(
        self, client: Client, workspace_id: str, workflow_id: str, execution_id: str, **options: Any
    ):
        super().__init__(
            client,
            f"watch-execution-{execution_id}",
            lambda twin: AsyncExecutionWatcher(twin, workspace_id, workflow_id, execution_id, **options),
        )

    def __enter__(self) -> ExecutionWatcher:
        return self

    # state
    @property
    def execution(self) -> Execution | None:
        return self._core.execution

    @property
    def progress(self) -> Progress | None:
        return self._core.progress

    @property
    def is_loading(self) -> bool:
        return self._core.is_loading

    @property
    def is_running(self) -> bool:
        return self._core.is_running

    @property
    def can_cancel(self) -> bool:
        return self._core.can_cancel

    @property
    def can_retry(self) -> bool:
        return self._core.can_retry

    @property
    def error(self) -> ExecutionMonitorError | None:
        return self._core.error

    @property
    def stats(self) -> WatchStats:
        return self._core.stats

    def get_action_result(self, action_id: str) -> ActionResult | None:
        return self._core.get_action_result(action_id)

    # commands
    def wait(self, timeout: float | None = None) -> Execution:
        """The finished execution; TimeoutError after `timeout` seconds (see AsyncExecutionWatcher.wait)."""
        if self._closed and self.execution is not None and self.execution.is_terminal:
            return self.execution
        return self._thread.run(self._core.wait(timeout))

    def refresh(self) -> None:
        self._thread.run(self._core.refresh())

    def cancel_execution(self) -> bool:
        return self._thread.run(self._core.cancel_execution())

    def retry_step(self, action_id: str) -> bool:
        return self._thread.run(self._core.retry_step(action_id))

    def retry_execution(self) -> Execution | None:
        return self._thread.run(self._core.retry_execution())


class ExecutionsWatcher(_Blocking):
    """Blocking face of AsyncExecutionsWatcher; made by `watch_executions`."""

    _core: AsyncExecutionsWatcher

    def __init__(self, client: Client, workspace_id: str, workflow_id: str | None, **options: Any):
        super().__init__(
            client,
            f"watch-executions-{workspace_id}",
            lambda twin: AsyncExecutionsWatcher(twin, workspace_id, workflow_id, **options),
        )

    def __enter__(self) -> ExecutionsWatcher:
        return self

    @property
    def executions(self) -> list[Execution]:
        return self._core.executions

    @property
    def running(self) -> list[Execution]:
        return self._core.running

    @property
    def is_loading(self) -> bool:
        return self._core.is_loading

    @property
    def error(self) -> ExecutionMonitorError | None:
        return self._core.error

    def wait_loaded(self, timeout: float | None = None) -> list[Execution]:
        return self._thread.run(self._core.wait_loaded(timeout))

    def refresh(self) -> None:
        self._thread.run(self._core.refresh())


def watch_execution(
    client: Client,
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
) -> ExecutionWatcher:
    """Follows one execution, like the guide's `useWorkflowExecution` (options, callbacks, state
    and commands of the same names). Intervals are in seconds. Extensions: `on_fail` (the
    execution failed), `max_stream_failures` (stream failures in a row before polling instead),
    `max_consecutive_errors` (transient request errors in a row before giving up; None = never).
    For asyncio, use AsyncExecutionWatcher with an AsyncClient."""
    return ExecutionWatcher(
        client,
        workspace_id,
        workflow_id,
        execution_id,
        enable_polling=enable_polling,
        polling_interval=polling_interval,
        enable_sse=enable_sse,
        auto_refresh_on_complete=auto_refresh_on_complete,
        on_change=on_change,
        on_complete=on_complete,
        on_cancel=on_cancel,
        on_fail=on_fail,
        on_error=on_error,
        max_stream_failures=max_stream_failures,
        max_consecutive_errors=max_consecutive_errors,
    )


def watch_executions(
    client: Client,
    workspace_id: str,
    workflow_id: str | None = None,
    *,
    limit: int = 20,
    status: str | None = None,
    enable_polling: bool = True,
    polling_interval: float = 2.0,
    on_change: ListCallback | None = None,
    on_error: ErrorCallback | None = None,
) -> ExecutionsWatcher:
    """The newest executions of a workflow (of the whole workspace when workflow_id is None),
    kept fresh by polling, like the guide's `useWorkflowExecutions`."""
    return ExecutionsWatcher(
        client,
        workspace_id,
        workflow_id,
        limit=limit,
        status=status,
        enable_polling=enable_polling,
        polling_interval=polling_interval,
        on_change=on_change,
        on_error=on_error,
    )
