"""watch_execution over real HTTP against the local runtime, through a recording proxy that can
drop or refuse the stream: SSE and polling to every terminal status, resume without a missed
change, fallback to polling, 304s, and nothing left open after close."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest

from execution_monitor_client import (
    AsyncClient,
    AsyncExecutionWatcher,
    Client,
    Execution,
    watch_execution,
    watch_executions,
)
from tests.e2e.client_proxy import Proxy, StreamCut, established_connections_to, recording_proxy
from tests.e2e.support import definition, delay_action, unique

pytestmark = pytest.mark.xdist_group("e2e")

DEADLINE_SECONDS = 60
POLL = 0.2  # polling interval of the watchers here (seconds)
# Refused at once: nothing listens on port 1, and make dev lets http_request call loopback.
UNREACHABLE = {
    "id": "call",
    "type": "http_request",
    "params": {"url": "http://127.0.0.1:1/", "timeoutSeconds": 2},
}
WORKFLOWS = {
    "completed": definition(delay_action("warm_up", 1), delay_action("settle", 1)),
    "failed": definition(delay_action("warm_up", 1), UNREACHABLE, delay_action("settle", 0)),
    "cancelled": definition(delay_action("warm_up", 1), delay_action("long", 60)),
}


@pytest.fixture
def proxy(base_url: str) -> Iterator[Proxy]:
    with recording_proxy(base_url) as running:
        yield running


@pytest.fixture
def workspace(token_for: Callable[..., str]) -> tuple[str, str]:
    workspace_id = unique("ws")
    return workspace_id, token_for([workspace_id])


@pytest.fixture
def client(proxy: Proxy, workspace: tuple[str, str]) -> Iterator[Client]:
    with Client(proxy.url, token=workspace[1]) as through_proxy:
        yield through_proxy


def start(client: Client, workspace_id: str, outcome: str) -> Execution:
    workflow_id = unique("wf")
    client.put_workflow(workspace_id, workflow_id, WORKFLOWS[outcome])
    return client.start_execution(workspace_id, workflow_id)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def without_bookkeeping(execution: Execution) -> dict[str, Any]:
    """The execution minus version/updatedAt: the runtime bumps both once more after a terminal
    status (a late progress write that changes nothing else), after the stream has ended."""
    return {key: value for key, value in execution.to_json().items() if key not in ("version", "updatedAt")}


class Calls:
    def __init__(self) -> None:
        self.by_name: dict[str, list[Any]] = {}

    def options(self) -> dict[str, Any]:
        names = ("on_change", "on_complete", "on_fail", "on_cancel", "on_error")
        return {
            name: (lambda value, name=name: self.by_name.setdefault(name, []).append(value)) for name in names
        }


@pytest.mark.parametrize("outcome", ["completed", "failed", "cancelled"])
@pytest.mark.parametrize("mode", ["sse", "polling"])
def test_given_an_execution_then_the_watcher_follows_it_to_its_end_and_runs_that_outcome_s_callback(
    client: Client, proxy: Proxy, workspace: tuple[str, str], mode: str, outcome: str
) -> None:
    workspace_id, _ = workspace
    started = start(client, workspace_id, outcome)
    calls = Calls()

    with watch_execution(
        client,
        workspace_id,
        started.workflow_id,
        started.id,
        enable_sse=mode == "sse",
        polling_interval=POLL,
        **calls.options(),
    ) as watcher:
        if outcome == "cancelled":
            wait_until(
                lambda: watcher.execution is not None and watcher.execution.status == "running", "it runs"
            )
            assert watcher.is_running and watcher.can_cancel and not watcher.can_retry
            assert watcher.cancel_execution() is True
        final = watcher.wait(timeout=DEADLINE_SECONDS)
        stats = watcher.stats

    gets = proxy.gets_of(final.id)
    assert final.status == outcome
    assert without_bookkeeping(final) == without_bookkeeping(
        client.get_execution(workspace_id, final.workflow_id, final.id)
    )
    callback = {"completed": "on_complete", "failed": "on_fail", "cancelled": "on_cancel"}[outcome]
    assert calls.by_name[callback] == [final]
    assert {"on_complete", "on_fail", "on_cancel"} & set(calls.by_name) == {callback}
    assert "on_error" not in calls.by_name
    versions = [execution.version for execution in calls.by_name["on_change"]]
    assert versions == sorted(set(versions))  # every change once, in order
    if mode == "sse":
        assert stats.stream_connections >= 1 and not stats.fell_back_to_polling
        assert len(gets) == 1 and gets[0].headers["if-none-match"]  # only the refresh at the end
        assert {step.status for step in calls.by_name["on_change"][-1].action_results or []} == {
            step.status for step in final.action_results or []
        }
    else:
        assert proxy.streams() == []
        assert all(get.headers.get("if-none-match") for get in gets[1:])


@pytest.mark.parametrize("how", ["close", "reset"])
def test_given_the_stream_drops_mid_event_then_the_watcher_resumes_with_last_event_id_and_misses_nothing(
    client: Client, proxy: Proxy, workspace: tuple[str, str], how: Literal["close", "reset"]
) -> None:
    workspace_id, _ = workspace
    started = start(client, workspace_id, "completed")
    # Pass the snapshot and one update whole, then half of the next event: that change is lost in
    # transit and must come back through the reconnect.
    proxy.stream_cuts.append(StreamCut(after_events=2, how=how))

    with watch_execution(
        client,
        workspace_id,
        started.workflow_id,
        started.id,
        enable_sse=True,
        enable_polling=False,  # SSE alone: what arrives, arrives by the stream
        auto_refresh_on_complete=False,  # and no GET at the end to paper over a missed change
    ) as watcher:
        final = watcher.wait(timeout=DEADLINE_SECONDS)

    first, second, *_ = proxy.streams()
    assert len(first.event_ids) == 2
    assert "last-event-id" not in first.headers
    assert second.headers["last-event-id"] == first.event_ids[-1]
    assert proxy.gets_of(final.id) == []
    assert final.status == "completed"
    assert without_bookkeeping(final) == without_bookkeeping(
        client.get_execution(workspace_id, final.workflow_id, final.id)
    )


def test_given_the_stream_route_fails_then_the_watcher_falls_back_to_polling_and_still_sees_the_end(
    client: Client, proxy: Proxy, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    proxy.refuse_streams_with = 503
    started = start(client, workspace_id, "completed")
    errors: list[Exception] = []

    with watch_execution(
        client,
        workspace_id,
        started.workflow_id,
        started.id,
        enable_sse=True,
        polling_interval=POLL,
        on_error=errors.append,
    ) as watcher:
        final = watcher.wait(timeout=DEADLINE_SECONDS)
        stats = watcher.stats

    assert final.status == "completed"
    assert [stream.status for stream in proxy.streams()] == [503, 503, 503]  # max_stream_failures
    assert stats.fell_back_to_polling and stats.stream_failures == 3
    assert stats.requests == len(proxy.gets_of(final.id)) >= 2
    assert errors == []


def test_given_polling_then_every_unchanged_read_is_a_304_that_the_watcher_counts(
    client: Client, proxy: Proxy, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    started = start(client, workspace_id, "cancelled")  # a minute-long step: nothing moves meanwhile
    changes: list[Execution] = []

    with watch_execution(
        client, workspace_id, started.workflow_id, started.id, polling_interval=POLL, on_change=changes.append
    ) as watcher:
        wait_until(lambda: watcher.stats.not_modified >= 3, "three polls found nothing new")
        assert watcher.cancel_execution()
        final = watcher.wait(timeout=DEADLINE_SECONDS)
        stats = watcher.stats

    gets = proxy.gets_of(final.id)
    assert stats.requests == len(gets)
    assert stats.not_modified == len([get for get in gets if get.status == 304]) >= 3
    # Each poll after the first sends the ETag it holds; a 304 costs no body and no on_change.
    assert all(get.headers.get("if-none-match") for get in gets[1:])
    assert len(changes) == len({execution.version for execution in changes})
    assert final.status == "cancelled"


def test_given_a_closed_watcher_then_no_thread_and_no_connection_is_left(
    client: Client, proxy: Proxy, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    started = start(client, workspace_id, "cancelled")  # runs for a minute: the stream stays open
    port = int(proxy.url.rsplit(":", 1)[1])
    watcher = watch_execution(client, workspace_id, started.workflow_id, started.id, enable_sse=True)
    wait_until(lambda: watcher.execution is not None and watcher.execution.status == "running", "it runs")
    # The stream, alone: the proxy speaks HTTP/1.0, so every other request closed its connection.
    wait_until(lambda: established_connections_to(port) == 1, "only the stream is open")

    watcher.close()

    assert established_connections_to(port) == 0
    assert not [thread for thread in threading.enumerate() if thread.name == f"watch-execution-{started.id}"]
    client.cancel_execution(workspace_id, started.workflow_id, started.id)


def test_given_the_async_client_then_the_async_watcher_follows_the_stream_to_the_end(
    proxy: Proxy, workspace: tuple[str, str], client: Client
) -> None:
    workspace_id, token = workspace
    started = start(client, workspace_id, "completed")

    async def scenario() -> Execution:
        async with AsyncClient(proxy.url, token=token) as async_client:
            watcher = AsyncExecutionWatcher(
                async_client, workspace_id, started.workflow_id, started.id, enable_sse=True
            )
            async with watcher:
                return await watcher.wait(timeout=DEADLINE_SECONDS)

    assert asyncio.run(scenario()).status == "completed"


def test_given_watch_executions_then_the_list_follows_new_executions_and_their_ends(
    client: Client, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    started = start(client, workspace_id, "completed")

    with watch_executions(
        client, workspace_id, started.workflow_id, limit=5, polling_interval=POLL
    ) as watcher:
        assert [execution.id for execution in watcher.wait_loaded(timeout=DEADLINE_SECONDS)] == [started.id]
        wait_until(lambda: watcher.executions[0].status == "completed", "the list shows it completed")
        assert watcher.running == []
