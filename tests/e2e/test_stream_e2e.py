"""Live updates over SSE from `make dev`, read with a real SSE client (httpx-sse)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.e2e.support import bearer, definition, delay_action, read_all, unique, workflow_path
from tests.integration.loopback import Loopback, loopback_server

pytestmark = pytest.mark.xdist_group("e2e")


@pytest.fixture
def server() -> Iterator[Loopback]:
    with loopback_server() as state:
        yield state


@pytest.fixture
def started(
    http: httpx.Client, token_for: Callable[..., str], server: Loopback
) -> tuple[str, str, dict[str, str]]:
    workspace_id = unique("ws")
    headers = bearer(token_for([workspace_id]))
    path = workflow_path(workspace_id, "live")
    body = definition(
        delay_action("warm_up", 1),
        {"id": "call", "type": "http_request", "params": {"url": f"{server.url}/ping"}},
        delay_action("settle", 1),
    )
    assert http.put(path, json=body, headers=headers).status_code == 200
    execution_id = http.post(f"{path}/executions", headers=headers).json()["execution"]["id"]
    return f"{path}/executions/{execution_id}/stream", headers["Authorization"].split()[1], headers


def test_given_a_running_execution_then_the_stream_sends_a_snapshot_every_step_then_end_and_closes(
    http: httpx.Client, started: tuple[str, str, dict[str, str]]
) -> None:
    url, token, _ = started

    events = read_all(http, url, params={"access_token": token})

    kinds = [event.event for event in events]
    assert kinds[0] == "snapshot"
    assert kinds[-1] == "end"
    assert set(kinds[1:-1]) == {"update"}
    ids = [int(event.id) for event in events]
    assert ids == sorted(ids)
    snapshot = json.loads(events[0].data)["execution"]
    assert [step["actionId"] for step in snapshot["actionResults"]] == ["warm_up", "call", "settle"]
    completed = {
        step["actionId"]
        for event in events
        if event.event == "update"
        for step in json.loads(event.data)["changedActionResults"]
        if step["status"] == "completed"
    }
    assert completed == {"warm_up", "call", "settle"}
    last_update = json.loads(events[-2].data)
    assert last_update["status"] == "completed"
    assert last_update["progress"]["completedSteps"] == 3
    assert last_update["progress"]["percentage"] == 100
    percentages = [
        json.loads(event.data)["progress"]["percentage"] for event in events if event.event == "update"
    ]
    assert percentages == sorted(percentages)  # never goes backwards
    assert "actionResults" not in last_update
    assert json.loads(events[-1].data)["status"] == "completed"


def test_given_a_reconnect_then_a_current_last_event_id_gets_no_snapshot_and_a_stale_one_does(
    http: httpx.Client, started: tuple[str, str, dict[str, str]]
) -> None:
    url, _, headers = started
    final = read_all(http, url, headers=headers)
    current = final[-1].id

    resumed = read_all(http, url, headers={**headers, "Last-Event-ID": current})
    stale = read_all(http, url, headers={**headers, "Last-Event-ID": "1"})

    assert [event.event for event in resumed] == ["end"]
    assert [event.event for event in stale] == ["snapshot", "end"]


def test_given_no_token_or_another_workspace_then_the_stream_is_refused(
    http: httpx.Client, started: tuple[str, str, dict[str, str]], token_for: Callable[..., str]
) -> None:
    url, _, _ = started
    assert http.get(url).status_code == 401
    assert http.get(url, params={"access_token": "not-a-token"}).status_code == 401
    outsider = http.get(url, headers=bearer(token_for([unique("other")])))
    assert outsider.status_code == 404
    assert outsider.json()["error"]["code"] == "not_found"
