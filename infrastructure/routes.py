"""Every API route as plain data. The CDK API construct and the local gateway both read this table."""

from __future__ import annotations

from dataclasses import dataclass

API_PREFIX = "/api"
WORKFLOW_PATH = "/api/workspaces/{workspaceId}/workflows/{workflowId}"
EXECUTIONS_PATH = f"{WORKFLOW_PATH}/executions"
EXECUTION_PATH = f"{EXECUTIONS_PATH}/{{executionId}}"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource form: /a/{param}/b
    function: str  # the folder under functions/ holding handler.py
    authorized: bool = True
    streaming: bool = False  # response streaming (SSE) through the Lambda Web Adapter


ROUTES: tuple[Route, ...] = (
    Route("GET", f"{API_PREFIX}/openapi.json", "get_openapi", authorized=False),
    Route("PUT", WORKFLOW_PATH, "put_workflow"),
    Route("GET", WORKFLOW_PATH, "get_workflow"),
    Route("GET", EXECUTIONS_PATH, "list_executions"),
    Route("POST", EXECUTIONS_PATH, "start_execution"),
    Route("GET", EXECUTION_PATH, "get_execution"),
    Route("GET", f"{EXECUTION_PATH}/stream", "stream_execution", streaming=True),
    Route("POST", f"{EXECUTION_PATH}/cancel", "cancel_execution"),
    Route("POST", f"{EXECUTION_PATH}/retry", "retry_execution"),
    Route("POST", f"{EXECUTION_PATH}/retry-step", "retry_step"),
)

AUTHORIZER_FUNCTION = "authorize"
# Functions that no route calls: the engine's task and the run reconciler.
ENGINE_FUNCTION = "run_action"
RECONCILER_FUNCTION = "reconcile_execution"
PROGRESS_FUNCTION = "update_progress"
