"""Every route through the client against the local runtime, each scenario run with the sync
Client and with the AsyncClient: answers as typed models, errors as exceptions with the API's code."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from execution_monitor_client import (
    AsyncClient,
    AsyncPaginator,
    AuthenticationError,
    Client,
    ConflictError,
    Execution,
    NotFoundError,
    ValidationError,
)
from tests.e2e.support import definition, delay_action, unique

pytestmark = pytest.mark.xdist_group("e2e")

DEADLINE_SECONDS = 60
UNREACHABLE = {"id": "call", "type": "http_request", "params": {"url": "http://127.0.0.1:1/"}}


class Blocking:
    """An AsyncClient driven from plain test code, so one scenario covers both clients."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.loop = asyncio.new_event_loop()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if isinstance(result, AsyncPaginator):
                return self.loop.run_until_complete(_collect(result))
            return self.loop.run_until_complete(result)

        return call

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


async def _collect(paginator: AsyncPaginator[Any]) -> list[Any]:
    return [item async for item in paginator]


@pytest.fixture
def workspace(token_for: Callable[..., str]) -> tuple[str, str]:
    workspace_id = unique("ws")
    return workspace_id, token_for([workspace_id])


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, base_url: str, workspace: tuple[str, str]) -> Iterator[Any]:
    """The sync Client, or the AsyncClient behind the same blocking calls."""
    if request.param == "sync":
        with Client(base_url, token=workspace[1]) as client:
            yield client
    else:
        blocking = Blocking(AsyncClient(base_url, token=workspace[1]))
        yield blocking
        blocking.close()


def finished(api: Any, workspace_id: str, workflow_id: str, execution_id: str) -> Execution:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not (execution := api.get_execution(workspace_id, workflow_id, execution_id)).is_terminal:
        assert time.monotonic() < deadline, f"{execution_id} still {execution.status}"
        time.sleep(0.2)
    return execution


