"""The SSE app over real HTTP (uvicorn on a free port) against moto, with a real SSE client."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest
import uvicorn
from httpx_sse import ServerSentEvent, connect_sse

from execution_monitor.engine.runner import default_runner
from execution_monitor.live import LiveSettings
from execution_monitor.paths import STREAM as STREAM_PATH
from execution_monitor.store.dynamodb import DynamoStore
from infrastructure.routes import ROUTES
from stream_execution.app import create_app
from tests.helpers import NoRunner, begin_step, complete_step, put_workflow, start
from tests.integration.conftest import TABLE

WS, WF = "ws1", "wf1"
MEMBER = {"authorizer": {"sub": "user-1", "workspaces": WS, "principalId": "user-1"}}
FAST = LiveSettings(
    retry_ms=100,
    heartbeat_seconds=15,
    poll_min_seconds=0.02,
    poll_max_seconds=0.1,
    fast_window_seconds=0.1,
    deadline_margin_seconds=0.5,
)


@pytest.fixture
def serve(aws: None) -> Iterator[Callable[[LiveSettings], str]]:
    """Starts the app under uvicorn in a thread (moto's patches are process-wide); returns its URL."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(settings: LiveSettings) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(
            create_app(settings=lambda: settings),
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        running.append((server, thread))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=5)


def stream_url(base: str, execution_id: str, workspace: str = WS, workflow: str = WF) -> str:
    path = STREAM_PATH.format(workspaceId=workspace, workflowId=workflow, executionId=execution_id)
    return base + path


def headers(context: dict[str, Any] | None = MEMBER, extra: dict[str, str] | None = None) -> dict[str, str]:
    values = {} if context is None else {"x-amzn-request-context": json.dumps(context)}
    return {**values, **(extra or {})}


def pending_execution(store: DynamoStore, *actions: dict[str, Any]) -> tuple[str, NoRunner]:
    delays = [{"id": f"d{i}", "type": "delay", "params": {"seconds": 0}} for i in range(3)]
    workflow = put_workflow(store, WS, WF, list(actions) or delays)
    runner = NoRunner()
    return start(store, workflow, runner).id, runner


def begin(store: DynamoStore, execution_id: str, index: int) -> None:
    begin_step(store, WS, execution_id, index)


def events_until(source: Iterator[ServerSentEvent], name: str) -> list[ServerSentEvent]:
    seen = []
    for event in source:
        seen.append(event)
        if event.event == name:
            break
    return seen


def test_the_app_serves_the_path_of_the_streaming_route() -> None:
    (route,) = [route for route in ROUTES if route.streaming]
    assert (route.method, route.path, route.function) == ("GET", STREAM_PATH, "stream_execution")


def test_given_a_run_when_watched_then_snapshot_updates_for_every_step_end_and_closed(
    store: DynamoStore, engine: str, serve: Callable[[LiveSettings], str]
) -> None:
    queue = boto3.client("sqs").create_queue(QueueName="stream-test")["QueueUrl"]
    execution_id, runner = pending_execution(
        store,
        {"id": "send", "type": "send_message", "params": {"queueUrl": queue, "message": "hello"}},
        {"id": "wait", "type": "delay", "params": {"seconds": 0}},
        {
            "id": "again",
            "type": "send_message",
            "params": {"queueUrl": queue, "message": "{{steps.send.output.messageId}}"},
        },
    )
    base = serve(FAST)

    with (
        httpx.Client(timeout=10) as client,
        connect_sse(client, "GET", stream_url(base, execution_id), headers=headers()) as source,
    ):
        assert source.response.headers["content-type"].startswith("text/event-stream")
        assert source.response.headers["cache-control"] == "no-cache"
        events = source.iter_sse()
        first = next(events)
        assert (first.event, first.retry) == ("message", 100)  # a retry-only block: no event is dispatched
        snapshot = next(events)
        assert snapshot.event == "snapshot"
        assert [r["status"] for r in snapshot.json()["execution"]["actionResults"]] == ["pending"] * 3
        default_runner().start(*runner.started[0])  # the real state machine, now that the client watches
        rest = list(events)  # until the server closes the stream

    assert [event.event for event in rest][-1] == "end"
    updates = [event for event in rest if event.event == "update"]
    final = {}
    for update in updates:
        for result in update.json()["changedActionResults"]:
            final[result["actionId"]] = result["status"]
    assert final == {"send": "completed", "wait": "completed", "again": "completed"}
    versions = [int(event.id) for event in [snapshot, *rest]]
    assert versions == sorted(versions) and len(set(versions[:-1])) == len(versions) - 1
    assert updates[-1].json()["status"] == "completed"
    assert rest[-1].json() == {"status": "completed", "version": versions[-1]}


