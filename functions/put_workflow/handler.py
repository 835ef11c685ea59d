"""PUT workflow: create or replace a definition; its version increments. The first PUT with webhooks
(or one with ?rotateWebhookSecret=true) answers the webhook secret, once."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from execution_monitor import paths, workflows
from execution_monitor.api import api_handler, documented, json_response
from execution_monitor.models import PutWorkflowResponse, WorkflowDefinition
from execution_monitor.params import RotateWebhookSecret, WorkflowId, WorkspaceId
from execution_monitor.settings import ActionSettings, TableSettings
from execution_monitor.store import default_store
from execution_monitor.views import workflow_view

router = Router()


@router.put(
    paths.resolver_path(paths.WORKFLOW),
    summary="Create or replace a workflow definition",
    responses=documented(200, PutWorkflowResponse),
)
def put_workflow(
    workspaceId: WorkspaceId,
    workflowId: WorkflowId,
    definition: Annotated[WorkflowDefinition, Body()],
    rotateWebhookSecret: RotateWebhookSecret = False,
) -> Response[PutWorkflowResponse]:
    workflow, secret = workflows.save_workflow(
        default_store().workflows, workspaceId, workflowId, definition, rotate_secret=rotateWebhookSecret
    )
    return json_response(200, PutWorkflowResponse(workflow=workflow_view(workflow), webhook_secret=secret))


lambda_handler = api_handler(router, settings=(TableSettings, ActionSettings))
