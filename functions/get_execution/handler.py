"""GET execution: one strongly consistent Query; ETag = version; If-None-Match answers 304."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor import executions
from execution_monitor.api import api_handler, execution_response
from execution_monitor.models import ExecutionEnvelope
from execution_monitor.params import EXECUTION_ROUTE, ExecutionId, IfNoneMatch, WorkflowId, WorkspaceId
from execution_monitor.store import default_store

router = Router()


@router.get(
    EXECUTION_ROUTE,
    summary="Read an execution with its step results",
    responses={
        200: {"description": "The execution", "content": {"application/json": {"model": ExecutionEnvelope}}},
        304: {"description": "Not modified since the ETag given in If-None-Match"},
    },
)
def get_execution(
    workspaceId: WorkspaceId,
    workflowId: WorkflowId,
    executionId: ExecutionId,
    ifNoneMatch: IfNoneMatch = None,
) -> Response[Any]:
    execution = executions.get_execution(default_store(), workspaceId, workflowId, executionId)
    return execution_response(execution, ifNoneMatch)


lambda_handler = api_handler(router)
