"""PUT/GET workflow through the gateway: versions, and every kind of bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.support import bearer, definition, delay_action, unique, workflow_path

pytestmark = pytest.mark.xdist_group("e2e")


@pytest.fixture
def workspace() -> str:
    return unique("ws")


@pytest.fixture
def headers(workspace: str, token_for: Callable[..., str]) -> dict[str, str]:
    return bearer(token_for([workspace]))


def test_given_a_new_workflow_when_it_is_put_then_get_returns_it_at_version_1(
    http: httpx.Client, workspace: str, headers: dict[str, str]
) -> None:
    path = workflow_path(workspace, unique("wf"))
    body = definition(delay_action("first", 1), delay_action("second", 0), name="two waits")

    put = http.put(path, json=body, headers=headers)
    got = http.get(path, headers=headers)

    assert put.status_code == 200
    assert got.status_code == 200
    workflow = got.json()["workflow"]
    assert workflow == put.json()["workflow"]
    assert workflow["version"] == 1
    assert workflow["name"] == "two waits"
    assert [action["id"] for action in workflow["actions"]] == ["first", "second"]


def test_given_an_existing_workflow_when_it_is_put_again_then_its_version_increments(
    http: httpx.Client, workspace: str, headers: dict[str, str]
) -> None:
    path = workflow_path(workspace, unique("wf"))
    http.put(path, json=definition(name="v1"), headers=headers)

    second = http.put(path, json=definition(name="v2"), headers=headers)

    assert second.status_code == 200
    assert second.json()["workflow"]["version"] == 2
    assert http.get(path, headers=headers).json()["workflow"]["name"] == "v2"


def test_given_malformed_json_when_a_workflow_is_put_then_it_is_a_400(
    http: httpx.Client, workspace: str, headers: dict[str, str]
) -> None:
    response = http.put(
        workflow_path(workspace, unique("wf")),
        content=b'{"name": "x", "actions": [',
        headers={**headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def _many_delays(count: int) -> list[dict[str, Any]]:
    return [delay_action(f"a{index}", 0) for index in range(count)]


INVALID_DEFINITIONS = {
    "duplicate ids": (
        {"name": "x", "actions": [delay_action("same", 0), delay_action("same", 0)]},
        "actions",
    ),
    "unknown type": ({"name": "x", "actions": [{"id": "a", "type": "teleport", "params": {}}]}, "type"),
    "no actions": ({"name": "x", "actions": []}, "actions"),
    "bad id characters": ({"name": "x", "actions": [delay_action("no spaces!", 0)]}, "id"),
    "negative delay": ({"name": "x", "actions": [delay_action("a", -1)]}, "seconds"),
    "over 1000 actions": ({"name": "x", "actions": _many_delays(1001)}, "actions"),
}


@pytest.mark.parametrize(("body", "field"), INVALID_DEFINITIONS.values(), ids=INVALID_DEFINITIONS.keys())
def test_given_an_invalid_definition_when_it_is_put_then_it_is_a_422_naming_the_field(
    http: httpx.Client, workspace: str, headers: dict[str, str], body: dict[str, Any], field: str
) -> None:
    path = workflow_path(workspace, unique("wf"))

    response = http.put(path, json=body, headers=headers)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["message"]
    assert http.get(path, headers=headers).status_code == 404  # nothing was stored


def test_given_a_body_over_256_kb_when_a_workflow_is_put_then_it_is_a_413(
    http: httpx.Client, workspace: str, headers: dict[str, str]
) -> None:
    body = definition(name="big") | {"description": "x" * (300 * 1024)}

    response = http.put(workflow_path(workspace, unique("wf")), json=body, headers=headers)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
