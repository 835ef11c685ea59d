"""Authentication at the gateway (the real authorizer) and tenancy in every authorized route."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from execution_monitor.paths import EXECUTIONS as EXECUTIONS_PATH
from execution_monitor.paths import WORKFLOW as WORKFLOW_PATH
from infrastructure.local import tokens
from infrastructure.routes import ROUTES, Route
from tests.e2e.support import bearer, definition, delay_action, unique, workflow_path

pytestmark = pytest.mark.xdist_group("e2e")

AUTHORIZED_ROUTES = [route for route in ROUTES if route.authorized]


def _route_id(route: Route) -> str:
    return f"{route.method} {route.path.removeprefix('/api/workspaces/{workspaceId}/workflows/{workflowId}')}"


def _fill(route: Route, **values: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda found: values[found.group(1)], route.path)


def _valid_body(route: Route) -> Any:
    """A body the route would accept from a member, so only tenancy can explain a refusal."""
    if route.method == "PUT" and route.path == WORKFLOW_PATH:
        return definition(name="written by an outsider")
    if route.path.endswith("/retry-step"):
        return {"actionId": "wait"}
    if route.method == "POST":
        return {"input": {}} if route.path == EXECUTIONS_PATH else {}
    return None


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cognito:groups"] = ["workspace:demo"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _signed_by_another_key() -> str:
    _, kid = tokens.ensure_signing_key()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {
        "sub": "intruder",
        "iss": tokens.ISSUER,
        "exp": 4102444800,
        "cognito:groups": ["workspace:demo"],
    }
    return jwt.encode(claims, other, algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def other_workspace(http: httpx.Client, token_for: Callable[..., str]) -> dict[str, str]:
    """Workspace B with a real workflow (and a real execution once the API can start one)."""
    workspace, workflow = unique("ws_b"), unique("wf")
    headers = bearer(token_for([workspace]))
    path = workflow_path(workspace, workflow)
    assert (
        http.put(path, json=definition(delay_action("wait", 0), name="B's"), headers=headers).status_code
        == 200
    )
    execution = "exec_unknown"
    if any(route.method == "POST" and route.path == EXECUTIONS_PATH for route in ROUTES):
        started = http.post(f"{path}/executions", json={"input": {}}, headers=headers)
        assert started.status_code == 202
        execution = started.json()["execution"]["id"]
    return {"workspaceId": workspace, "workflowId": workflow, "executionId": execution, "path": path}


@pytest.mark.parametrize("route", AUTHORIZED_ROUTES, ids=_route_id)
def test_given_a_member_of_workspace_a_when_any_route_of_workspace_b_is_called_then_it_is_a_404(
    http: httpx.Client, token_for: Callable[..., str], other_workspace: dict[str, str], route: Route
) -> None:
    outsider = bearer(token_for([unique("ws_a")]))
    url = _fill(route, **other_workspace)

    response = http.request(route.method, url, json=_valid_body(route), headers=outsider, timeout=10)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_given_outsiders_called_every_route_when_b_reads_its_workflow_then_nothing_changed(
    http: httpx.Client, token_for: Callable[..., str], other_workspace: dict[str, str]
) -> None:
    outsider = bearer(token_for([unique("ws_a")]))
    http.put(other_workspace["path"], json=definition(name="overwritten"), headers=outsider)

    owner = bearer(token_for([other_workspace["workspaceId"]]))
    workflow = http.get(other_workspace["path"], headers=owner).json()["workflow"]

    assert workflow["name"] == "B's"
    assert workflow["version"] == 1


@pytest.mark.smoke
@pytest.mark.parametrize("route", AUTHORIZED_ROUTES, ids=_route_id)
def test_given_no_token_when_an_authorized_route_is_called_then_it_is_a_401(
    http: httpx.Client, route: Route
) -> None:
    url = _fill(route, workspaceId="demo", workflowId="wf_demo", executionId="exec_unknown")

    response = http.request(route.method, url, json=_valid_body(route), timeout=10)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


BAD_TOKENS: dict[str, Callable[[], str]] = {
    "tampered": lambda: _tampered(tokens.mint_token([unique("ws")])),
    "expired": lambda: tokens.mint_token(["demo"], lifetime_seconds=-3600),
    "wrong issuer": lambda: tokens.mint_token(["demo"], extra_claims={"iss": "https://elsewhere.example"}),
    "foreign key": _signed_by_another_key,
    "not a jwt": lambda: "not-a-token",
}


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_given_a_bad_token_when_the_demo_workflow_is_read_then_it_is_a_401(
    http: httpx.Client, make_token: Callable[[], str]
) -> None:
    response = http.get(workflow_path("demo", "wf_demo"), headers=bearer(make_token()))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_given_a_token_without_the_bearer_scheme_when_a_route_is_called_then_it_is_a_401(
    http: httpx.Client, token_for: Callable[..., str]
) -> None:
    response = http.get(workflow_path("demo", "wf_demo"), headers={"Authorization": token_for(["demo"])})

    assert response.status_code == 401


def test_given_a_query_token_when_a_non_stream_route_is_called_then_it_is_a_401(
    http: httpx.Client, token_for: Callable[..., str]
) -> None:
    response = http.get(workflow_path("demo", "wf_demo"), params={"access_token": token_for(["demo"])})

    assert response.status_code == 401