def test_given_the_current_last_event_id_when_reconnecting_then_no_snapshot(
    store: DynamoStore, serve: Callable[[LiveSettings], str]
) -> None:
    execution_id, _ = pending_execution(store)
    begin(store, execution_id, 0)
    version = store.executions.get_execution(WS, execution_id)[0].version  # type: ignore[index]
    base = serve(FAST)

    with (
        httpx.Client(timeout=10) as client,
        connect_sse(
            client,
            "GET",
            stream_url(base, execution_id),
            headers=headers(extra={"Last-Event-ID": str(version)}),
        ) as source,
    ):
        events = source.iter_sse()
        next(events)  # retry
        begin(store, execution_id, 1)  # the next change arrives as an update, with no snapshot first
        following = next(events)

    assert following.event == "update"
    assert following.id == str(version + 1)
    assert [r["actionId"] for r in following.json()["changedActionResults"]] == ["d1"]


def test_given_a_stale_last_event_id_when_reconnecting_then_a_snapshot(
    store: DynamoStore, serve: Callable[[LiveSettings], str]
) -> None:
    execution_id, _ = pending_execution(store)
    begin(store, execution_id, 0)
    base = serve(FAST)

    with (
        httpx.Client(timeout=10) as client,
        connect_sse(
            client, "GET", stream_url(base, execution_id), headers=headers(extra={"Last-Event-ID": "1"})
        ) as source,
    ):
        events = source.iter_sse()
        next(events)
        snapshot = next(events)

    assert snapshot.event == "snapshot"
    assert snapshot.id == "2"
    assert snapshot.json()["execution"]["actionResults"][0]["status"] == "running"


@pytest.mark.parametrize(
    ("context", "workspace", "workflow", "status", "code"),
    [
        (None, WS, WF, 401, "unauthorized"),
        ({"authorizer": None}, WS, WF, 401, "unauthorized"),
        (MEMBER, "other", WF, 404, "not_found"),
        ({"authorizer": {"sub": "u2", "workspaces": "other"}}, WS, WF, 404, "not_found"),
        (MEMBER, WS, "another_workflow", 404, "not_found"),
        (MEMBER, WS, "bad.id", 422, "validation_error"),
    ],
)
def test_given_a_caller_or_path_that_may_not_see_it_then_a_json_error_before_any_stream(
    store: DynamoStore,
    serve: Callable[[LiveSettings], str],
    context: dict[str, Any] | None,
    workspace: str,
    workflow: str,
    status: int,
    code: str,
) -> None:
    execution_id, _ = pending_execution(store)
    base = serve(FAST)

    response = httpx.get(
        stream_url(base, execution_id, workspace, workflow), headers=headers(context), timeout=5
    )

    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == code


def test_given_an_unknown_execution_then_404(
    store: DynamoStore, serve: Callable[[LiveSettings], str]
) -> None:
    base = serve(FAST)

    response = httpx.get(stream_url(base, "exec_nope"), headers=headers(), timeout=5)

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "execution exec_nope not found"}}


def test_given_a_client_that_disconnects_then_the_loop_stops_reading_at_once(
    store: DynamoStore, dynamodb: Any, serve: Callable[[LiveSettings], str]
) -> None:
    execution_id, _ = pending_execution(store)
    base = serve(FAST)
    calls: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))

    with (
        httpx.Client(timeout=10) as client,
        connect_sse(client, "GET", stream_url(base, execution_id), headers=headers()) as source,
    ):
        events = source.iter_sse()
        next(events), next(events)  # retry, snapshot
        time.sleep(0.3)
        assert calls.count("GetItem") >= 3  # it was polling while the client listened
    time.sleep(0.2)  # the disconnect reaches the server
    calls.clear()
    time.sleep(0.5)  # five times the slowest poll interval

    assert calls == []


