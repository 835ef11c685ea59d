"""POST retry-step: resume from one failed step; earlier results are kept and not run again. 202."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from execution_monitor import paths
from execution_monitor.api import api_handler, documented, json_response
from execution_monitor.engine import lifecycle
from execution_monitor.engine.runner import default_runner
from execution_monitor.models import ExecutionEnvelope, RetryStepRequest
from execution_monitor.params import ExecutionId, WorkflowId, WorkspaceId
from execution_monitor.settings import EngineSettings, TableSettings
from execution_monitor.store import default_store
from execution_monitor.views import execution_view

router = Router()


@router.post(
    paths.resolver_path(paths.RETRY_STEP),
    summary="Retry one failed step, then the steps after it",
    status_code=202,
    responses=documented(202, ExecutionEnvelope, 409),
)
def retry_step(
    workspaceId: WorkspaceId,
    workflowId: WorkflowId,
    executionId: ExecutionId,
    request: Annotated[RetryStepRequest, Body()],
) -> Response[ExecutionEnvelope]:
    execution, steps = lifecycle.retry_step(
        default_store().executions, default_runner(), workspaceId, workflowId, executionId, request.action_id
    )
    return json_response(202, ExecutionEnvelope(execution=execution_view(execution, steps)))


lambda_handler = api_handler(router, settings=(TableSettings, EngineSettings))
