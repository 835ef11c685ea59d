"""The watcher's state logic against a scripted API (httpx.MockTransport): what it requests, what it
holds, which callbacks run. The same logic over real HTTP: tests/e2e/test_client_watch.py."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from execution_monitor_client import (
    ApiError,
    AsyncExecutionWatcher,
    Execution,
    ExecutionMonitorError,
    NotFoundError,
    WatchStopped,
    watch_execution,
)
from tests.unit.client_fakes import (
    BASE,
    EX,
    WF,
    WS,
    FakeApi,
    error_response,
    execution,
    sse,
    step,
    stream_response,
    update_of,
)

FAST = 0.01  # polling interval: the fake answers at once, nothing waits on real time

RUNNING = execution(2, "running", [step("first", "running"), step("second")])
HALFWAY = execution(3, "running", [step("first", "completed"), step("second", "running")])
COMPLETED = execution(4, "completed", [step("first", "completed"), step("second", "completed")])
FAILED = execution(4, "failed", [step("first", "completed"), step("second", "failed")])


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def __call__(self, name: str) -> Callable[[Any], None]:
        return lambda value: self.calls.append((name, value))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def versions(self) -> list[int]:
        return [value.version for name, value in self.calls if name == "change"]

    def options(self) -> dict[str, Any]:
        return {
            "on_change": self("change"),
            "on_complete": self("complete"),
            "on_fail": self("fail"),
            "on_cancel": self("cancel"),
            "on_error": self("error"),
        }


def watch(api: FakeApi, recorder: Recorder, **options: Any) -> Execution:
    async def scenario() -> Execution:
        async with api.async_client() as client:
            watcher = AsyncExecutionWatcher(
                client, WS, WF, EX, polling_interval=FAST, **recorder.options(), **options
            )
            async with watcher:
                return await watcher.wait(timeout=10)

    return asyncio.run(scenario())


def test_given_sse_then_the_snapshot_and_updates_build_the_execution_and_complete_runs_once() -> None:
    api = FakeApi(COMPLETED)
    api.streams.append(
        lambda request: stream_response(
            sse(
                ("snapshot", 2, {"execution": RUNNING}),
                ("update", 3, update_of(HALFWAY, "first", "second")),
                ("update", 4, update_of(COMPLETED, "second")),
                ("end", 4, {"status": "completed", "version": 4}),
            )
        )
    )
    recorder = Recorder()

    final = watch(api, recorder, enable_sse=True)

    assert final.to_json() == COMPLETED
    assert recorder.versions() == [2, 3, 4]
    assert recorder.names() == ["change", "change", "change", "complete"]
    # auto_refresh_on_complete: one conditional GET, answered 304 because the stream was complete
    assert [request.headers.get("if-none-match") for request in api.of(BASE)] == ['"4"']


def test_given_a_stream_that_closes_early_then_the_watcher_resumes_with_last_event_id() -> None:
    api = FakeApi(COMPLETED)
    api.streams.append(lambda request: stream_response(sse(("snapshot", 2, {"execution": RUNNING}))))
    api.streams.append(
        lambda request: stream_response(
            sse(("snapshot", 3, {"execution": HALFWAY}), ("update", 4, update_of(COMPLETED, "second")))
        )
    )
    recorder = Recorder()

    final = watch(api, recorder, enable_sse=True, enable_polling=False, auto_refresh_on_complete=False)

    streams = api.of("/stream")
    assert [request.headers.get("last-event-id") for request in streams] == [None, "2"]
    assert final.to_json() == COMPLETED
    assert recorder.versions() == [2, 3, 4]
    assert api.of(BASE) == []  # SSE alone: not one GET


def test_given_a_stream_that_keeps_failing_then_the_watcher_falls_back_to_polling_with_etags() -> None:
    api = FakeApi(RUNNING, RUNNING, HALFWAY, COMPLETED)
    api.streams.extend([lambda request: error_response(503, "unavailable", "stream down")] * 2)
    recorder = Recorder()

    async def scenario() -> tuple[Execution, AsyncExecutionWatcher]:
        async with api.async_client() as client:
            watcher = AsyncExecutionWatcher(
                client,
                WS,
                WF,
                EX,
                enable_sse=True,
                polling_interval=FAST,
                max_stream_failures=2,
                **recorder.options(),
            )
            async with watcher:
                return await watcher.wait(timeout=10), watcher

    final, watcher = asyncio.run(scenario())

    assert final.status == "completed"
    assert len(api.of("/stream")) == 2
    assert watcher.stats.fell_back_to_polling
    assert watcher.stats.not_modified == 2  # the second RUNNING, and the refresh after COMPLETED
    assert [request.headers.get("if-none-match") for request in api.of(BASE)] == [
        None,
        '"2"',
        '"2"',
        '"3"',
        '"4"',
    ]
    assert recorder.versions() == [2, 3, 4]
    assert "error" not in recorder.names()  # a stream that falls back is handled, not an error


def test_given_polling_then_transient_errors_are_reported_and_retried() -> None:
    api = FakeApi(RUNNING, COMPLETED)
    api.get_errors.append(error_response(500, "internal_error", "hiccup"))
    recorder = Recorder()

    final = watch(api, recorder)

    assert final.status == "completed"
    errors = [value for name, value in recorder.calls if name == "error"]
    assert [error.code for error in errors] == ["internal_error"]


def test_given_an_execution_that_does_not_exist_then_wait_raises_the_api_error_and_polling_stops() -> None:
    api = FakeApi()
    api.get_errors.append(error_response(404, "not_found", "execution not found"))
    recorder = Recorder()

    with pytest.raises(NotFoundError):
        watch(api, recorder)

    assert len(api.of(BASE)) == 1
    assert recorder.names() == ["error"]


def test_given_too_many_transient_errors_in_a_row_then_the_watcher_gives_up() -> None:
    api = FakeApi()
    api.get_errors.extend([error_response(503, "unavailable", "down")] * 5)

    with pytest.raises(ExecutionMonitorError, match="unavailable"):
        watch(api, Recorder(), max_consecutive_errors=3)

    assert len(api.of(BASE)) == 3


def test_given_a_failed_execution_then_retry_step_resumes_and_the_watcher_follows_it_to_its_new_end() -> None:
    resumed = execution(5, "running", [step("first", "completed"), step("second", "running", attempt=2)])
    done = execution(6, "completed", [step("first", "completed"), step("second", "completed", attempt=2)])
    api = FakeApi(FAILED, FAILED, resumed, done)
    api.commands["/retry-step"] = lambda request: httpx.Response(202, json={"execution": resumed})
    recorder = Recorder()

    async def scenario() -> tuple[Execution, bool, Execution]:
        async with (
            api.async_client() as client,
            AsyncExecutionWatcher(client, WS, WF, EX, polling_interval=FAST, **recorder.options()) as w,
        ):
            failed = await w.wait(timeout=10)
            accepted = await w.retry_step("second")
            return failed, accepted, await w.wait(timeout=10)

    failed, accepted, final = asyncio.run(scenario())

    assert (failed.status, accepted, final.status) == ("failed", True, "completed")
    assert recorder.names() == ["change", "fail", "change", "change", "complete"]
    assert api.of("/retry-step", "POST")[0].content == b'{"actionId":"second"}'


def test_given_a_cancel_while_following_then_on_cancel_gets_the_refreshed_execution_that_wait_returns() -> (
    None
):
    answered = execution(5, "cancelled", [step("first", "cancelled"), step("second", "skipped")])
    settled = {**answered, "version": 6}  # a write after the cancel (the runtime's progress write)
    api = FakeApi(RUNNING)

    def cancel(request: httpx.Request) -> httpx.Response:
        api.timeline = [settled]
        return httpx.Response(200, json={"execution": answered})

    api.commands["/cancel"] = cancel
    recorder = Recorder()

    async def scenario() -> Execution:
        async with (
            api.async_client() as client,
            AsyncExecutionWatcher(client, WS, WF, EX, polling_interval=FAST, **recorder.options()) as watcher,
        ):
            while watcher.execution is None:
                await asyncio.sleep(FAST)
            assert await watcher.cancel_execution()
            return await watcher.wait(timeout=10)

    final = asyncio.run(scenario())

    assert final.version == 6
    assert [value for name, value in recorder.calls if name == "cancel"] == [final]


def test_given_a_command_the_api_refuses_then_it_answers_false_and_sets_error() -> None:
    api = FakeApi(COMPLETED)
    api.commands["/cancel"] = lambda request: error_response(409, "conflict", "already completed")
    recorder = Recorder()

    async def scenario() -> tuple[bool, AsyncExecutionWatcher]:
        async with (
            api.async_client() as client,
            AsyncExecutionWatcher(client, WS, WF, EX, polling_interval=FAST, **recorder.options()) as w,
        ):
            await w.wait(timeout=10)
            return await w.cancel_execution(), w

    cancelled, watcher = asyncio.run(scenario())

    assert cancelled is False
    assert isinstance(watcher.error, ApiError) and watcher.error.code == "conflict"
    assert not watcher.can_cancel and not watcher.is_running


def test_given_a_command_answer_newer_than_the_stream_then_an_older_update_does_not_roll_it_back() -> None:
    cancelled = execution(5, "cancelled", [step("first", "cancelled"), step("second", "skipped")])
    api = FakeApi(cancelled)
    api.commands["/cancel"] = lambda request: httpx.Response(200, json={"execution": cancelled})
    recorder = Recorder()

    async def scenario() -> Execution:
        async with api.async_client() as client:
            watcher = AsyncExecutionWatcher(client, WS, WF, EX, enable_polling=False, **recorder.options())
            watcher._apply(RUNNING)  # what the stream had delivered
            assert await watcher.cancel_execution()
            watcher._apply(HALFWAY)  # an update that was in flight before the cancel
            return await watcher.wait(timeout=10)

    final = asyncio.run(scenario())

    assert final.version == 5
    assert recorder.names() == ["change", "change", "cancel"]


def test_given_a_callback_that_raises_then_the_watcher_goes_on() -> None:
    api = FakeApi(RUNNING, COMPLETED)

    def broken(execution: Execution) -> None:
        raise RuntimeError("user code")

    async def scenario() -> Execution:
        async with (
            api.async_client() as client,
            AsyncExecutionWatcher(client, WS, WF, EX, polling_interval=FAST, on_change=broken) as w,
        ):
            return await w.wait(timeout=10)

    assert asyncio.run(scenario()).status == "completed"


def test_given_no_live_mode_then_the_watcher_loads_once_and_wait_says_it_is_not_following() -> None:
    api = FakeApi(RUNNING)

    with pytest.raises(WatchStopped, match="running"):
        watch(api, Recorder(), enable_polling=False)

    assert len(api.of(BASE)) == 1


def test_given_the_blocking_watcher_then_closing_it_ends_its_thread() -> None:
    api = FakeApi(RUNNING, COMPLETED)
    completed: list[Execution] = []

    with watch_execution(
        api.client(), WS, WF, EX, polling_interval=FAST, on_complete=completed.append
    ) as watcher:
        final = watcher.wait(timeout=10)
        assert watcher.execution is final and not watcher.is_loading and watcher.progress is not None
        assert watcher.get_action_result("second") is not None

    assert final.status == "completed"
    assert completed == [final]
    assert not [thread for thread in threading.enumerate() if thread.name == f"watch-execution-{EX}"]
    assert watcher.wait() is final  # still answers once closed
    with pytest.raises(WatchStopped, match="closed"):
        watcher.refresh()


def test_given_a_callback_that_calls_a_blocking_method_then_it_gets_an_error_not_a_deadlock() -> None:
    api = FakeApi(RUNNING, COMPLETED)
    raised: list[BaseException] = []

    def refresh_from_callback(execution: Execution) -> None:
        try:
            watcher.refresh()
        except RuntimeError as error:
            raised.append(error)

    with watch_execution(
        api.client(), WS, WF, EX, polling_interval=FAST, on_complete=refresh_from_callback
    ) as watcher:
        watcher.wait(timeout=10)

    assert len(raised) == 1
