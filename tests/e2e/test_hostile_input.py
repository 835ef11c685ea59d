"""What a hostile client or a hostile dependency sends never breaks a read or a list: over HTTP,
against the local runtime (issue: a deep input poisoned a workflow's list for good)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.e2e.support import definition, unique, workflow_path
from tests.integration.loopback import Loopback

pytestmark = pytest.mark.xdist_group("e2e")


def finished(http: httpx.Client, url: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        execution = http.get(url, headers=headers).json()["execution"]
        if execution["status"] in ("completed", "failed", "cancelled"):
            return dict(execution)
        time.sleep(0.1)
    raise AssertionError(f"{url} did not finish")


def run(
    http: httpx.Client, path: str, headers: dict[str, str], actions: list[dict[str, Any]]
) -> dict[str, Any]:
    assert http.put(path, json=definition(*actions), headers=headers).status_code == 200
    started = http.post(f"{path}/executions", json={}, headers=headers)
    assert started.status_code == 202, started.text
    return finished(http, f"{path}/executions/{started.json()['execution']['id']}", headers)


def test_given_an_input_nested_300_deep_then_422_and_the_workflows_list_still_answers(
    http: httpx.Client, workspace: tuple[str, dict[str, str]]
) -> None:
    name, headers = workspace
    path = workflow_path(name, unique("wf"))
    assert http.put(path, json=definition(), headers=headers).status_code == 200
    body = '{"input": {"a": ' + "[" * 300 + "]" * 300 + "}}"

    refused = http.post(
        f"{path}/executions", content=body, headers={**headers, "Content-Type": "application/json"}
    )

    assert refused.status_code == 422, refused.text
    assert "32 levels" in refused.json()["error"]["message"]
    listed = http.get(f"{path}/executions", params={"limit": 1}, headers=headers)
    assert (listed.status_code, listed.json()["executions"]) == (200, [])


def test_given_a_dependency_answering_json_nested_300_deep_then_the_step_keeps_it_as_text_and_reads_work(
    http: httpx.Client, workspace: tuple[str, dict[str, str]], server: Loopback
) -> None:
    name, headers = workspace
    path = workflow_path(name, unique("wf"))
    server.bodies = [("[" * 300 + "]" * 300).encode()]

    done = run(http, path, headers, [{"id": "deep", "type": "http_request", "params": {"url": server.url}}])

    assert done["status"] == "completed", done["error"]
    output = done["actionResults"][0]["output"]
    assert output["status"] == 200 and output["body"] == "[" * 300 + "]" * 300
    listed = http.get(f"{path}/executions", params={"limit": 1}, headers=headers)
    assert listed.status_code == 200 and listed.json()["executions"][0]["id"] == done["id"]
    with http.stream("GET", f"{path}/executions/{done['id']}/stream", headers=headers) as stream:
        assert stream.status_code == 200
        assert "event: snapshot" in "".join(stream.iter_text())


def test_given_a_response_over_64_kb_then_the_output_keeps_its_shape_and_later_steps_can_use_it(
    http: httpx.Client, workspace: tuple[str, dict[str, str]], server: Loopback
) -> None:
    name, headers = workspace
    path = workflow_path(name, unique("wf"))
    server.bodies = [b'{"items": "' + b"x" * 100_000 + b'"}']
    actions = [
        {"id": "big", "type": "http_request", "params": {"url": server.url + "/big"}},
        {
            "id": "next",
            "type": "http_request",
            "params": {"url": server.url + "/after/{{steps.big.output.status}}"},
        },
    ]

    done = run(http, path, headers, actions)

    assert done["status"] == "completed", done["error"]
    big = done["actionResults"][0]["output"]
    assert (big["status"], big["truncated"], len(big["body"])) == (200, True, 64 * 1024)
    assert "content-type" in big["headers"]
    assert server.hits[-1] == "/after/200"


def test_given_percent_encoded_identifiers_in_the_path_then_they_are_the_same_resource(
    http: httpx.Client, workspace: tuple[str, dict[str, str]]
) -> None:
    name, headers = workspace
    workflow = unique("wf")
    assert http.put(workflow_path(name, workflow), json=definition(), headers=headers).status_code == 200
    encoded = "".join(f"%{ord(char):02X}" for char in workflow[:3]) + workflow[3:]

    response = http.get(workflow_path(name, encoded), headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["workflow"]["id"] == workflow


def test_given_the_current_etag_then_the_304_has_no_body_and_no_content_type(
    http: httpx.Client, workspace: tuple[str, dict[str, str]]
) -> None:
    name, headers = workspace
    path = workflow_path(name, unique("wf"))
    done = run(http, path, headers, [{"id": "wait", "type": "delay", "params": {"seconds": 0}}])
    url = f"{path}/executions/{done['id']}"
    tag = http.get(url, headers=headers).headers["etag"]

    cached = http.get(url, headers={**headers, "If-None-Match": tag})

    assert (cached.status_code, cached.content) == (304, b"")
    assert "content-type" not in cached.headers
