"""The client on DESIGN.md's round-2 read routes: workflows and executions of a workspace, the retry
plan and an execution's events (test_client_openapi.py holds their routes and models to the served
document with the others)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from execution_monitor_client import Client, ConflictError, Execution
from tests.e2e.support import definition, delay_action, unique

pytestmark = pytest.mark.xdist_group("e2e")

DEADLINE_SECONDS = 60
QUICK = definition(delay_action("only", 0), name="quick")
UNREACHABLE = {"id": "call", "type": "http_request", "params": {"url": "http://127.0.0.1:1/"}}
FAILING = definition(delay_action("warm_up", 0), UNREACHABLE, delay_action("after", 0), name="failing")


@pytest.fixture
def workspace(token_for: Callable[..., str]) -> tuple[str, str]:
    workspace_id = unique("ws")
    return workspace_id, token_for([workspace_id])


@pytest.fixture
def client(base_url: str, workspace: tuple[str, str]) -> Iterator[Client]:
    with Client(base_url, token=workspace[1]) as direct:
        yield direct


def run_to_end(client: Client, workspace_id: str, workflow_id: str) -> Execution:
    started = client.start_execution(workspace_id, workflow_id)
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not (execution := client.get_execution(workspace_id, workflow_id, started.id)).is_terminal:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return execution


def test_given_workflows_then_the_workspace_lists_them_with_their_last_execution_status(
    client: Client, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    client.put_workflow(workspace_id, "never_run", QUICK)
    client.put_workflow(workspace_id, "ran", QUICK)
    ran = run_to_end(client, workspace_id, "ran")

    # The list learns an execution's status from the table's stream, a moment after the change.
    deadline = time.monotonic() + DEADLINE_SECONDS
    while (listed := {s.id: s for s in client.list_workflows(workspace_id, page_size=1)})[
        "ran"
    ].last_execution_status != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.2)

    assert set(listed) == {"never_run", "ran"}
    last = listed["ran"].last_execution
    assert last is not None and last.id == ran.id
    assert listed["never_run"].last_execution_status is None


def test_given_executions_of_several_workflows_then_the_workspace_lists_them_newest_first_by_status(
    client: Client, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    client.put_workflow(workspace_id, "first", QUICK)
    client.put_workflow(workspace_id, "second", FAILING)
    older = run_to_end(client, workspace_id, "first")
    newer = run_to_end(client, workspace_id, "second")

    everything = [execution.id for execution in client.list_workspace_executions(workspace_id, page_size=1)]
    failed = [execution.id for execution in client.list_workspace_executions(workspace_id, status="failed")]

    assert everything == [newer.id, older.id]
    assert failed == [newer.id]


def test_given_a_failed_execution_then_the_retry_plan_says_what_re_runs_and_a_completed_one_is_409(
    client: Client, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    client.put_workflow(workspace_id, "failing", FAILING)
    client.put_workflow(workspace_id, "quick", QUICK)
    failed = run_to_end(client, workspace_id, "failing")
    completed = run_to_end(client, workspace_id, "quick")

    step_plan = client.get_retry_plan(workspace_id, "failing", failed.id, "call")
    whole_plan = client.get_retry_plan(workspace_id, "failing", failed.id)

    assert step_plan.definition_version == whole_plan.definition_version == failed.workflow_version
    assert (step_plan.kind, whole_plan.kind) == ("step", "execution")
    assert [step.action_id for step in step_plan.rerun] == ["call", "after"]
    assert [step.action_id for step in step_plan.kept] == ["warm_up"]
    assert [step.action_id for step in whole_plan.rerun] == ["warm_up", "call", "after"]
    with pytest.raises(ConflictError):
        client.get_retry_plan(workspace_id, "quick", completed.id)


def test_given_a_finished_execution_then_its_events_are_listed(
    client: Client, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    client.put_workflow(workspace_id, "quick", QUICK)
    done = run_to_end(client, workspace_id, "quick")

    deadline = time.monotonic() + DEADLINE_SECONDS
    while not (events := client.list_execution_events(workspace_id, "quick", done.id)):
        assert time.monotonic() < deadline, "no event published for a completed execution"
        time.sleep(0.2)

    assert any("complete" in json.dumps(event.to_json()).lower() for event in events)


def test_given_the_round_2_routes_then_execmon_lists_plans_and_shows_events(
    client: Client, workspace: tuple[str, str], base_url: str
) -> None:
    workspace_id, token = workspace
    client.put_workflow(workspace_id, "failing", FAILING)
    failed = run_to_end(client, workspace_id, "failing")
    execmon = shutil.which("execmon", path=str(Path(sys.executable).parent))
    assert execmon
    env = {**os.environ, "EXECMON_URL": base_url, "EXECMON_TOKEN": token}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [execmon, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    workflows = run("workflows", workspace_id)
    executions = run("list", workspace_id, "--json")
    plan = run("retry-plan", workspace_id, "failing", failed.id, "call", "--json")
    events = run("events", workspace_id, "failing", failed.id, "--json")

    assert workflows.returncode == 0 and workflows.stdout.startswith("failing v1 "), workflows.stderr
    assert [json.loads(line)["id"] for line in executions.stdout.splitlines()] == [failed.id]
    assert plan.returncode == 0 and json.loads(plan.stdout), plan.stderr
    assert events.returncode == 0 and all(json.loads(line) for line in events.stdout.splitlines()), (
        events.stderr
    )


def test_given_webhooks_then_the_secret_is_answered_once_and_again_only_when_rotated(
    client: Client, workspace: tuple[str, str]
) -> None:
    workspace_id, _ = workspace
    hooked = {**QUICK, "webhooks": [{"url": "http://127.0.0.1:9/runs"}]}

    created = client.put_workflow(workspace_id, "hooked", hooked)
    saved_again = client.put_workflow(workspace_id, "hooked", hooked)
    rotated = client.put_workflow(workspace_id, "hooked", hooked, rotate_webhook_secret=True)

    assert created.webhook_secret and created.webhook_secret.startswith("whsec_")
    assert saved_again.webhook_secret is None
    assert rotated.webhook_secret and rotated.webhook_secret != created.webhook_secret
    assert [hook.url for hook in rotated.webhooks] == ["http://127.0.0.1:9/runs"]
    assert set(rotated.webhooks[0].events) == {
        "execution.completed",
        "execution.failed",
        "execution.cancelled",
        "step.failed",
        "execution.stalled",
    }
