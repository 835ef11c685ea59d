"""References in action params: {{input.…}} and {{steps.<id>.output.…}}."""

import pytest

from execution_monitor.engine.templates import UnresolvedReference, resolve

CONTEXT = {
    "input": {"user": {"id": 42, "name": "Ada"}, "tags": ["a", "b"]},
    "steps": {"fetch": {"status": 200, "body": {"token": "t-1"}}},
}


def test_given_a_whole_string_reference_then_the_value_keeps_its_type() -> None:
    assert resolve("{{input.user.id}}", CONTEXT) == 42
    assert resolve("{{ steps.fetch.output.body }}", CONTEXT) == {"token": "t-1"}


def test_given_embedded_references_then_they_are_interpolated_as_text() -> None:
    assert resolve("user {{input.user.name}} #{{input.user.id}}", CONTEXT) == "user Ada #42"
    assert resolve("tag={{input.tags.1}}", CONTEXT) == "tag=b"


def test_given_nested_params_then_every_string_is_resolved() -> None:
    params = {
        "url": "https://x/{{input.user.id}}",
        "body": {"auth": "{{steps.fetch.output.body.token}}"},
        "n": 3,
    }
    assert resolve(params, CONTEXT) == {"url": "https://x/42", "body": {"auth": "t-1"}, "n": 3}


@pytest.mark.parametrize(
    "template",
    ["{{input.user.email}}", "{{steps.later.output.x}}", "{{steps.fetch.status}}", "{{env.HOME}}"],
)
def test_given_a_reference_to_something_missing_then_resolution_fails_clearly(template: str) -> None:
    with pytest.raises(UnresolvedReference, match=r"\{\{"):
        resolve(template, CONTEXT)
