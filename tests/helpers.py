"""Builders shared by tests: API Gateway REST proxy events and a fake Lambda context."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from execution_monitor import clock, workflows
from execution_monitor.domain import transitions
from execution_monitor.domain.execution import ExecutionState
from execution_monitor.domain.workflow import Workflow
from execution_monitor.engine import lifecycle
from execution_monitor.engine.contract import RunInput
from execution_monitor.models import WorkflowDefinition
from execution_monitor.store.dynamodb import DynamoStore
from infrastructure.local.events import LambdaContext
from infrastructure.routes import ROUTES, Route

__all__ = ["LambdaContext"]

T = TypeVar("T")


def route_for(method: str, path: str) -> tuple[Route, dict[str, str]]:
    for route in ROUTES:
        pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.path) + "$"
        matched = re.match(pattern, path)
        if matched and route.method == method:
            return route, matched.groupdict()
    raise LookupError(f"no route for {method} {path}")


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    workspaces: tuple[str, ...] | None = ("ws1",),
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST proxy event as API Gateway sends it after the authorizer allowed the caller."""
    route, path_parameters = route_for(method, path)
    raw_body = body if isinstance(body, str) or body is None else json.dumps(body)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    authorizer = None if workspaces is None else {"sub": "user-1", "workspaces": ",".join(workspaces)}
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method,
            "path": path,
            "stage": "test",
            "requestId": str(uuid.uuid4()),
            "authorizer": authorizer,
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


def call(handler_module: Any, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = handler_module.lambda_handler(event, LambdaContext())
    body = response.get("body") or ""
    headers = {name.lower(): value for name, value in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers.setdefault(name.lower(), values[-1])
    return response["statusCode"], headers, json.loads(body) if body else None


class NoRunner:
    """A Runner that starts and stops nothing: for tests about records, not the state machine."""

    def __init__(self) -> None:
        self.started: list[tuple[str, RunInput]] = []

    def run_arn(self, run_id: str) -> str:
        return f"arn:aws:states:us-east-1:123456789012:execution:engine:{run_id}"

    def start(self, run_id: str, run_input: RunInput) -> None:
        self.started.append((run_id, run_input))

    def stop(self, run_arn: str, cause: str) -> None:
        return None

    def run_status(self, run_id: str) -> str | None:
        return "RUNNING" if any(started == run_id for started, _ in self.started) else None


# -- records through the store, as the engine writes them ----------------------------------------


def put_workflow(
    store: DynamoStore, workspace_id: str, workflow_id: str, actions: list[dict[str, Any]]
) -> Workflow:
    definition = WorkflowDefinition.model_validate({"name": "w", "actions": actions})
    return workflows.save_workflow(store.workflows, workspace_id, workflow_id, definition)[0]


def start(store: DynamoStore, workflow: Workflow, runner: NoRunner | None = None) -> ExecutionState:
    (execution, _), _ = lifecycle.start_execution(
        store.executions, store.statistics, runner or NoRunner(), workflow, {}
    )
    return execution


def begin_step(store: DynamoStore, workspace_id: str, execution_id: str, index: int) -> None:
    context = store.executions.get_step_context(workspace_id, execution_id, index)
    assert context is not None
    began = transitions.begin_step(
        context.execution, context.step, context.execution.current_run_id, clock.now()
    )
    assert store.executions.claim_step(began)


def complete_step(
    store: DynamoStore, workspace_id: str, execution_id: str, index: int, output: Any = None
) -> None:
    context = store.executions.get_step_context(workspace_id, execution_id, index)
    assert context is not None
    completed = transitions.complete_step(context.execution, context.step, output or {}, clock.now())
    assert store.executions.finish_step(completed)


def concurrently(call: Callable[[], T], times: int = 2) -> list[T]:
    """Runs `call` on `times` threads released together; returns the results."""
    barrier = threading.Barrier(times)
    results: list[T] = []

    def run() -> None:
        barrier.wait()
        results.append(call())

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
