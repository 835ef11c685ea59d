"""POST cancel: the record turns cancelled first (conditionally), then the run is stopped."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor import paths
from execution_monitor.api import api_handler, documented, json_response
from execution_monitor.engine import lifecycle
from execution_monitor.engine.runner import default_runner
from execution_monitor.models import ExecutionEnvelope
from execution_monitor.params import ExecutionId, WorkflowId, WorkspaceId
from execution_monitor.settings import EngineSettings, TableSettings
from execution_monitor.store import default_store
from execution_monitor.views import execution_view

router = Router()


@router.post(
    paths.resolver_path(paths.CANCEL),
    summary="Cancel an execution (repeating it is harmless)",
    responses=documented(200, ExecutionEnvelope, 409),
)
def cancel_execution(
    workspaceId: WorkspaceId, workflowId: WorkflowId, executionId: ExecutionId
) -> Response[ExecutionEnvelope]:
    execution, steps = lifecycle.cancel_execution(
        default_store().executions, default_runner(), workspaceId, workflowId, executionId
    )
    return json_response(200, ExecutionEnvelope(execution=execution_view(execution, steps)))


lambda_handler = api_handler(router, settings=(TableSettings, EngineSettings))
