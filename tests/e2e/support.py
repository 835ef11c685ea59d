"""Helpers shared by the e2e tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import ServerSentEvent, connect_sse

REPO_ROOT = Path(__file__).resolve().parents[2]
# The same import roots as the Makefile and pytest's `pythonpath` (a subprocess needs them in env).
IMPORT_ROOTS = [REPO_ROOT / "layers" / "common" / "python", REPO_ROOT / "functions", REPO_ROOT]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique(prefix: str) -> str:
    """An id no other test uses: tests share one runtime and never clean up."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def definition(*actions: dict[str, Any], name: str = "e2e workflow") -> dict[str, Any]:
    return {"name": name, "actions": list(actions) or [delay_action("wait", 0)]}


def delay_action(action_id: str, seconds: int) -> dict[str, Any]:
    return {"id": action_id, "type": "delay", "params": {"seconds": seconds}}


def workflow_path(workspace_id: str, workflow_id: str) -> str:
    return f"/api/workspaces/{workspace_id}/workflows/{workflow_id}"


def terminal(execution: Any) -> bool:
    return execution["status"] in ("completed", "failed", "cancelled")


def poll(
    http: httpx.Client,
    url: str,
    headers: dict[str, str],
    done: Callable[[Any], bool],
    *,
    give_up_after: float = 30,
) -> Any:
    """GETs the execution until `done` holds (the deadline only ends a test that would hang)."""
    deadline = time.monotonic() + give_up_after
    while time.monotonic() < deadline:
        execution = http.get(url, headers=headers).json()["execution"]
        if done(execution):
            return execution
        time.sleep(0.1)
    pytest.fail(f"{url} never reached the expected state")


def read_all(http: httpx.Client, url: str, *, timeout: float = 30, **kwargs: Any) -> list[ServerSentEvent]:
    """Every event of an SSE stream, read until the server closes it."""
    with connect_sse(http, "GET", url, timeout=timeout, **kwargs) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        assert source.response.headers["cache-control"] == "no-cache"
        received = list(source.iter_sse())  # returns once the server closes the stream
    # The stream opens with a bare `retry:` field: a reconnection delay, not an event to dispatch.
    assert received[0].retry is not None
    assert received[0].data == ""
    return [event for event in received if event.data]
