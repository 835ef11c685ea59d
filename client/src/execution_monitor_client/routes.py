"""Every API route as data, and each operation as a `Call`: the request to send and how to read
the answer. The sync and async clients only send Calls, so both speak the same API by
construction, and a test checks this table against the OpenAPI document the API serves."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from execution_monitor_client.errors import ApiError, UnexpectedResponse
from execution_monitor_client.models import (
    Execution,
    ExecutionEvent,
    Model,
    Page,
    RetryPlan,
    Workflow,
    WorkflowSummary,
)

T = TypeVar("T")
M = TypeVar("M", bound=Model)

WORKSPACE = "/api/workspaces/{workspaceId}"
WORKFLOW = f"{WORKSPACE}/workflows/{{workflowId}}"
EXECUTIONS = f"{WORKFLOW}/executions"
EXECUTION = f"{EXECUTIONS}/{{executionId}}"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # OpenAPI form: /api/workspaces/{workspaceId}/...
    success: int
    query: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    body: str | None = None  # the OpenAPI schema of the request body
    result: str | None = None  # the key of the success body ({"execution": ...}, {"executions": [...]})
    model: type[Model] | None = None  # what the result holds
    listed: bool = False  # the result is a list, with "nextCursor" when paged

    def url(self, **path_params: str) -> str:
        return self.path.format(**{name: quote(value, safe="") for name, value in path_params.items()})


PUT_WORKFLOW = Route(
    "PUT",
    WORKFLOW,
    200,
    query=("rotateWebhookSecret",),
    body="WorkflowDefinition",
    result="workflow",
    model=Workflow,
)
GET_WORKFLOW = Route("GET", WORKFLOW, 200, result="workflow", model=Workflow)
START_EXECUTION = Route(
    "POST",
    EXECUTIONS,
    202,
    headers=("idempotency-key",),
    body="StartExecutionRequest",
    result="execution",
    model=Execution,
)
LIST_EXECUTIONS = Route(
    "GET",
    EXECUTIONS,
    200,
    query=("limit", "status", "cursor"),
    result="executions",
    model=Execution,
    listed=True,
)
GET_EXECUTION = Route("GET", EXECUTION, 200, headers=("if-none-match",), result="execution", model=Execution)
STREAM_EXECUTION = Route(
    "GET", f"{EXECUTION}/stream", 200, query=("access_token",), headers=("last-event-id",)
)
CANCEL_EXECUTION = Route("POST", f"{EXECUTION}/cancel", 200, result="execution", model=Execution)
RETRY_EXECUTION = Route("POST", f"{EXECUTION}/retry", 201, result="execution", model=Execution)
RETRY_STEP = Route(
    "POST", f"{EXECUTION}/retry-step", 202, body="RetryStepRequest", result="execution", model=Execution
)
# Round-2 read routes (DESIGN.md "More read routes").
LIST_WORKFLOWS = Route(
    "GET",
    f"{WORKSPACE}/workflows",
    200,
    query=("limit", "cursor"),
    result="workflows",
    model=WorkflowSummary,
    listed=True,
)
LIST_WORKSPACE_EXECUTIONS = Route(
    "GET",
    f"{WORKSPACE}/executions",
    200,
    query=("status", "limit", "cursor"),
    result="executions",
    model=Execution,
    listed=True,
)
GET_RETRY_PLAN = Route(
    "GET", f"{EXECUTION}/retry-plan", 200, query=("actionId",), result="plan", model=RetryPlan
)
LIST_EXECUTION_EVENTS = Route(
    "GET", f"{EXECUTION}/events", 200, result="events", model=ExecutionEvent, listed=True
)
OPENAPI = Route("GET", "/api/openapi.json", 200)

ROUTES: tuple[Route, ...] = (
    PUT_WORKFLOW,
    GET_WORKFLOW,
    START_EXECUTION,
    LIST_EXECUTIONS,
    GET_EXECUTION,
    STREAM_EXECUTION,
    CANCEL_EXECUTION,
    RETRY_EXECUTION,
    RETRY_STEP,
    LIST_WORKFLOWS,
    LIST_WORKSPACE_EXECUTIONS,
    GET_RETRY_PLAN,
    LIST_EXECUTION_EVENTS,
    OPENAPI,
)


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the reading of its answer, independent of sync or async sending."""

    route: Route
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    also_fine: tuple[int, ...] = ()  # statuses besides route.success that are answers, not errors

    def result(self, response: httpx.Response) -> T:
        if response.status_code != self.route.success and response.status_code not in self.also_fine:
            raise ApiError.from_response(response)
        return self.parse(response)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as error:
        raise UnexpectedResponse(
            f"{response.request.method} {response.request.url.path}: HTTP {response.status_code} "
            f"with a body that is not JSON"
        ) from error


def _read(model: type[M], data: Any, where: httpx.Response) -> M:
    try:
        return model.from_json(data)
    except (TypeError, ValueError, KeyError) as error:
        raise UnexpectedResponse(f"{where.request.method} {where.request.url.path}: {error}") from error


def _result_of(route: Route) -> tuple[type[Model], str]:
    if route.model is None or route.result is None:
        raise ValueError(f"{route.method} {route.path} declares no result")
    return route.model, route.result


def _one(route: Route) -> Callable[[httpx.Response], Any]:
    model, key = _result_of(route)

    def parse(response: httpx.Response) -> Any:
        body = _body(response)
        return _read(model, body.get(key) if isinstance(body, dict) else None, response)

    return parse


