"""POST executions: snapshot the definition, record every step pending, start a run. 202."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from execution_monitor import workflows
from execution_monitor.api import api_handler, json_response
from execution_monitor.engine import lifecycle
from execution_monitor.engine.runner import default_runner
from execution_monitor.models import ExecutionEnvelope, StartExecutionRequest
from execution_monitor.params import EXECUTIONS_ROUTE, IdempotencyKey, WorkflowId, WorkspaceId
from execution_monitor.store import default_store

router = Router()


@router.post(EXECUTIONS_ROUTE, summary="Start an execution", status_code=202)
def start_execution(
    workspaceId: WorkspaceId,
    workflowId: WorkflowId,
    request: Annotated[StartExecutionRequest | None, Body()] = None,
    idempotencyKey: IdempotencyKey = None,
) -> Response[ExecutionEnvelope]:
    store = default_store()
    workflow = workflows.get_workflow(store, workspaceId, workflowId)
    execution_input = request.input if request else {}
    execution, _ = lifecycle.start_execution(
        store, default_runner(), workflow, execution_input, idempotencyKey
    )
    return json_response(202, ExecutionEnvelope(execution=execution))


lambda_handler = api_handler(router)
