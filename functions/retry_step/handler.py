"""POST retry-step: resume from one failed step; earlier results are kept and not run again. 202."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from execution_monitor.api import api_handler, json_response
from execution_monitor.engine import lifecycle
from execution_monitor.engine.runner import default_runner
from execution_monitor.models import ExecutionEnvelope, RetryStepRequest
from execution_monitor.params import EXECUTION_ROUTE, ExecutionId, WorkflowId, WorkspaceId
from execution_monitor.store import default_store

router = Router()


@router.post(f"{EXECUTION_ROUTE}/retry-step", summary="Retry one failed step, then the steps after it")
def retry_step(
    workspaceId: WorkspaceId,
    workflowId: WorkflowId,
    executionId: ExecutionId,
    request: Annotated[RetryStepRequest, Body()],
) -> Response[ExecutionEnvelope]:
    execution = lifecycle.retry_step(
        default_store(), default_runner(), workspaceId, workflowId, executionId, request.action_id
    )
    return json_response(202, ExecutionEnvelope(execution=execution))


lambda_handler = api_handler(router)
