"""Demo data for `make dev`: workspace `demo`, workflow `wf_demo`, and the queue it sends to.

Written through the same domain code as PUT workflow (validation included), so a seed that no
longer matches the contract fails at startup instead of serving stale examples.
"""

from __future__ import annotations

from typing import Any

from execution_monitor.aws import client
from execution_monitor.domain.workflow import Workflow
from execution_monitor.models import WorkflowDefinition
from execution_monitor.store import default_store
from execution_monitor.workflows import save_workflow

DEMO_WORKSPACE = "demo"
DEMO_WORKFLOW = "wf_demo"
DEMO_QUEUE = "demo-queue"


def demo_definition(queue_url: str, gateway_url: str) -> dict[str, Any]:
    return {
        "name": "Demo: wait, call an API, send a message",
        "description": "Seeded by make dev.",
        "actions": [
            {"id": "wait", "type": "delay", "name": "Wait two seconds", "params": {"seconds": 2}},
            {
                "id": "check_health",
                "type": "http_request",
                "name": "Call the local gateway",
                # Loopback is allowed locally (HTTP_ACTION_ALLOWED_NETWORKS=127.0.0.0/8).
                "params": {"url": f"{gateway_url}/health", "method": "GET", "expectedStatus": [200]},
            },
            {
                "id": "notify",
                "type": "send_message",
                "name": "Send a message",
                "params": {
                    "queueUrl": queue_url,
                    "message": {
                        "workflow": DEMO_WORKFLOW,
                        "health": "{{steps.check_health.output.body.status}}",
                    },
                },
            },
        ],
    }


def seed(gateway_url: str) -> Workflow:
    queue_url: str = client("sqs").create_queue(QueueName=DEMO_QUEUE)["QueueUrl"]
    definition = WorkflowDefinition.model_validate(demo_definition(queue_url, gateway_url))
    workflow, _ = save_workflow(default_store().workflows, DEMO_WORKSPACE, DEMO_WORKFLOW, definition)
    return workflow