def not_modified(api: Any, workspace_id: str, workflow_id: str, execution_id: str) -> Execution:
    """The execution once a GET with its own ETag is answered 304 (the runtime writes progress
    once more after the end, so the first try may still find a newer version)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        held: Execution = api.get_execution(workspace_id, workflow_id, execution_id)
        if api.get_execution_if_changed(workspace_id, workflow_id, execution_id, held.etag) is None:
            return held
        assert time.monotonic() < deadline, f"{execution_id} kept changing"


def test_given_a_definition_then_put_and_get_workflow_answer_the_typed_workflow(
    api: Any, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    body = definition(delay_action("wait", 0), name="orders")

    first = api.put_workflow(workspace_id, "orders", body)
    second = api.put_workflow(workspace_id, "orders", {**body, "description": "v2"})
    read = api.get_workflow(workspace_id, "orders")

    assert (first.id, first.name, first.version, second.version) == ("orders", "orders", 1, 2)
    assert read == second
    assert read.description == "v2"
    assert read.actions[0]["id"] == "wait"


def test_given_executions_then_start_list_and_conditional_get_behave_as_the_contract_says(
    api: Any, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    api.put_workflow(workspace_id, "quick", definition(delay_action("only", 0)))

    first = api.start_execution(workspace_id, "quick", input={"n": 1}, idempotency_key="key-1")
    repeat = api.start_execution(workspace_id, "quick", input={"n": 1}, idempotency_key="key-1")
    second = api.start_execution(workspace_id, "quick")
    done = finished(api, workspace_id, "quick", first.id)
    held = not_modified(api, workspace_id, "quick", first.id)
    stale = api.get_execution_if_changed(workspace_id, "quick", first.id, '"1"')
    listed = [execution.id for execution in api.list_executions(workspace_id, "quick", page_size=1)]
    capped = [execution.id for execution in api.list_executions(workspace_id, "quick", limit=1)]

    assert repeat.id == first.id
    assert (first.status, first.input) == ("pending", {"n": 1})
    assert done.status == "completed" and done.action_results is not None
    assert stale is not None and stale.version == held.version  # an old ETag gets the execution
    assert listed == [second.id, first.id]  # newest first, two pages of one
    assert capped == [second.id]


def test_given_a_running_execution_then_cancel_is_repeatable_and_a_finished_one_is_a_conflict(
    api: Any, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    api.put_workflow(workspace_id, "long", definition(delay_action("long", 60)))
    api.put_workflow(workspace_id, "quick", definition(delay_action("only", 0)))
    running = api.start_execution(workspace_id, "long")
    quick = api.start_execution(workspace_id, "quick")

    cancelled = api.cancel_execution(workspace_id, "long", running.id)
    again = api.cancel_execution(workspace_id, "long", running.id)
    finished(api, workspace_id, "quick", quick.id)
    with pytest.raises(ConflictError) as conflict:
        api.cancel_execution(workspace_id, "quick", quick.id)

    assert (cancelled.status, again.status) == ("cancelled", "cancelled")
    assert cancelled.can_retry and not cancelled.can_cancel
    assert (conflict.value.status, conflict.value.code) == (409, "conflict")


def test_given_a_failed_execution_then_retry_and_retry_step_answer_the_new_and_the_resumed_execution(
    api: Any, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    api.put_workflow(workspace_id, "failing", definition(delay_action("warm_up", 0), UNREACHABLE))
    failed = finished(api, workspace_id, "failing", api.start_execution(workspace_id, "failing").id)

    retried = api.retry_execution(workspace_id, "failing", failed.id)
    with pytest.raises(NotFoundError) as unknown_step:
        api.retry_step(workspace_id, "failing", failed.id, "no_such_step")
    resumed = api.retry_step(workspace_id, "failing", failed.id, "call")

    assert failed.status == "failed"
    assert failed.get_action_result("call") is not None
    assert retried.id != failed.id and retried.retry_of == failed.id
    assert unknown_step.value.code == "not_found"
    assert resumed.id == failed.id and resumed.status in ("pending", "running")
    step = resumed.get_action_result("warm_up")
    assert step is not None and step.status == "completed"  # kept, not run again


def test_given_bad_requests_then_the_errors_carry_the_api_s_code_message_and_details(
    api: Any, workspace: tuple[str, str], base_url: str
) -> None:
    workspace_id, _ = workspace

    with pytest.raises(ValidationError) as invalid:
        api.put_workflow(workspace_id, "bad", {"name": "bad", "actions": [{"id": "x y", "type": "delay"}]})
    with pytest.raises(NotFoundError) as elsewhere:
        api.get_workflow(unique("not_mine"), "orders")
    with Client(base_url, token="not-a-token") as stranger, pytest.raises(AuthenticationError) as anonymous:
        stranger.get_workflow(workspace_id, "orders")

    assert (invalid.value.status, invalid.value.code) == (422, "validation_error")
    assert invalid.value.details
    assert "actions" in invalid.value.one_line()
    assert (elsewhere.value.status, elsewhere.value.code) == (404, "not_found")
    assert anonymous.value.status == 401


def test_given_the_stream_route_then_the_sync_client_reads_its_events(
    base_url: str, workspace: tuple[str, str]
) -> None:
    workspace_id, token = workspace
    with Client(base_url, token=token) as client:
        client.put_workflow(workspace_id, "quick", definition(delay_action("only", 0)))
        started = client.start_execution(workspace_id, "quick")
        with client.stream_execution(workspace_id, "quick", started.id) as events:
            received = [event for event in events if event.carries_data]

    assert received[0].event == "snapshot"
    assert received[-1].event == "end"
    assert received[-1].data["status"] == "completed"
    ids = [event.id or 0 for event in received]
    assert all(ids) and ids == sorted(ids)


def test_given_a_token_function_then_each_request_asks_it(base_url: str, workspace: tuple[str, str]) -> None:
    workspace_id, token = workspace
    asked: list[int] = []

    def current_token() -> str:
        asked.append(1)
        return token

    with Client(base_url, token=current_token) as client:
        client.put_workflow(workspace_id, "orders", definition())
        client.get_workflow(workspace_id, "orders")

    assert len(asked) == 2
