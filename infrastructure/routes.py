"""Every API route as plain data. The CDK API construct and the local gateway both read this table;
the paths themselves are the layer's (execution_monitor.paths), which the handlers serve."""

from __future__ import annotations

from dataclasses import dataclass

from execution_monitor import paths

API_PREFIX = paths.API_PREFIX


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource form: /a/{param}/b
    function: str  # the folder under functions/ holding handler.py
    authorized: bool = True
    streaming: bool = False  # response streaming (SSE) through the Lambda Web Adapter


ROUTES: tuple[Route, ...] = (
    Route("GET", paths.OPENAPI, "get_openapi", authorized=False),
    Route("GET", paths.WORKFLOWS, "list_workflows"),
    Route("GET", paths.WORKSPACE_EXECUTIONS, "list_workspace_executions"),
    Route("PUT", paths.WORKFLOW, "put_workflow"),
    Route("GET", paths.WORKFLOW, "get_workflow"),
    Route("GET", paths.EXECUTIONS, "list_executions"),
    Route("POST", paths.EXECUTIONS, "start_execution"),
    Route("GET", paths.EXECUTION, "get_execution"),
    Route("GET", paths.STREAM, "stream_execution", streaming=True),
    Route("POST", paths.CANCEL, "cancel_execution"),
    Route("POST", paths.RETRY, "retry_execution"),
    Route("POST", paths.RETRY_STEP, "retry_step"),
    Route("GET", paths.RETRY_PLAN, "get_retry_plan"),
    Route("GET", paths.EVENTS, "list_execution_events"),
)

AUTHORIZER_FUNCTION = "authorize"
# Functions that no route calls: the engine's task and the run reconciler.
ENGINE_FUNCTION = "run_action"
RECONCILER_FUNCTION = "reconcile_execution"
STREAM_FUNCTION = "process_stream"
SWEEP_FUNCTION = "sweep_executions"
WEBHOOK_FUNCTION = "deliver_webhook"
