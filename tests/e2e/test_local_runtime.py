"""The runtime itself: health, tokens, the seeded demo, the open routes, gateway errors."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

from infrastructure.local import tokens
from tests.e2e.support import IMPORT_ROOTS, REPO_ROOT, bearer, workflow_path

pytestmark = pytest.mark.xdist_group("e2e")


def _run_tokens_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(map(str, IMPORT_ROOTS))}
    return subprocess.run(
        [sys.executable, "-m", "infrastructure.local.tokens", *args],
        cwd="/",  # the key lives under the repo root whatever the cwd
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def test_given_the_runtime_is_up_when_health_is_requested_then_it_answers_ok(http: httpx.Client) -> None:
    response = http.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_given_the_tokens_cli_when_run_for_one_workspace_then_it_prints_only_a_token() -> None:
    result = _run_tokens_cli("a")

    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert len(lines[0].split(".")) == 3
    assert result.stderr == ""
    assert _claims(lines[0])["cognito:groups"] == ["workspace:a"]


def test_given_the_tokens_cli_when_run_for_several_workspaces_then_the_token_grants_each() -> None:
    token = _run_tokens_cli("a,b").stdout.strip()

    claims = _claims(token)
    assert claims["cognito:groups"] == ["workspace:a", "workspace:b"]
    assert claims["iss"] == tokens.ISSUER
    assert isinstance(claims["exp"], int)
    assert claims["exp"] - int(str(claims["iat"])) == tokens.LIFETIME_SECONDS


def test_given_the_key_location_when_resolved_then_it_is_under_the_repo_root() -> None:
    assert tokens.KEY_PATH.parent == REPO_ROOT / ".local"
    assert tokens.JWKS_PATH.parent == REPO_ROOT / ".local"


def test_given_a_make_token_token_for_demo_when_the_seeded_workflow_is_read_then_it_is_returned(
    http: httpx.Client, token_for: Callable[..., str]
) -> None:
    response = http.get(workflow_path("demo", "wf_demo"), headers=bearer(token_for(["demo"])))

    assert response.status_code == 200
    workflow = response.json()["workflow"]
    assert workflow["id"] == "wf_demo"
    assert workflow["workspaceId"] == "demo"
    assert [action["type"] for action in workflow["actions"]] == ["delay", "http_request", "send_message"]


@pytest.mark.smoke
def test_given_no_token_when_the_openapi_document_is_read_then_it_is_served(http: httpx.Client) -> None:
    response = http.get("/api/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["openapi"].startswith("3.")


@pytest.mark.smoke
def test_given_an_unknown_path_when_requested_then_the_gateway_answers_404_json(http: httpx.Client) -> None:
    response = http.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_given_a_known_path_when_an_unrouted_method_is_used_then_the_gateway_answers_405(
    http: httpx.Client,
) -> None:
    response = http.delete("/api/openapi.json")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json()["error"]["code"] == "method_not_allowed"
