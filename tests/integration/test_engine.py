"""The engine on moto, running the real state machine with run_action in-process.

Side effects are counted (messages in a queue, hits on a loopback server) to prove which steps ran.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from cancel_execution import handler as cancel_execution
from execution_monitor.domain.execution import ExecutionState, StepState
from execution_monitor.engine.runner import StepFunctionsRunner
from execution_monitor.models import Execution, WorkflowDefinition
from execution_monitor.store.dynamodb import DynamoStore
from execution_monitor.store.dynamodb.executions import ExecutionTable
from execution_monitor.views import execution_view
from infrastructure.local.engine import STATE_MACHINE_NAME
from reconcile_execution import handler as reconcile_execution
from retry_execution import handler as retry_execution
from retry_step import handler as retry_step
from start_execution import handler as start_execution
from tests.helpers import LambdaContext, api_event, call, concurrently, put_workflow
from tests.integration.loopback import Loopback, loopback_server

BASE = "/api/workspaces/ws1/workflows/wf1"


@pytest.fixture(autouse=True)
def _engine(engine: str) -> str:
    return engine


@pytest.fixture
def queue(engine: str) -> str:
    return str(boto3.client("sqs").create_queue(QueueName="steps")["QueueUrl"])


@pytest.fixture
def server() -> Iterator[Loopback]:
    with loopback_server() as state:
        yield state


def messages_in(queue_url: str) -> list[str]:
    received = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [message["Body"] for message in received.get("Messages", [])]


def put(store: DynamoStore, actions: list[dict[str, Any]]) -> None:
    put_workflow(store, "ws1", "wf1", actions)


def read(store: DynamoStore, execution_id: str) -> Execution | None:
    """The execution as GET shows it."""
    found = store.executions.get_execution("ws1", execution_id)
    return None if found is None else execution_view(*found)


def start(body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    status, _, response = call(
        start_execution, api_event("POST", f"{BASE}/executions", body=body, headers=headers)
    )
    assert status == 202, response
    return dict(response["execution"])


def post(handler: Any, execution_id: str, verb: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    status, _, response = call(
        handler, api_event("POST", f"{BASE}/executions/{execution_id}/{verb}", body=body)
    )
    return status, response


def wait_for(
    store: DynamoStore, execution_id: str, done: Callable[[Execution], bool], timeout: float = 15
) -> Execution:
    deadline = time.monotonic() + timeout
    while True:
        execution = read(store, execution_id)
        assert execution is not None
        if done(execution):
            return execution
        assert time.monotonic() < deadline, f"timed out; last state {execution.status}"
        time.sleep(0.05)


def finished(execution: Execution) -> bool:
    return execution.status in ("completed", "failed", "cancelled")


def step(execution: Execution, action_id: str) -> Any:
    return next(result for result in execution.action_results or [] if result.action_id == action_id)


def run_arn(engine: str, run_id: str) -> str:
    return StepFunctionsRunner(boto3.client("stepfunctions"), engine).run_arn(run_id)


def runs_settled(engine: str, count: int) -> None:
    """Waits until `count` runs exist and none is RUNNING (run_action may still be returning)."""
    sfn = boto3.client("stepfunctions")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        runs = sfn.list_executions(stateMachineArn=engine)["executions"]
        if len(runs) >= count and all(run["status"] != "RUNNING" for run in runs):
            return
        time.sleep(0.05)
    raise AssertionError("runs did not settle")


def test_given_three_action_types_when_started_then_every_step_completes_with_outputs_and_durations(
    store: DynamoStore, queue: str, server: Loopback
) -> None:
    put(
        store,
        [
            {
                "id": "notify",
                "type": "send_message",
                "params": {"queueUrl": queue, "message": {"order": "{{input.order}}"}},
            },
            {"id": "pause", "type": "delay", "params": {"seconds": 1}},
            {
                "id": "call",
                "type": "http_request",
                "params": {"url": server.url + "/orders/{{input.order}}?m={{steps.notify.output.messageId}}"},
            },
        ],
    )
    started = start({"input": {"order": 7}})
    assert started["status"] == "pending"
    assert [result["status"] for result in started["actionResults"]] == ["pending"] * 3

    execution = wait_for(store, started["id"], finished)

    assert execution.status == "completed", execution.error
    assert execution.completed_at is not None and execution.duration is not None
    assert json.loads(messages_in(queue)[0]) == {"order": 7}
    message_id = step(execution, "notify").output["messageId"]
    assert server.hits == [f"/orders/7?m={message_id}"]
    assert step(execution, "call").output["body"] == {"path": f"/orders/7?m={message_id}", "status": 200}
    assert 900 <= step(execution, "pause").duration <= 3000
    assert all(
        result.attempt == 1 and result.status == "completed" for result in execution.action_results or []
    )


def test_given_a_failing_step_then_the_execution_fails_with_its_error_and_later_steps_are_skipped(
    store: DynamoStore, queue: str, server: Loopback
) -> None:
    server.statuses = [503]
    put(
        store,
        [
            {"id": "call", "type": "http_request", "params": {"url": server.url + "/x"}},
            {"id": "notify", "type": "send_message", "params": {"queueUrl": queue, "message": "never"}},
        ],
    )
    execution = wait_for(store, start()["id"], finished)

    assert execution.status == "failed"
    assert execution.error == "call: GET 127.0.0.1 answered HTTP 503 (expected 2xx)"
    assert step(execution, "call").status == "failed"
    assert step(execution, "notify").status == "skipped"
    assert execution.can_retry and not execution.can_cancel
    assert messages_in(queue) == []


def test_given_a_retry_policy_then_the_action_is_retried_with_each_failure_kept_in_history(
    store: DynamoStore, server: Loopback
) -> None:
    server.statuses = [500, 502]
    put(
        store,
        [
            {
                "id": "call",
                "type": "http_request",
                "params": {"url": server.url + "/flaky"},
                "retry": {"maxAttempts": 3, "intervalSeconds": 0, "backoffRate": 1},
            }
        ],
    )
    execution = wait_for(store, start()["id"], finished)

    assert execution.status == "completed"
    result = step(execution, "call")
    assert result.attempt == 3
    assert [attempt.error for attempt in result.history] == [
        "GET 127.0.0.1 answered HTTP 500 (expected 2xx)",
        "GET 127.0.0.1 answered HTTP 502 (expected 2xx)",
    ]
    assert len(server.hits) == 3


def test_given_a_failed_step_when_retried_then_earlier_steps_are_not_rerun_and_the_rest_completes(
    store: DynamoStore, queue: str, server: Loopback, engine: str
) -> None:
    server.statuses = [500]
    put(
        store,
        [
            {"id": "notify", "type": "send_message", "params": {"queueUrl": queue, "message": "once"}},
            {"id": "call", "type": "http_request", "params": {"url": server.url + "/y"}},
            {"id": "after", "type": "send_message", "params": {"queueUrl": queue, "message": "after"}},
        ],
    )
    failed = wait_for(store, start()["id"], finished)
    assert failed.status == "failed"
    runs_settled(engine, 1)
    notify_before = step(failed, "notify")

    status, body = post(retry_step, failed.id, "retry-step", {"actionId": "call"})
    assert status == 202, body
    assert body["execution"]["status"] == "running"
    execution = wait_for(store, failed.id, finished)

    assert execution.status == "completed"
    assert execution.error is None
    assert step(execution, "notify") == notify_before  # untouched, not run again
    assert sorted(messages_in(queue)) == ["after", "once"]
    retried = step(execution, "call")
    assert retried.attempt == 2
    assert [(h.attempt, h.error) for h in retried.history] == [
        (1, "GET 127.0.0.1 answered HTTP 500 (expected 2xx)")
    ]
    assert len(server.hits) == 2
    assert [run.start_index for run in execution.runs] == [0, 1]


def test_given_a_failed_execution_when_retried_then_a_new_linked_execution_runs_everything(
    store: DynamoStore, queue: str, server: Loopback
) -> None:
    server.statuses = [500]
    put(
        store,
        [
            {"id": "notify", "type": "send_message", "params": {"queueUrl": queue, "message": "{{input.n}}"}},
            {"id": "call", "type": "http_request", "params": {"url": server.url + "/z"}},
        ],
    )
    failed = wait_for(store, start({"input": {"n": "first"}})["id"], finished)

    status, body = post(retry_execution, failed.id, "retry")

    assert status == 201, body
    retry = body["execution"]
    assert retry["id"] != failed.id and retry["retryOf"] == failed.id
    assert retry["input"] == {"n": "first"} and retry["workflowVersion"] == failed.workflow_version
    original = read(store, failed.id)
    assert original is not None and original.retried_by == retry["id"] and not original.can_retry
    assert wait_for(store, retry["id"], finished).status == "completed"
    assert messages_in(queue) == ["first", "first"]


def test_given_a_running_delay_when_cancelled_then_steps_are_cancelled_or_skipped_and_nothing_later_runs(
    store: DynamoStore, queue: str, engine: str
) -> None:
    put(
        store,
        [
            {"id": "pause", "type": "delay", "params": {"seconds": 2}},
            {"id": "notify", "type": "send_message", "params": {"queueUrl": queue, "message": "too late"}},
        ],
    )
    execution_id = start()["id"]
    wait_for(store, execution_id, lambda e: step(e, "pause").status == "running")

    status, body = post(cancel_execution, execution_id, "cancel")

    assert status == 200
    assert body["execution"]["status"] == "cancelled"
    assert [r["status"] for r in body["execution"]["actionResults"]] == ["cancelled", "skipped"]
    time.sleep(2.5)  # past the delay: the next step must never run
    assert messages_in(queue) == []
    runs = boto3.client("stepfunctions").list_executions(stateMachineArn=engine)["executions"]
    # The run was stopped (AWS reports ABORTED; moto 5.2.5 ends a run stopped inside a Map as FAILED).
    assert [run["status"] in ("ABORTED", "FAILED") for run in runs] == [True]
    status, again = post(cancel_execution, execution_id, "cancel")
    assert (status, again["execution"]["version"]) == (200, body["execution"]["version"])


def test_given_a_step_finishing_after_cancel_then_the_execution_stays_cancelled(
    store: DynamoStore, server: Loopback, queue: str
) -> None:
    server.hold.clear()  # the request is held open until released
    put(
        store,
        [
            {"id": "call", "type": "http_request", "params": {"url": server.url + "/slow"}},
            {"id": "notify", "type": "send_message", "params": {"queueUrl": queue, "message": "no"}},
        ],
    )
    execution_id = start()["id"]
    assert server.entered.wait(10)

    status, _ = post(cancel_execution, execution_id, "cancel")
    server.hold.set()  # the step now finishes and tries to record completion
    time.sleep(1)

    assert status == 200
    execution = wait_for(store, execution_id, finished)
    assert execution.status == "cancelled"
    assert step(execution, "call").status == "cancelled"
    assert step(execution, "call").output is None
    assert messages_in(queue) == []


def test_given_two_concurrent_retries_then_exactly_one_new_execution_is_created(
    store: DynamoStore, server: Loopback
) -> None:
    server.statuses = [500]
    put(store, [{"id": "call", "type": "http_request", "params": {"url": server.url + "/c"}}])
    failed = wait_for(store, start()["id"], finished)
    results = concurrently(lambda: post(retry_execution, failed.id, "retry"))

    assert sorted(status for status, _ in results) == [201, 409]
    created = next(body for status, body in results if status == 201)["execution"]["id"]
    listed = store.executions.list_executions("ws1", "wf1", limit=10, status=None, cursor=None).executions
    assert {e.id for e in listed} == {failed.id, created}


def test_given_terminal_or_running_executions_then_conflicting_commands_are_409(
    store: DynamoStore, queue: str
) -> None:
    put(store, [{"id": "notify", "type": "send_message", "params": {"queueUrl": queue, "message": "m"}}])
    done = wait_for(store, start()["id"], finished)
    assert done.status == "completed"

    assert post(cancel_execution, done.id, "cancel")[0] == 409
    assert post(retry_execution, done.id, "retry")[0] == 409
    assert post(retry_step, done.id, "retry-step", {"actionId": "notify"})[0] == 409
    status, body = post(retry_step, done.id, "retry-step", {"actionId": "ghost"})
    assert (status, body["error"]["code"]) == (404, "not_found")


def test_given_a_running_execution_then_retry_step_is_409(store: DynamoStore) -> None:
    put(store, [{"id": "pause", "type": "delay", "params": {"seconds": 2}}])
    execution_id = start()["id"]
    wait_for(store, execution_id, lambda e: e.status == "running")
    status, body = post(retry_step, execution_id, "retry-step", {"actionId": "pause"})
    assert (status, body["error"]["code"]) == (409, "conflict")
    assert post(retry_execution, execution_id, "retry")[0] == 409


def test_given_an_unknown_workflow_then_starting_it_is_404(store: DynamoStore, engine: str) -> None:
    status, _, body = call(
        start_execution, api_event("POST", "/api/workspaces/ws1/workflows/ghost/executions")
    )
    assert (status, body["error"]["code"]) == (404, "not_found")


def test_given_an_idempotency_key_then_a_repeat_returns_the_same_execution_and_another_body_conflicts(
    store: DynamoStore, queue: str
) -> None:
    put(store, [{"id": "notify", "type": "send_message", "params": {"queueUrl": queue, "message": "m"}}])
    first = start({"input": {"a": 1}}, headers={"Idempotency-Key": "order-7"})
    again = start({"input": {"a": 1}}, headers={"Idempotency-Key": "order-7"})
    assert again["id"] == first["id"]
    status, _, body = call(
        start_execution,
        api_event(
            "POST", f"{BASE}/executions", body={"input": {"a": 2}}, headers={"Idempotency-Key": "order-7"}
        ),
    )
    assert (status, body["error"]["code"]) == (409, "conflict")
    wait_for(store, first["id"], finished)
    assert messages_in(queue) == ["m"]


def status_change(execution_id: str, run_id: str, status: str, **extra: Any) -> dict[str, Any]:
    run_input = {
        "execution": {"workspaceId": "ws1", "workflowId": "wf1", "executionId": execution_id, "runId": run_id}
    }
    arn = f"arn:aws:states:us-east-1:123456789012:execution:{STATE_MACHINE_NAME}:{run_id}"
    return {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {
            "executionArn": arn,
            "name": run_id,
            "status": status,
            "input": json.dumps(run_input),
            **extra,
        },
    }


def test_given_a_run_that_timed_out_unrecorded_then_the_reconciler_fails_the_execution(
    store: DynamoStore, engine: str
) -> None:
    put(store, [{"id": "pause", "type": "delay", "params": {"seconds": 2}}])
    execution_id = start()["id"]
    running = wait_for(store, execution_id, lambda e: e.status == "running")
    boto3.client("stepfunctions").stop_execution(executionArn=run_arn(engine, running.runs[0].run_id))
    event = status_change(execution_id, running.runs[0].run_id, "TIMED_OUT", error="States.Timeout")

    result = reconcile_execution.lambda_handler(event, LambdaContext())

    assert result == {"result": "settled:failed"}
    settled = read(store, execution_id)
    assert (
        settled is not None
        and settled.status == "failed"
        and settled.error == "run timed out: States.Timeout"
    )
    assert step(settled, "pause").status == "failed"
    again = reconcile_execution.lambda_handler(event, LambdaContext())
    assert again == {"result": "ignored: already settled or superseded"}


def test_given_a_superseded_run_then_the_reconciler_leaves_the_running_execution_alone(
    store: DynamoStore,
) -> None:
    put(store, [{"id": "pause", "type": "delay", "params": {"seconds": 2}}])
    execution_id = start()["id"]
    wait_for(store, execution_id, lambda e: e.status == "running")
    event = status_change(execution_id, f"{execution_id}-0", "ABORTED")  # an older run of it

    result = reconcile_execution.lambda_handler(event, LambdaContext())

    assert result == {"result": "ignored: already settled or superseded"}
    current = read(store, execution_id)
    assert current is not None and current.status == "running"
    assert wait_for(store, execution_id, finished).status == "completed"


def test_given_a_run_stopped_outside_the_api_then_the_local_run_watcher_settles_the_execution(
    store: DynamoStore, engine: str
) -> None:
    from infrastructure.local.run_watcher import RunWatcher

    put(store, [{"id": "pause", "type": "delay", "params": {"seconds": 3}}])
    execution_id = start()["id"]
    running = wait_for(store, execution_id, lambda e: step(e, "pause").status == "running")
    sfn = boto3.client("stepfunctions")
    sfn.stop_execution(executionArn=run_arn(engine, running.runs[0].run_id))
    runs_settled(engine, 1)

    delivered = RunWatcher(sfn, engine).poll_once()

    settled = read(store, execution_id)
    assert delivered == 1
    assert settled is not None and settled.status in ("cancelled", "failed")  # ABORTED in AWS, FAILED in moto
    assert settled.error is None or settled.error.startswith("run ")
    assert not settled.can_cancel


def test_given_two_concurrent_retry_steps_then_one_restarts_the_step_and_the_other_is_409(
    store: DynamoStore, server: Loopback, engine: str
) -> None:
    server.statuses = [500]
    put(store, [{"id": "call", "type": "http_request", "params": {"url": server.url + "/r"}}])
    failed = wait_for(store, start()["id"], finished)
    runs_settled(engine, 1)
    results = concurrently(lambda: post(retry_step, failed.id, "retry-step", {"actionId": "call"}))

    assert sorted(status for status, _ in results) == [202, 409]
    execution = wait_for(store, failed.id, finished)
    assert execution.status == "completed", (execution.error, execution.action_results, results)
    assert len(execution.runs) == 2
    assert step(execution, "call").attempt == 2
    assert len(server.hits) == 2


class FailingCreate:
    """Wraps the execution store so that creating an execution fails once (throttling, a crash)."""

    def __init__(self, store: ExecutionTable) -> None:
        self.store = store
        self.failures = 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def create_execution(self, execution: ExecutionState, steps: list[StepState]) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("throttled")
        self.store.create_execution(execution, steps)


def test_given_creation_fails_then_the_idempotency_key_is_free_for_the_repeat(
    store: DynamoStore, queue: str
) -> None:
    from execution_monitor.engine import lifecycle
    from execution_monitor.engine.runner import default_runner

    put(store, [{"id": "notify", "type": "send_message", "params": {"queueUrl": queue, "message": "m"}}])
    workflow = store.workflows.get_workflow("ws1", "wf1")
    assert workflow is not None
    flaky = FailingCreate(store.executions)
    with pytest.raises(RuntimeError):
        lifecycle.start_execution(flaky, store.statistics, default_runner(), workflow, {}, "key-1")

    (execution, _), created = lifecycle.start_execution(
        flaky, store.statistics, default_runner(), workflow, {}, "key-1"
    )

    assert created
    assert wait_for(store, execution.id, finished).status == "completed"


def test_given_creation_of_the_retry_fails_then_the_original_can_still_be_retried(
    store: DynamoStore, server: Loopback
) -> None:
    from execution_monitor.engine import lifecycle
    from execution_monitor.engine.runner import default_runner

    server.statuses = [500]
    put(store, [{"id": "call", "type": "http_request", "params": {"url": server.url + "/c"}}])
    failed = wait_for(store, start()["id"], finished)
    flaky = FailingCreate(store.executions)
    with pytest.raises(RuntimeError):
        lifecycle.retry_execution(flaky, store.statistics, default_runner(), "ws1", "wf1", failed.id)
    unlinked = read(store, failed.id)
    assert unlinked is not None and unlinked.retried_by is None and unlinked.can_retry

    retry, _ = lifecycle.retry_execution(flaky, store.statistics, default_runner(), "ws1", "wf1", failed.id)

    assert wait_for(store, retry.id, finished).status == "completed"


def test_the_history_budget_per_step_covers_what_a_run_records(
    store: DynamoStore, server: Loopback, engine: str
) -> None:
    from execution_monitor.models import EVENTS_PER_RUN, _history_events

    server.statuses = [500]
    actions = [
        {"id": "pause", "type": "delay", "params": {"seconds": 0}},
        {
            "id": "call",
            "type": "http_request",
            "params": {"url": server.url + "/h"},
            "retry": {"maxAttempts": 2, "intervalSeconds": 0},
        },
        {"id": "again", "type": "http_request", "params": {"url": server.url + "/h"}},
    ]
    put(store, actions)
    execution = wait_for(store, start()["id"], finished)
    assert execution.status == "completed"
    runs_settled(engine, 1)
    arn = run_arn(engine, execution.runs[0].run_id)
    events = boto3.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]
    budget = sum(
        _history_events(a)
        for a in WorkflowDefinition.model_validate({"name": "x", "actions": actions}).actions
    )
    # Per step exactly as budgeted; the rest is the run's own start, Map and completion events.
    assert budget <= len(events) <= budget + EVENTS_PER_RUN
