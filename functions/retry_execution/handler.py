"""POST retry: a new execution with the same input and definition, linked both ways. 201."""

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
    paths.resolver_path(paths.RETRY),
    summary="Retry a failed or cancelled execution",
    status_code=201,
    responses=documented(201, ExecutionEnvelope, 409),
)
def retry_execution(
    workspaceId: WorkspaceId, workflowId: WorkflowId, executionId: ExecutionId
) -> Response[ExecutionEnvelope]:
    store = default_store()
    execution, steps = lifecycle.retry_execution(
        store.executions, store.statistics, default_runner(), workspaceId, workflowId, executionId
    )
    return json_response(201, ExecutionEnvelope(execution=execution_view(execution, steps)))


lambda_handler = api_handler(router, settings=(TableSettings, EngineSettings))
