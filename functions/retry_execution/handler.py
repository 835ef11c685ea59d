"""POST retry: a new execution with the same input and definition, linked both ways. 201."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor.api import api_handler, json_response
from execution_monitor.engine import lifecycle
from execution_monitor.engine.runner import default_runner
from execution_monitor.models import ExecutionEnvelope
from execution_monitor.params import EXECUTION_ROUTE, ExecutionId, WorkflowId, WorkspaceId
from execution_monitor.store import default_store

router = Router()


@router.post(f"{EXECUTION_ROUTE}/retry", summary="Retry a failed or cancelled execution", status_code=201)
def retry_execution(
    workspaceId: WorkspaceId, workflowId: WorkflowId, executionId: ExecutionId
) -> Response[ExecutionEnvelope]:
    execution = lifecycle.retry_execution(
        default_store(), default_runner(), workspaceId, workflowId, executionId
    )
    return json_response(201, ExecutionEnvelope(execution=execution))


lambda_handler = api_handler(router)
