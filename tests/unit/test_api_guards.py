"""Bad input never reaches the store: 400/401/404/413/422 are decided before any AWS call."""

import json

import pytest

from execution_monitor.settings import DEFAULT_MAX_REQUEST_BYTES
from put_workflow import handler as put_workflow
from retry_step import handler as retry_step
from tests.helpers import api_event, call

WORKFLOW = "/api/workspaces/ws1/workflows/wf1"


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    # Any attempt to reach AWS fails loudly: these requests must be refused before storage.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("TABLE_NAME", "unused")


def test_given_malformed_json_when_putting_a_workflow_then_400_with_a_json_error() -> None:
    status, headers, body = call(put_workflow, api_event("PUT", WORKFLOW, body='{"name": "x",'))
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert body["error"]["code"] == "bad_request"


def test_given_an_invalid_definition_then_422_names_the_field_without_union_tags() -> None:
    bad = {"name": "x", "actions": [{"id": "a", "type": "delay", "params": {"seconds": -5}}]}
    status, _, body = call(put_workflow, api_event("PUT", WORKFLOW, body=bad))
    assert status == 422
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["details"][0]["loc"] == ["body", "actions", 0, "params", "seconds"]
    assert body["error"]["message"].startswith("actions.0.params.seconds")


def test_given_an_unknown_action_type_then_422_points_at_the_type_field() -> None:
    bad = {"name": "x", "actions": [{"id": "a", "type": "teleport", "params": {}}]}
    status, _, body = call(put_workflow, api_event("PUT", WORKFLOW, body=bad))
    assert status == 422
    assert body["error"]["details"][0]["loc"] == ["body", "actions", 0, "type"]


def test_given_a_body_over_the_limit_then_413_before_parsing() -> None:
    huge = json.dumps({"name": "x" * (DEFAULT_MAX_REQUEST_BYTES + 1)})
    status, _, body = call(put_workflow, api_event("PUT", WORKFLOW, body=huge))
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"


def test_given_no_authorizer_context_then_401() -> None:
    status, _, body = call(put_workflow, api_event("PUT", WORKFLOW, body={}, workspaces=None))
    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_given_a_caller_of_another_workspace_then_404_even_for_invalid_input() -> None:
    status, _, body = call(put_workflow, api_event("PUT", WORKFLOW, body="{oops", workspaces=("other",)))
    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_given_retry_step_without_an_action_id_then_422() -> None:
    event = api_event("POST", "/api/workspaces/ws1/workflows/wf1/executions/exec_1/retry-step", body={})
    status, _, body = call(retry_step, event)
    assert status == 422
    assert body["error"]["details"][0]["loc"] == ["body", "actionId"]


def test_given_an_invalid_path_identifier_then_422() -> None:
    event = api_event("PUT", "/api/workspaces/ws1/workflows/bad%20id", body={})
    status, _, _ = call(put_workflow, event)
    assert status == 422
