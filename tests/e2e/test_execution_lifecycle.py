"""Steering executions over real HTTP against `make dev`: fail then retry-step, retry, cancel."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.support import definition, delay_action, poll, terminal, workflow_path
from tests.integration.loopback import Loopback

pytestmark = pytest.mark.xdist_group("e2e")


def test_given_a_failed_step_when_retried_then_the_execution_completes_without_rerunning_earlier_steps(
    http: httpx.Client, workspace: tuple[str, dict[str, str]], server: Loopback
) -> None:
    workspace_id, headers = workspace
    server.statuses = [200, 500]  # /first succeeds, /flaky fails once
    path = workflow_path(workspace_id, "pipeline")
    body = definition(
        {"id": "first", "type": "http_request", "params": {"url": f"{server.url}/first"}},
        {"id": "flaky", "type": "http_request", "params": {"url": f"{server.url}/flaky"}},
        delay_action("cool_down", 0),
    )
    assert http.put(path, json=body, headers=headers).status_code == 200
    execution_id = http.post(f"{path}/executions", headers=headers).json()["execution"]["id"]
    url = f"{path}/executions/{execution_id}"
    failed = poll(http, url, headers, terminal)
    assert failed["status"] == "failed"
    assert failed["error"] == "flaky: GET 127.0.0.1 answered HTTP 500 (expected 2xx)"
    assert [step["status"] for step in failed["actionResults"]] == ["completed", "failed", "skipped"]
    assert http.post(f"{url}/retry-step", json={"actionId": "first"}, headers=headers).status_code == 409
    assert http.post(f"{url}/retry-step", json={"actionId": "nope"}, headers=headers).status_code == 404
    assert http.post(f"{url}/retry-step", json={}, headers=headers).status_code == 422

    retried = http.post(f"{url}/retry-step", json={"actionId": "flaky"}, headers=headers)

    assert retried.status_code == 202
    done = poll(http, url, headers, terminal)
    assert done["status"] == "completed"
    assert [step["status"] for step in done["actionResults"]] == ["completed"] * 3
    assert [step["attempt"] for step in done["actionResults"]] == [1, 2, 1]
    assert done["actionResults"][1]["history"][0]["error"].endswith("HTTP 500 (expected 2xx)")
    assert server.hits == ["/first", "/flaky", "/flaky"]


def test_given_a_failed_execution_when_retried_then_a_new_linked_execution_is_created(
    http: httpx.Client, workspace: tuple[str, dict[str, str]], server: Loopback
) -> None:
    workspace_id, headers = workspace
    server.statuses = [500]
    path = workflow_path(workspace_id, "once")
    http.put(
        path,
        json=definition({"id": "call", "type": "http_request", "params": {"url": server.url}}),
        headers=headers,
    )
    original = http.post(f"{path}/executions", json={"input": {"k": 1}}, headers=headers).json()["execution"]
    poll(http, f"{path}/executions/{original['id']}", headers, terminal)

    response = http.post(f"{path}/executions/{original['id']}/retry", headers=headers)

    assert response.status_code == 201
    retry = response.json()["execution"]
    assert (retry["retryOf"], retry["input"]) == (original["id"], {"k": 1})
    assert poll(http, f"{path}/executions/{retry['id']}", headers, terminal)["status"] == "completed"
    linked = http.get(f"{path}/executions/{original['id']}", headers=headers).json()["execution"]
    assert linked["retriedBy"] == retry["id"]
    assert http.post(f"{path}/executions/{original['id']}/retry", headers=headers).status_code == 409


def test_given_a_running_execution_when_cancelled_then_it_stops_and_later_steps_are_skipped(
    http: httpx.Client, workspace: tuple[str, dict[str, str]], server: Loopback
) -> None:
    workspace_id, headers = workspace
    path = workflow_path(workspace_id, "slow")
    body = definition(
        delay_action("wait", 3), {"id": "late", "type": "http_request", "params": {"url": server.url}}
    )
    http.put(path, json=body, headers=headers)
    execution_id = http.post(f"{path}/executions", headers=headers).json()["execution"]["id"]
    url = f"{path}/executions/{execution_id}"
    poll(http, url, headers, lambda e: e["actionResults"][0]["status"] == "running")

    cancelled = http.post(f"{url}/cancel", headers=headers)

    assert cancelled.status_code == 200
    execution = cancelled.json()["execution"]
    assert execution["status"] == "cancelled"
    assert [step["status"] for step in execution["actionResults"]] == ["cancelled", "skipped"]
    assert (execution["canCancel"], execution["canRetry"]) == (False, True)
    time.sleep(3.5)
    assert server.hits == []
    assert http.get(url, headers=headers).json()["execution"]["status"] == "cancelled"
    assert http.post(f"{url}/cancel", headers=headers).status_code == 200