def _page(route: Route) -> Callable[[httpx.Response], Page[Any]]:
    model, key = _result_of(route)

    def parse(response: httpx.Response) -> Page[Any]:
        body = _body(response)
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise UnexpectedResponse(f"{response.request.url.path}: no '{key}' list in the answer")
        return Page([_read(model, item, response) for item in items], body.get("nextCursor"))

    return parse


def _query(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


# -- operations ----------------------------------------------------------------------------------


def put_workflow(
    workspace_id: str, workflow_id: str, definition: Mapping[str, Any], rotate_webhook_secret: bool
) -> Call[Workflow]:
    path = PUT_WORKFLOW.url(workspaceId=workspace_id, workflowId=workflow_id)
    read_workflow = _one(PUT_WORKFLOW)

    def parse(response: httpx.Response) -> Workflow:
        secret = _body(response).get("webhookSecret")
        return dataclasses.replace(read_workflow(response), webhook_secret=secret)

    params = {"rotateWebhookSecret": "true"} if rotate_webhook_secret else {}
    return Call(PUT_WORKFLOW, path, parse, params=params, json=dict(definition))


def get_workflow(workspace_id: str, workflow_id: str) -> Call[Workflow]:
    path = GET_WORKFLOW.url(workspaceId=workspace_id, workflowId=workflow_id)
    return Call(GET_WORKFLOW, path, _one(GET_WORKFLOW))


def list_workflows(workspace_id: str, limit: int, cursor: str | None) -> Call[Page[WorkflowSummary]]:
    path = LIST_WORKFLOWS.url(workspaceId=workspace_id)
    return Call(LIST_WORKFLOWS, path, _page(LIST_WORKFLOWS), params=_query(limit=limit, cursor=cursor))


def start_execution(
    workspace_id: str, workflow_id: str, input: Mapping[str, Any] | None, idempotency_key: str | None
) -> Call[Execution]:
    path = START_EXECUTION.url(workspaceId=workspace_id, workflowId=workflow_id)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    return Call(
        START_EXECUTION, path, _one(START_EXECUTION), headers=headers, json={"input": dict(input or {})}
    )


def list_executions(
    workspace_id: str, workflow_id: str, status: str | None, limit: int, cursor: str | None
) -> Call[Page[Execution]]:
    path = LIST_EXECUTIONS.url(workspaceId=workspace_id, workflowId=workflow_id)
    params = _query(limit=limit, status=status, cursor=cursor)
    return Call(LIST_EXECUTIONS, path, _page(LIST_EXECUTIONS), params=params)


def list_workspace_executions(
    workspace_id: str, status: str | None, limit: int, cursor: str | None
) -> Call[Page[Execution]]:
    path = LIST_WORKSPACE_EXECUTIONS.url(workspaceId=workspace_id)
    params = _query(limit=limit, status=status, cursor=cursor)
    return Call(LIST_WORKSPACE_EXECUTIONS, path, _page(LIST_WORKSPACE_EXECUTIONS), params=params)


def execution_path(route: Route, workspace_id: str, workflow_id: str, execution_id: str) -> str:
    return route.url(workspaceId=workspace_id, workflowId=workflow_id, executionId=execution_id)


def get_execution(
    workspace_id: str, workflow_id: str, execution_id: str, if_none_match: str | None = None
) -> Call[Execution | None]:
    """The execution, or None when If-None-Match still matches (304: nothing to read)."""
    read = _one(GET_EXECUTION)

    def parse(response: httpx.Response) -> Execution | None:
        return None if response.status_code == 304 else read(response)

    return Call(
        GET_EXECUTION,
        execution_path(GET_EXECUTION, workspace_id, workflow_id, execution_id),
        parse,
        headers={"If-None-Match": if_none_match} if if_none_match else {},
        also_fine=(304,),
    )


def _execution_command(
    route: Route, workspace_id: str, workflow_id: str, execution_id: str, body: Any = None
) -> Call[Execution]:
    path = execution_path(route, workspace_id, workflow_id, execution_id)
    return Call(route, path, _one(route), json=body)


def cancel_execution(workspace_id: str, workflow_id: str, execution_id: str) -> Call[Execution]:
    return _execution_command(CANCEL_EXECUTION, workspace_id, workflow_id, execution_id)


def retry_execution(workspace_id: str, workflow_id: str, execution_id: str) -> Call[Execution]:
    return _execution_command(RETRY_EXECUTION, workspace_id, workflow_id, execution_id)


def retry_step(workspace_id: str, workflow_id: str, execution_id: str, action_id: str) -> Call[Execution]:
    body = {"actionId": action_id}
    return _execution_command(RETRY_STEP, workspace_id, workflow_id, execution_id, body)


def get_retry_plan(
    workspace_id: str, workflow_id: str, execution_id: str, action_id: str | None
) -> Call[RetryPlan]:
    path = execution_path(GET_RETRY_PLAN, workspace_id, workflow_id, execution_id)
    return Call(GET_RETRY_PLAN, path, _one(GET_RETRY_PLAN), params=_query(actionId=action_id))


def list_execution_events(
    workspace_id: str, workflow_id: str, execution_id: str
) -> Call[list[ExecutionEvent]]:
    read = _page(LIST_EXECUTION_EVENTS)

    def parse(response: httpx.Response) -> list[ExecutionEvent]:
        return read(response).items

    path = execution_path(LIST_EXECUTION_EVENTS, workspace_id, workflow_id, execution_id)
    return Call(LIST_EXECUTION_EVENTS, path, parse)


def openapi() -> Call[dict[str, Any]]:
    def parse(response: httpx.Response) -> dict[str, Any]:
        document = _body(response)
        if not isinstance(document, dict):
            raise UnexpectedResponse("the OpenAPI document is not a JSON object")
        return document

    return Call(OPENAPI, OPENAPI.path, parse)
