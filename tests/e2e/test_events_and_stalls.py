"""Events out, stalls, retry plans and workspace lists over HTTP against the local runtime: what a
server and a dashboard see."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from tests.e2e.support import definition, unique, workflow_path
from tests.integration.loopback import Loopback

pytestmark = pytest.mark.xdist_group("e2e")


def until(check: Callable[[], Any], seconds: float = 30, every: float = 0.2) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"not within {seconds}s")


def execution(http: httpx.Client, url: str, headers: dict[str, str]) -> dict[str, Any]:
    return dict(http.get(url, headers=headers).json()["execution"])


def test_given_a_workflow_with_a_webhook_when_a_run_fails_then_the_receiver_gets_signed_events_and_they_list(
    http: httpx.Client, workspace: tuple[str, dict[str, str]], server: Loopback
) -> None:
    name, headers = workspace
    path = workflow_path(name, unique("wf"))
    body = definition({"id": "call", "type": "http_request", "params": {"url": server.url + "/api"}})
    body["webhooks"] = [{"url": server.url + "/hook", "events": ["execution.failed", "step.failed"]}]
    put = http.put(path, json=body, headers=headers)
    assert put.status_code == 200, put.text
    secret = put.json()["webhookSecret"]
    assert http.get(path, headers=headers).json().get("webhookSecret") is None
    server.statuses = [500]

    started = http.post(f"{path}/executions", json={}, headers=headers).json()["execution"]
    url = f"{path}/executions/{started['id']}"
    hooks = until(
        lambda: (
            [(h, b) for p, h, b in server.received if p == "/hook"][:2] if len(server.received) >= 3 else None
        )
    )

    payloads = [Verifier(secret).verify(payload, sent) for sent, payload in hooks]
    assert sorted(payload["type"] for payload in payloads) == ["execution.failed", "step.failed"]
    assert {payload["data"]["execution"]["id"] for payload in payloads} == {started["id"]}
    listed = until(
        lambda: (
            events
            if len(events := http.get(f"{url}/events", headers=headers).json()["events"]) == 2
            and all(event["deliveries"][0]["state"] == "delivered" for event in events)
            else None
        )
    )
    assert {event["id"] for event in listed} == {sent["webhook-id"] for sent, _ in hooks}
    assert execution(http, url, headers)["status"] == "failed"


def test_given_a_step_whose_history_says_300_ms_when_it_hangs_then_it_is_flagged_stalled_and_cleared(
    http: httpx.Client, workspace: tuple[str, dict[str, str]], server: Loopback
) -> None:
    name, headers = workspace
    path = workflow_path(name, unique("wf"))
    call = {
        "id": "call",
        "type": "http_request",
        "params": {"url": server.url + "/slow", "timeoutSeconds": 60},
    }
    assert http.put(path, json=definition(call), headers=headers).status_code == 200
    first = http.post(f"{path}/executions", json={}, headers=headers).json()["execution"]
    until(lambda: execution(http, f"{path}/executions/{first['id']}", headers)["status"] == "completed")
    server.hold.clear()  # from now on the call hangs (up to 30 s)

    def started_with_an_estimate() -> dict[str, Any] | None:
        # The first run's duration reaches the statistics through the stream; until it has, a new
        # execution has no estimate and is not what this test is about.
        candidate = http.post(f"{path}/executions", json={}, headers=headers).json()["execution"]
        if candidate["progress"]["estimatedTimeRemaining"] is not None:
            return dict(candidate)
        http.post(f"{path}/executions/{candidate['id']}/cancel", headers=headers)
        return None

    hanging = until(started_with_an_estimate, seconds=20, every=0.5)
    url = f"{path}/executions/{hanging['id']}"
    flagged = until(
        lambda: (found := execution(http, url, headers))["stalled"] and found, seconds=28, every=0.5
    )
    server.hold.set()

    assert flagged["stalled"]["actionId"] == "call"
    assert flagged["stalled"]["runningFor"] > flagged["stalled"]["expectedDuration"]
    done = until(lambda: (found := execution(http, url, headers))["status"] == "completed" and found)
    assert done["stalled"] is None


def test_given_a_failed_execution_then_its_retry_plan_shows_what_runs_again(
    http: httpx.Client, workspace: tuple[str, dict[str, str]], server: Loopback
) -> None:
    name, headers = workspace
    path = workflow_path(name, unique("wf"))
    actions = [
        {"id": "wait", "type": "delay", "params": {"seconds": 0}},
        {"id": "call", "type": "http_request", "params": {"url": server.url + "/x"}},
    ]
    assert http.put(path, json=definition(*actions), headers=headers).status_code == 200
    server.statuses = [500]
    started = http.post(f"{path}/executions", json={}, headers=headers).json()["execution"]
    url = f"{path}/executions/{started['id']}"
    until(lambda: execution(http, url, headers)["status"] == "failed")

    plan = http.get(f"{url}/retry-plan", params={"actionId": "call"}, headers=headers)

    assert plan.status_code == 200, plan.text
    assert [step["actionId"] for step in plan.json()["plan"]["rerun"]] == ["call"]
    assert [step["actionId"] for step in plan.json()["plan"]["kept"]] == ["wait"]
    assert http.get(f"{url}/retry-plan", params={"actionId": "nope"}, headers=headers).status_code == 404


def test_given_a_workspace_then_its_workflows_show_their_last_execution_and_its_executions_list_across(
    http: httpx.Client, workspace: tuple[str, dict[str, str]]
) -> None:
    name, headers = workspace
    ids = sorted(unique("wf") for _ in range(2))
    for workflow_id in ids:
        assert (
            http.put(workflow_path(name, workflow_id), json=definition(), headers=headers).status_code == 200
        )
        http.post(f"{workflow_path(name, workflow_id)}/executions", json={}, headers=headers)

    def all_completed() -> list[dict[str, Any]] | None:
        listed = http.get(f"/api/workspaces/{name}/workflows", headers=headers).json()["workflows"]
        done = [w for w in listed if (w["lastExecution"] or {}).get("status") == "completed"]
        return listed if len(done) == 2 else None

    workflows = until(all_completed)
    executions = http.get(
        f"/api/workspaces/{name}/executions", params={"status": "completed"}, headers=headers
    )

    assert [workflow["id"] for workflow in workflows] == ids
    assert sorted(e["workflowId"] for e in executions.json()["executions"]) == ids
    other = http.get("/api/workspaces/someone-else/workflows", headers=headers)
    assert other.status_code == 404
