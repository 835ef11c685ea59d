"""Single-table key layout. Every key starts with the workspace, so no query can cross tenants.

workflow            pk=WS#<ws>#WF#<wf>        sk=WORKFLOW     gsi3: a workspace's workflows by id
execution header    pk=WS#<ws>#EXEC#<id>      sk=EXEC         gsi1: newest first per workflow
                                                              gsi2: newest first per workflow+status
                                                              gsi3: newest first per workspace
                                                              gsi4: newest first per workspace+status
                                                              gsi5: when the sweep should look at it
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
BY_WORKSPACE_INDEX = "gsi3"
BY_WORKSPACE_STATUS_INDEX = "gsi4"
SWEEP_INDEX = "gsi5"
# The sweep index is spread over a few partitions so that step transitions across every tenant
# never concentrate on one; the sweep queries each.
SWEEP_SHARDS = 8

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


def workspace_workflows_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}#WORKFLOWS"


def workspace_executions_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}#EXECUTIONS"


def workspace_status_pk(workspace_id: str, status: str) -> str:
    return f"WS#{workspace_id}#EXECUTIONS#ST#{status}"


def sweep_pk(execution_id: str) -> str:
    return f"SWEEP#{sum(execution_id.encode()) % SWEEP_SHARDS}"


def all_sweep_pks() -> list[str]:
    return [f"SWEEP#{shard}" for shard in range(SWEEP_SHARDS)]


def sweep_sk(check_at: str, workspace_id: str, execution_id: str) -> str:
    return f"{check_at}#{workspace_id}#{execution_id}"
