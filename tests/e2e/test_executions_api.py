"""Execution reads through the gateway: empty lists, paging parameters, unknown ids."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.e2e.support import bearer, definition, unique, workflow_path

pytestmark = pytest.mark.xdist_group("e2e")


@pytest.fixture
def workflow(http: httpx.Client, token_for: Callable[..., str]) -> tuple[str, dict[str, str]]:
    """A freshly PUT workflow's path and the headers of a member of its workspace."""
    workspace = unique("ws")
    headers = bearer(token_for([workspace]))
    path = workflow_path(workspace, unique("wf"))
    assert http.put(path, json=definition(), headers=headers).status_code == 200
    return path, headers


def test_given_a_new_workflow_when_its_executions_are_listed_then_the_page_is_empty(
    http: httpx.Client, workflow: tuple[str, dict[str, str]]
) -> None:
    path, headers = workflow

    response = http.get(f"{path}/executions", headers=headers)

    assert response.status_code == 200
    assert response.json() == {"executions": [], "nextCursor": None}


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_given_a_limit_out_of_range_when_executions_are_listed_then_it_is_a_422(
    http: httpx.Client, workflow: tuple[str, dict[str, str]], limit: str
) -> None:
    path, headers = workflow

    response = http.get(f"{path}/executions", params={"limit": limit}, headers=headers)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "limit" in error["message"]


@pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJwayI6ICJvdGhlciJ9"])
def test_given_a_bad_cursor_when_executions_are_listed_then_it_is_a_422(
    http: httpx.Client, workflow: tuple[str, dict[str, str]], cursor: str
) -> None:
    path, headers = workflow

    response = http.get(f"{path}/executions", params={"cursor": cursor}, headers=headers)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_given_an_unknown_execution_when_it_is_read_then_it_is_a_404(
    http: httpx.Client, workflow: tuple[str, dict[str, str]]
) -> None:
    path, headers = workflow

    response = http.get(f"{path}/executions/exec_does_not_exist", headers=headers)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
