"""POST executions: snapshot the definition, record every step pending, start a run. 202."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from execution_monitor import paths, workflows
from execution_monitor.api import api_handler, documented, json_response
from execution_monitor.engine import lifecycle
from execution_monitor.engine.runner import default_runner
from execution_monitor.models import ExecutionEnvelope, StartExecutionRequest
from execution_monitor.params import IdempotencyKey, WorkflowId, WorkspaceId
from execution_monitor.settings import EngineSettings, TableSettings
from execution_monitor.store import default_store
from execution_monitor.views import execution_view

router = Router()


@router.post(
    paths.resolver_path(paths.EXECUTIONS),
    summary="Start an execution",
    status_code=202,
    responses=documented(202, ExecutionEnvelope, 409),
)
def start_execution(
    workspaceId: WorkspaceId,
    workflowId: WorkflowId,
    request: Annotated[StartExecutionRequest | None, Body()] = None,
    idempotencyKey: IdempotencyKey = None,
) -> Response[ExecutionEnvelope]:
    store = default_store()
    workflow = workflows.get_workflow(store.workflows, workspaceId, workflowId)
    (execution, steps), _ = lifecycle.start_execution(
        store.executions,
        store.statistics,
        default_runner(),
        workflow,
        request.input if request else {},
        idempotencyKey,
    )
    return json_response(202, ExecutionEnvelope(execution=execution_view(execution, steps)))


lambda_handler = api_handler(router, settings=(TableSettings, EngineSettings))
