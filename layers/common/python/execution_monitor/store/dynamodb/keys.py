"""Single-table key layout. Every key starts with the workspace, so no query can cross tenants.

workflow            pk=WS#<ws>#WF#<wf>        sk=WORKFLOW
execution header    pk=WS#<ws>#EXEC#<id>      sk=EXEC         gsi1: newest first per workflow
                                                              gsi2: newest first per workflow+status
step                pk=WS#<ws>#EXEC#<id>      sk=STEP#<0000>  (header and steps: one Query)
idempotency claim   pk=WS#<ws>#IDEM#<wf>#<key> sk=IDEM
step statistics     pk=WS#<ws>#WF#<wf>        sk=STATS#<actionId>

docs/data-model.md describes every item type, its attributes and who writes it.
"""

from __future__ import annotations

WORKFLOW_SK = "WORKFLOW"
EXECUTION_SK = "EXEC"
STEP_SK_PREFIX = "STEP#"
IDEMPOTENCY_SK = "IDEM"
BY_WORKFLOW_INDEX = "gsi1"
BY_STATUS_INDEX = "gsi2"

ITEM_WORKFLOW = "workflow"
ITEM_EXECUTION = "execution"
ITEM_STEP = "step"
ITEM_IDEMPOTENCY = "idempotency"
ITEM_STEP_STATS = "step_stats"


def workflow_pk(workspace_id: str, workflow_id: str) -> str:
    return f"WS#{workspace_id}#WF#{workflow_id}"


def execution_pk(workspace_id: str, execution_id: str) -> str:
    return f"WS#{workspace_id}#EXEC#{execution_id}"


def step_sk(index: int) -> str:
    return f"{STEP_SK_PREFIX}{index:04d}"


LAST_STEP_SK = step_sk(9999)  # zero-padded to 4 digits: past the last of at most 1000 steps


def by_workflow_pk(workspace_id: str, workflow_id: str) -> str:
    return f"WS#{workspace_id}#WF#{workflow_id}"


def by_status_pk(workspace_id: str, workflow_id: str, status: str) -> str:
    return f"WS#{workspace_id}#WF#{workflow_id}#ST#{status}"


def newest_first_sk(started_at: str, execution_id: str) -> str:
    return f"{started_at}#{execution_id}"


def idempotency_pk(workspace_id: str, workflow_id: str, key: str) -> str:
    return f"WS#{workspace_id}#IDEM#{workflow_id}#{key}"
