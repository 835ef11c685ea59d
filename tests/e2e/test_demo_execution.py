"""The whole system on one machine: the seeded demo runs through the real state machine."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.support import bearer, workflow_path

pytestmark = pytest.mark.xdist_group("e2e")

TERMINAL = {"completed", "failed", "cancelled"}


def _wait_until_terminal(http: httpx.Client, url: str, headers: dict[str, str], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = http.get(url, headers=headers).json()["execution"]
        if execution["status"] in TERMINAL:
            return execution
        time.sleep(0.2)
    pytest.fail(f"{url} did not finish within {timeout}s")


def test_given_the_seeded_demo_when_it_is_started_then_every_step_completes_in_order(
    http: httpx.Client, token_for: Callable[..., str]
) -> None:
    headers = bearer(token_for(["demo"]))
    path = workflow_path("demo", "wf_demo")

    started = http.post(f"{path}/executions", json={"input": {}}, headers=headers)

    assert started.status_code == 202
    execution_id = started.json()["execution"]["id"]
    execution = _wait_until_terminal(http, f"{path}/executions/{execution_id}", headers)
    assert execution["status"] == "completed", execution
    steps = execution["actionResults"]
    assert [(step["actionId"], step["status"]) for step in steps] == [
        ("wait", "completed"),
        ("check_health", "completed"),
        ("notify", "completed"),
    ]
    assert steps[0]["duration"] >= 2000  # a real Wait state
    assert steps[1]["output"]["body"] == {"status": "ok"}  # the gateway's own /health, on loopback
    assert steps[2]["output"]["messageId"]
    listed = http.get(f"{path}/executions", params={"limit": 100}, headers=headers).json()["executions"]
    assert execution_id in [item["id"] for item in listed]
