"""The paths a user takes, end to end: against `make dev`, or a deployed stack (`make smoke` with
E2E_BASE_URL, E2E_TOKEN and E2E_WORKSPACE; docs/DEPLOY.md).

Only what works anywhere: delays, and a call to a `.invalid` host (never resolvable, RFC 2606) as
the step that fails, so nothing outside is ever called. Each test re-puts its own fixed workflow
(there is no delete route), so repeated runs leave one workflow per test and their executions.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.support import definition, delay_action, poll, read_all, terminal, workflow_path

pytestmark = [pytest.mark.smoke, pytest.mark.xdist_group("e2e")]

# Against AWS: cold starts, Step Functions and the stream add seconds; this only ends a hung test.
GIVE_UP_AFTER_SECONDS = 180
FAILING_CALL = {
    "id": "call",
    "type": "http_request",
    "params": {"url": "https://smoke-check.invalid/"},
    "retry": {"maxAttempts": 1},
}

Workspace = tuple[str, dict[str, str]]


def _put(http: httpx.Client, workspace: Workspace, workflow_id: str, *actions: dict[str, Any]) -> str:
    workspace_id, headers = workspace
    path = workflow_path(workspace_id, workflow_id)
    response = http.put(path, json=definition(*actions, name=f"smoke test {workflow_id}"), headers=headers)
    assert response.status_code == 200, response.text
    return path


def _start(http: httpx.Client, workspace: Workspace, path: str) -> str:
    response = http.post(f"{path}/executions", json={"input": {"smoke": True}}, headers=workspace[1])
    assert response.status_code == 202, response.text
    return f"{path}/executions/{response.json()['execution']['id']}"


def _until(http: httpx.Client, workspace: Workspace, url: str, done: Any) -> Any:
    return poll(http, url, workspace[1], done, give_up_after=GIVE_UP_AFTER_SECONDS)


def test_given_a_workflow_of_delays_when_started_and_polled_then_it_completes_and_an_unchanged_poll_is_a_304(
    http: httpx.Client, smoke_workspace: Workspace
) -> None:
    path = _put(http, smoke_workspace, "smoke-complete", delay_action("first", 1), delay_action("second", 1))
    url = _start(http, smoke_workspace, path)
    headers = smoke_workspace[1]
    started_tag = http.get(url, headers=headers).headers["etag"]

    done = _until(http, smoke_workspace, url, terminal)

    assert done["status"] == "completed"
    assert [step["status"] for step in done["actionResults"]] == ["completed", "completed"]
    final = http.get(url, headers=headers)
    assert final.headers["etag"] != started_tag  # every change bumps the version
    unchanged = http.get(url, headers={**headers, "If-None-Match": final.headers["etag"]})
    assert unchanged.status_code == 304


def test_given_a_running_execution_when_followed_over_sse_then_a_snapshot_updates_and_the_end_arrive(
    http: httpx.Client, smoke_workspace: Workspace
) -> None:
    path = _put(http, smoke_workspace, "smoke-live", delay_action("first", 1), delay_action("second", 1))
    url = _start(http, smoke_workspace, path)
    token = smoke_workspace[1]["Authorization"].split()[1]

    events = read_all(http, f"{url}/stream", params={"access_token": token}, timeout=GIVE_UP_AFTER_SECONDS)

    kinds = [event.event for event in events]
    assert kinds[0] == "snapshot"
    assert kinds[-1] == "end"
    assert set(kinds[1:-1]) <= {"update"}
    assert json.loads(events[-1].data)["status"] == "completed"


def test_given_a_long_delay_when_cancelled_then_the_execution_is_cancelled_at_once(
    http: httpx.Client, smoke_workspace: Workspace
) -> None:
    path = _put(http, smoke_workspace, "smoke-cancel", delay_action("long_wait", 300))
    url = _start(http, smoke_workspace, path)
    _until(http, smoke_workspace, url, lambda execution: execution["actionResults"][0]["status"] == "running")

    cancelled = http.post(f"{url}/cancel", headers=smoke_workspace[1])

    assert cancelled.status_code == 200
    execution = cancelled.json()["execution"]
    assert execution["status"] == "cancelled"
    assert execution["actionResults"][0]["status"] == "cancelled"
    assert _until(http, smoke_workspace, url, terminal)["status"] == "cancelled"


def test_given_a_failed_step_when_retried_then_only_that_step_runs_again(
    http: httpx.Client, smoke_workspace: Workspace
) -> None:
    path = _put(http, smoke_workspace, "smoke-retry-step", delay_action("warm_up", 0), FAILING_CALL)
    url = _start(http, smoke_workspace, path)
    failed = _until(http, smoke_workspace, url, terminal)
    assert failed["status"] == "failed"
    assert [step["status"] for step in failed["actionResults"]] == ["completed", "failed"]

    retried = http.post(f"{url}/retry-step", json={"actionId": "call"}, headers=smoke_workspace[1])

    assert retried.status_code == 202
    again = _until(
        http,
        smoke_workspace,
        url,
        lambda execution: terminal(execution) and execution["actionResults"][1]["attempt"] == 2,
    )
    assert again["status"] == "failed"  # the host still does not resolve
    assert [step["attempt"] for step in again["actionResults"]] == [1, 2]
