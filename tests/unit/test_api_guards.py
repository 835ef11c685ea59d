"""Bad input never reaches the store: 400/401/404/413/415/422 are decided before any AWS call."""

import base64
import json

import pytest

from execution_monitor import jsonvalues
from execution_monitor.api import guard_request
from execution_monitor.jsonvalues import MAX_DEPTH
from execution_monitor.settings import DEFAULT_MAX_REQUEST_BYTES
from list_executions import handler as list_executions
from put_workflow import handler as put_workflow
from retry_step import handler as retry_step
from start_execution import handler as start_execution
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


# -- hostile bodies: a clear 4xx, never a 500 ---------------------------------------------------

EXECUTIONS = f"{WORKFLOW}/executions"


def raw_event(body: bytes, content_type: str = "application/json") -> dict[str, object]:
    """A POST whose bytes API Gateway had to base64-encode (they are not all valid UTF-8)."""
    event = api_event("POST", EXECUTIONS, headers={"Content-Type": content_type})
    event.update(body=base64.b64encode(body).decode(), isBase64Encoded=True)
    return event


@pytest.mark.parametrize(
    "body",
    [b'{"input": {"a": "\xff\xfe"}}', '{"input": {}}'.encode("utf-16"), b'{"input": {"a": "\xed\xa0\x80"}}'],
    ids=["invalid-utf8", "utf16", "surrogate"],
)
def test_given_a_body_that_is_not_utf8_then_400(body: bytes) -> None:
    status, _, answer = call(start_execution, raw_event(body))
    assert (status, answer["error"]["code"]) == (400, "bad_request")
    assert "UTF-8" in answer["error"]["message"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"]
)
def test_given_a_json_body_sent_as_another_media_type_then_415(content_type: str) -> None:
    event = api_event("POST", EXECUTIONS, body={"input": {}}, headers={"Content-Type": content_type})
    status, _, answer = call(start_execution, event)
    assert (status, answer["error"]["code"]) == (415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/merge-patch+json"])
def test_given_a_json_media_type_with_parameters_or_suffix_then_the_body_is_accepted(
    content_type: str,
) -> None:
    event = api_event("POST", EXECUTIONS, body={"input": {}}, headers={"Content-Type": content_type})
    assert guard_request(event)["body"] == '{"input": {}}'


@pytest.mark.parametrize(
    "body",
    [
        '{"input": {"n": ' + "9" * 4301 + "}}",
        '{"input": {"n": NaN}}',
        '{"input": {"n": Infinity}}',
        '{"input": {"n": -Infinity}}',
        '{"input": {"n": 1e400}}',
        '{"input": {"a": ' + "[" * 1000 + "]" * 1000 + "}}",
        '{"input": {"a": ' + "[" * 300 + "]" * 300 + "}}",
        '{"input": {"a": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}}",
    ],
    ids=["4301-digits", "nan", "infinity", "minus-infinity", "1e400", "1000-deep", "300-deep", "33-deep"],
)
def test_given_a_value_beyond_the_json_limits_then_422_and_nothing_is_stored(body: str) -> None:
    status, _, answer = call(start_execution, api_event("POST", EXECUTIONS, body=body))
    assert (status, answer["error"]["code"]) == (422, "validation_error")


def test_given_json_at_the_depth_limit_then_it_passes_the_guards() -> None:
    body = '{"input": {"a": ' + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "}}"
    assert jsonvalues.depth(json.loads(body)) == MAX_DEPTH
    assert guard_request(api_event("POST", EXECUTIONS, body=body))["body"] == body


def test_given_percent_encoded_identifiers_then_the_resolver_sees_them_decoded_as_api_gateway_does() -> None:
    event = api_event("GET", "/api/workspaces/ws1/workflows/%77f1")
    event["pathParameters"] = {"workspaceId": "ws1", "workflowId": "wf1"}  # API Gateway decodes these

    assert guard_request(event)["path"] == "/api/workspaces/ws1/workflows/wf1"


def test_given_a_cursor_that_decodes_to_deeply_nested_json_then_422() -> None:
    cursor = base64.urlsafe_b64encode(("[" * 5000 + "]" * 5000).encode()).decode()
    status, _, answer = call(list_executions, api_event("GET", EXECUTIONS, query={"cursor": cursor}))
    assert (status, answer["error"]["code"]) == (422, "validation_error")


@pytest.mark.parametrize("body", ["[null, null]", "[]", '"text"', "5"])
def test_given_a_body_that_is_not_a_json_object_then_422_and_nothing_starts(body: str) -> None:
    status, _, answer = call(start_execution, api_event("POST", EXECUTIONS, body=body))
    assert (status, answer["error"]["code"]) == (422, "validation_error")


@pytest.mark.parametrize("retry", [{"intervalSeconds": False}, {"maxAttempts": True}, {"backoffRate": True}])
def test_given_a_boolean_where_a_number_belongs_then_422(retry: dict[str, object]) -> None:
    action = {"id": "a", "type": "delay", "params": {"seconds": 0}, "retry": retry}
    status, _, body = call(put_workflow, api_event("PUT", WORKFLOW, body={"name": "x", "actions": [action]}))
    assert (status, body["error"]["code"]) == (422, "validation_error")


@pytest.mark.parametrize("url", ["000", "ftp://host/x", "http://", "https:///path"])
def test_given_a_webhook_url_that_is_not_absolute_http_then_422(url: str) -> None:
    body = {
        "name": "x",
        "actions": [{"id": "a", "type": "delay", "params": {"seconds": 0}}],
        "webhooks": [{"url": url}],
    }
    status, _, answer = call(put_workflow, api_event("PUT", WORKFLOW, body=body))
    assert (status, answer["error"]["code"]) == (422, "validation_error")


def test_the_webhook_url_pattern_admits_what_the_validator_accepts() -> None:
    import re

    from execution_monitor.api_model import HTTP_URL_PATTERN
    from execution_monitor.models import WebhookDefinition

    for url in ("http://a", "https://hooks.example.com:8443/x?y=1#z", "http://127.0.0.1/p"):
        assert re.match(HTTP_URL_PATTERN, url)
        assert WebhookDefinition(url=url).url == url


@pytest.mark.parametrize("host", ["0" * 300, "b0:71084"], ids=["label-over-63", "port-out-of-range"])
def test_given_a_webhook_host_that_cannot_be_resolved_as_given_then_422_not_500(host: str) -> None:
    from execution_monitor import workflows
    from execution_monitor.models import WorkflowDefinition

    definition = WorkflowDefinition.model_validate(
        {
            "name": "x",
            "actions": [{"id": "a", "type": "delay", "params": {"seconds": 0}}],
            "webhooks": [{"url": f"https://{host}/hook"}],
        }
    )
    with pytest.raises(workflows.ValidationFailed):
        workflows.save_workflow(None, "ws1", "wf1", definition)  # type: ignore[arg-type]