def test_given_a_lambda_deadline_then_the_stream_closes_cleanly_before_it(
    store: DynamoStore, serve: Callable[[LiveSettings], str]
) -> None:
    execution_id, _ = pending_execution(store)
    base = serve(FAST)
    deadline_ms = int((time.time() + FAST.deadline_margin_seconds + 0.6) * 1000)
    context = {"deadline_ms": deadline_ms, "request_id": "r-1"}

    started = time.monotonic()
    with (
        httpx.Client(timeout=10) as client,
        connect_sse(
            client,
            "GET",
            stream_url(base, execution_id),
            headers=headers(extra={"x-amzn-lambda-context": json.dumps(context)}),
        ) as source,
    ):
        names = [event.event for event in source.iter_sse()]
    elapsed = time.monotonic() - started

    assert names == ["message", "snapshot"]  # closed without `end`: the client reconnects
    assert 0.5 <= elapsed < 2.0


def test_given_an_idle_execution_then_keep_alive_comments_flow(
    store: DynamoStore, serve: Callable[[LiveSettings], str]
) -> None:
    execution_id, _ = pending_execution(store)
    base = serve(FAST.model_copy(update={"heartbeat_seconds": 0.2}))

    comments = 0
    started = time.monotonic()
    with (
        httpx.Client(timeout=10) as client,
        client.stream("GET", stream_url(base, execution_id), headers=headers()) as response,
    ):
        for line in response.iter_lines():
            if line == ": keep-alive":
                comments += 1
            if time.monotonic() - started > 1.0:
                break

    assert comments >= 3


def test_given_no_change_then_each_poll_is_one_small_get_item_and_no_query(
    store: DynamoStore, dynamodb: Any, serve: Callable[[LiveSettings], str]
) -> None:
    execution_id, _ = pending_execution(store)
    base = serve(FAST)
    calls: list[tuple[str, dict[str, Any]]] = []
    dynamodb.meta.events.register(
        "before-parameter-build.dynamodb", lambda model, params, **_: calls.append((model.name, params))
    )

    with (
        httpx.Client(timeout=10) as client,
        connect_sse(client, "GET", stream_url(base, execution_id), headers=headers()) as source,
    ):
        events = source.iter_sse()
        next(events), next(events)
        calls.clear()
        time.sleep(1.0)

    assert len(calls) >= 5  # about every 0.1 s once backed off
    for name, params in calls:
        assert name == "GetItem"
        assert params["ConsistentRead"] is True
        assert params["ProjectionExpression"] == "#version, #status"


def test_given_a_change_then_steps_are_read_once_and_only_from_the_first_open_step(
    store: DynamoStore, dynamodb: Any, serve: Callable[[LiveSettings], str]
) -> None:
    # The test writes through its own client, so the shared one counts only the app's requests.
    writer = DynamoStore(boto3.client("dynamodb"), TABLE)
    execution_id, _ = pending_execution(writer)
    begin(writer, execution_id, 0)
    complete_step(writer, WS, execution_id, 0)
    base = serve(FAST)
    calls: list[tuple[str, dict[str, Any]]] = []
    dynamodb.meta.events.register(
        "before-parameter-build.dynamodb", lambda model, params, **_: calls.append((model.name, params))
    )

    with (
        httpx.Client(timeout=10) as client,
        connect_sse(client, "GET", stream_url(base, execution_id), headers=headers()) as source,
    ):
        events = source.iter_sse()
        next(events), next(events)
        calls.clear()
        begin(writer, execution_id, 1)
        update = next(events)

    assert [r["actionId"] for r in update.json()["changedActionResults"]] == ["d1"]
    reads = [
        (name, params)
        for name, params in calls
        if not (name == "GetItem" and "ProjectionExpression" in params)
    ]
    assert [name for name, _ in reads] == ["GetItem", "Query"]  # the header, then the steps from #1 on
    assert reads[1][1]["ExpressionAttributeValues"][":first"] == {"S": "STEP#0001"}
