"""Workflow definitions: what is accepted, and how a rejection names the field."""

from typing import Any

import pytest
from pydantic import ValidationError

from execution_monitor.models import MAX_ACTIONS, WorkflowDefinition


def delay(action_id: str, seconds: Any = 1) -> dict[str, Any]:
    return {"id": action_id, "type": "delay", "params": {"seconds": seconds}}


def errors_of(body: dict[str, Any]) -> list[Any]:
    with pytest.raises(ValidationError) as raised:
        WorkflowDefinition.model_validate(body)
    return raised.value.errors()


def test_given_every_action_type_when_validated_then_params_are_normalised() -> None:
    definition = WorkflowDefinition.model_validate(
        {
            "name": "all types",
            "actions": [
                {
                    "id": "notify",
                    "type": "send_message",
                    "params": {"queueUrl": "https://q", "message": {"a": 1}},
                },
                {
                    "id": "call",
                    "type": "http_request",
                    "params": {"url": "https://example.com/{{input.path}}"},
                },
                delay("wait", 5),
            ],
        }
    )
    assert [action.type for action in definition.actions] == ["send_message", "http_request", "delay"]
    assert definition.actions[1].to_json_dict()["params"] == {
        "url": "https://example.com/{{input.path}}",
        "method": "GET",
        "timeoutSeconds": 10.0,
    }


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"name": "x", "actions": []}, ("actions",)),
        ({"name": "x", "actions": [delay("a"), delay("a")]}, ("actions",)),
        ({"name": "x", "actions": [{"id": "a", "type": "teleport", "params": {}}]}, ("actions", 0)),
        ({"name": "x", "actions": [delay("bad id!")]}, ("actions", 0, "delay", "id")),
        ({"name": "x", "actions": [delay("a", -1)]}, ("actions", 0, "delay", "params", "seconds")),
        ({"name": "x", "actions": [delay("a", 86401)]}, ("actions", 0, "delay", "params", "seconds")),
        ({"name": "x", "actions": [delay(f"a{i}") for i in range(MAX_ACTIONS + 1)]}, ("actions",)),
        ({"actions": [delay("a")]}, ("name",)),
    ],
    ids=[
        "no-actions",
        "duplicate-ids",
        "unknown-type",
        "bad-id",
        "negative-delay",
        "too-long",
        "too-many",
        "no-name",
    ],
)
def test_given_an_invalid_definition_when_validated_then_the_error_names_the_field(
    body: dict[str, Any], location: tuple[Any, ...]
) -> None:
    assert errors_of(body)[0]["loc"] == location


@pytest.mark.parametrize(
    "params",
    [
        {"message": "hi"},
        {"queueUrl": "https://q", "topicArn": "arn:aws:sns:us-east-1:1:t", "message": "hi"},
    ],
)
def test_given_send_message_without_exactly_one_target_then_it_is_rejected(params: dict[str, Any]) -> None:
    errors = errors_of({"name": "x", "actions": [{"id": "a", "type": "send_message", "params": params}]})
    assert "exactly one of queueUrl or topicArn" in errors[0]["msg"]


@pytest.mark.parametrize(
    "params",
    [
        {"url": "ftp://example.com"},
        {"url": "/relative"},
        {"url": "https://example.com", "timeoutSeconds": 61},
        {"url": "https://example.com", "expectedStatus": [700]},
        {"url": "https://example.com", "method": "TRACE"},
    ],
)
def test_given_bad_http_request_params_then_they_are_rejected(params: dict[str, Any]) -> None:
    errors_of({"name": "x", "actions": [{"id": "a", "type": "http_request", "params": params}]})


def test_given_unknown_fields_then_they_are_rejected_rather_than_silently_dropped() -> None:
    errors = errors_of({"name": "x", "actions": [delay("a")], "colour": "blue"})
    assert errors[0]["type"] == "extra_forbidden"


def test_given_a_workflow_that_could_overflow_one_runs_history_then_it_is_rejected() -> None:
    retrying = {"maxAttempts": 3, "intervalSeconds": 1, "backoffRate": 1}
    actions = [
        {"id": f"a{i}", "type": "http_request", "params": {"url": "https://x"}, "retry": retrying}
        for i in range(MAX_ACTIONS)
    ]
    errors = errors_of({"name": "x", "actions": actions})
    assert errors[0]["loc"] == ("actions",)
    assert "history events" in errors[0]["msg"]


def test_given_the_largest_plain_workflows_then_they_fit_one_run() -> None:
    for action in (
        {"type": "delay", "params": {"seconds": 1}},
        {"type": "http_request", "params": {"url": "https://x"}},
    ):
        WorkflowDefinition.model_validate(
            {"name": "x", "actions": [{"id": f"a{i}", **action} for i in range(MAX_ACTIONS)]}
        )
