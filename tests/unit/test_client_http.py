"""The client's requests and answers, over httpx.MockTransport: models, errors, paging, ETags, SSE parsing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from httpx_sse import ServerSentEvent

from execution_monitor_client import (
    ApiError,
    Client,
    ConflictError,
    Execution,
    NetworkError,
    NotFoundError,
    ServerError,
    UnexpectedResponse,
    ValidationError,
)
from execution_monitor_client.stream import apply_update, parse_event
from tests.unit.client_fakes import BASE, EX, WF, WS, FakeApi, error_response, execution, step, update_of


def client_answering(answer: Any) -> tuple[Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request) if callable(answer) else answer

    return Client("http://api.test/", token="t0ken", transport=httpx.MockTransport(handler)), seen


# -- models --------------------------------------------------------------------------------------


def test_given_execution_json_then_the_model_is_typed_and_gives_back_the_json_it_was_read_from() -> None:
    data = execution(3, "running", [step("first", "completed"), step("second", "running")])

    model = Execution.from_json(data)

    assert model.started_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert model.progress.completed_steps == 1
    assert model.action_results is not None
    assert [each.status for each in model.action_results] == ["completed", "running"]
    assert model.get_action_result("second") is not None
    assert model.get_action_result("nope") is None
    assert model.etag == '"3"'
    assert model.to_json() == data


def test_given_fields_the_client_does_not_know_then_they_are_kept_in_extra_and_never_an_error() -> None:
    data = {**execution(1, "running"), "pausedBy": {"userId": "u1", "reason": "maintenance"}}

    model = Execution.from_json(data)

    assert model.extra == {"pausedBy": {"userId": "u1", "reason": "maintenance"}}
    assert model.to_json()["pausedBy"] == data["pausedBy"]


def test_given_an_answer_missing_a_required_field_then_the_client_raises_unexpected_response() -> None:
    broken = {key: value for key, value in execution(1, "running").items() if key != "status"}
    client, _ = client_answering(httpx.Response(200, json={"execution": broken}))

    with pytest.raises(UnexpectedResponse, match="status"):
        client.get_execution(WS, WF, EX)


# -- errors --------------------------------------------------------------------------------------


def test_given_the_error_envelope_then_the_exception_carries_its_status_code_message_and_details() -> None:
    details = [{"field": "actions.0.id", "message": "String should match pattern"}]
    client, _ = client_answering(error_response(422, "validation_error", "invalid workflow", details))

    with pytest.raises(ValidationError) as raised:
        client.put_workflow(WS, WF, {"name": "x", "actions": []})

    error = raised.value
    assert (error.status, error.code, error.message, error.details) == (
        422,
        "validation_error",
        "invalid workflow",
        details,
    )
    assert not error.transient
    assert error.one_line() == (
        "validation_error: invalid workflow (HTTP 422): actions.0.id: String should match pattern"
    )


@pytest.mark.parametrize(
    ("answer", "error_type", "code", "transient"),
    [
        (error_response(404, "not_found", "execution not found"), NotFoundError, "not_found", False),
        (error_response(409, "conflict", "already completed"), ConflictError, "conflict", False),
        (httpx.Response(502, text="<html>Bad gateway</html>"), ServerError, "http_502", True),
    ],
)
def test_given_an_error_status_then_its_exception_class_and_code_follow(
    answer: httpx.Response, error_type: type[ApiError], code: str, transient: bool
) -> None:
    client, _ = client_answering(answer)

    with pytest.raises(error_type) as raised:
        client.cancel_execution(WS, WF, EX)

    assert raised.value.code == code
    assert raised.value.transient is transient


def test_given_no_answer_at_all_then_a_network_error_names_the_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    client, _ = client_answering(refuse)

    with pytest.raises(
        NetworkError, match=r"cannot reach http://api.test/api/.*Connection refused"
    ) as raised:
        client.get_workflow(WS, WF)
    assert raised.value.transient


# -- requests ------------------------------------------------------------------------------------


def test_given_a_token_function_then_it_is_asked_on_every_request() -> None:
    tokens = iter(["one", "two"])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"execution": execution(1, "running")})

    client = Client("http://api.test", token=lambda: next(tokens), transport=httpx.MockTransport(handler))
    client.get_execution(WS, WF, EX)
    client.get_execution(WS, WF, EX)

    assert seen == ["Bearer one", "Bearer two"]


def test_given_start_with_input_and_key_then_the_body_and_idempotency_header_are_sent() -> None:
    client, seen = client_answering(httpx.Response(202, json={"execution": execution(1, "pending")}))

    started = client.start_execution(WS, WF, input={"order": 7}, idempotency_key="order-7")

    assert started.status == "pending"
    assert seen[0].method == "POST"
    assert seen[0].url.path == f"/api/workspaces/{WS}/workflows/{WF}/executions"
    assert seen[0].headers["idempotency-key"] == "order-7"
    assert json.loads(seen[0].content) == {"input": {"order": 7}}


def test_given_ids_with_reserved_characters_then_they_are_quoted_into_one_path_segment() -> None:
    client, seen = client_answering(error_response(404, "not_found", "nope"))

    with pytest.raises(NotFoundError):
        client.get_workflow("a/b", "c d")

    assert seen[0].url.raw_path == b"/api/workspaces/a%2Fb/workflows/c%20d"


def test_given_an_etag_then_a_304_reads_as_none_and_a_change_as_the_execution() -> None:
    api = FakeApi(execution(4, "running"), execution(4, "running"), execution(5, "completed"))
    client = api.client()

    first = client.get_execution(WS, WF, EX)
    unchanged = client.get_execution_if_changed(WS, WF, EX, first.etag)
    changed = client.get_execution_if_changed(WS, WF, EX, first.etag)

    assert unchanged is None
    assert changed is not None and changed.version == 5
    assert [request.headers.get("if-none-match") for request in api.of(BASE)] == [None, '"4"', '"4"']


def test_given_several_pages_then_the_iterator_follows_cursors_and_stops_at_the_limit() -> None:
    pages = {None: ["e1", "e2"], "c2": ["e3", "e4"], "c3": ["e5"]}
    following = {None: "c2", "c2": "c3", "c3": None}

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        ids = pages[cursor][: int(request.url.params["limit"])]
        items = [{**execution(1, "completed"), "id": each, "actionResults": None} for each in ids]
        return httpx.Response(200, json={"executions": items, "nextCursor": following[cursor]})

    client, seen = client_answering(handler)

    everything = [each.id for each in client.list_executions(WS, WF, page_size=2)]
    capped = [each.id for each in client.list_executions(WS, WF, status="failed", limit=3, page_size=2)]

    assert everything == ["e1", "e2", "e3", "e4", "e5"]
    assert capped == ["e1", "e2", "e3"]
    last = seen[-1].url.params
    # The last request asks only for what is left of the limit.
    assert (last["status"], last["limit"], last["cursor"]) == ("failed", "1", "c2")


def test_given_the_async_client_then_it_speaks_the_same_routes() -> None:
    api = FakeApi(execution(2, "running"))
    api.commands["/cancel"] = lambda request: httpx.Response(
        200, json={"execution": execution(3, "cancelled")}
    )

    async def scenario() -> tuple[Execution, Execution]:
        async with api.async_client() as client:
            return await client.get_execution(WS, WF, EX), await client.cancel_execution(WS, WF, EX)

    got, cancelled = asyncio.run(scenario())

    assert (got.version, cancelled.status) == (2, "cancelled")
    assert [request.url.path for request in api.requests] == [BASE, f"{BASE}/cancel"]


def test_given_a_refused_stream_then_the_error_carries_the_api_code() -> None:
    client, _ = client_answering(error_response(404, "not_found", "execution not found"))

    with pytest.raises(NotFoundError), client.stream_execution(WS, WF, EX) as events:
        list(events)


# -- SSE -----------------------------------------------------------------------------------------


def test_given_stream_events_then_they_parse_with_their_ids_and_the_retry_preamble() -> None:
    retry = parse_event(ServerSentEvent(retry=3000))
    snapshot = parse_event(ServerSentEvent("snapshot", json.dumps({"execution": {"id": EX}}), "7"))

    assert (retry.carries_data, retry.retry) == (False, 3000)
    assert (snapshot.event, snapshot.id, snapshot.data) == ("snapshot", 7, {"execution": {"id": EX}})
    with pytest.raises(UnexpectedResponse):
        parse_event(ServerSentEvent("update", "{not json", "8"))


def test_given_an_update_then_changed_steps_replace_held_ones_and_every_field_is_the_update_s() -> None:
    held = execution(3, "running", [step("first", "running"), step("second")], error=None)
    newer = execution(4, "failed", [step("first", "completed"), step("second", "failed")], error="boom")

    merged = apply_update(held, update_of(newer, "second"))

    assert merged["version"] == 4
    assert merged["status"] == "failed"
    assert merged["error"] == "boom"
    assert [each["status"] for each in merged["actionResults"]] == ["running", "failed"]  # only what changed
    assert "changedActionResults" not in merged
    assert held["version"] == 3  # the held copy is not modified


def test_given_an_update_with_a_step_not_held_then_it_is_appended() -> None:
    held = execution(1, "running", [step("first", "running")])
    newer = execution(2, "running", [step("first", "running"), step("later", "pending")])

    merged = apply_update(held, update_of(newer, "later"))

    assert [each["actionId"] for each in merged["actionResults"]] == ["first", "later"]
