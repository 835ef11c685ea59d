"""The client's routes and models against the OpenAPI document the API serves: neither can drift."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from execution_monitor_client import Client
from execution_monitor_client.routes import GET_EXECUTION, OPENAPI, ROUTES, STREAM_EXECUTION
from tests.e2e.client_contract import operations, route_drift

pytestmark = pytest.mark.xdist_group("e2e")

# The only route the document does not describe is the document itself.
UNDESCRIBED = {OPENAPI}


@pytest.fixture(scope="module")
def document(base_url: str, token_for: Callable[..., str]) -> Iterator[dict[str, Any]]:
    with Client(base_url, token=token_for(["any"])) as client:
        yield client.openapi()


def test_given_the_served_document_then_the_client_speaks_every_operation_it_describes(
    document: dict[str, Any],
) -> None:
    ours = {(route.method, route.path) for route in ROUTES}

    assert set(operations(document)) - ours == set()


def test_given_the_served_document_then_every_client_route_is_described_in_it(
    document: dict[str, Any],
) -> None:
    expected = {(route.method, route.path) for route in ROUTES if route not in UNDESCRIBED}

    assert expected - set(operations(document)) == set()


def test_given_the_served_document_then_each_route_s_parameters_body_status_and_models_match_it(
    document: dict[str, Any],
) -> None:
    served = operations(document)

    drift = [
        difference
        for route in ROUTES
        if (route.method, route.path) in served
        for difference in route_drift(route, served[(route.method, route.path)], document)
    ]

    assert drift == []


def test_given_the_stream_route_then_it_is_the_one_the_runtime_routes_as_streaming() -> None:
    from infrastructure.routes import ROUTES as SERVER_ROUTES

    streaming = {(route.method, route.path) for route in SERVER_ROUTES if route.streaming}

    assert streaming == {(STREAM_EXECUTION.method, STREAM_EXECUTION.path)}


def test_given_a_document_that_moved_then_the_comparison_names_each_difference(
    document: dict[str, Any],
) -> None:
    moved = copy.deepcopy(document)
    execution = moved["components"]["schemas"]["Execution"]
    execution["properties"]["pausedBy"] = {"anyOf": [{"type": "object"}, {"type": "null"}]}
    execution["properties"]["version"] = {"type": "string"}
    execution["required"].remove("canRetry")
    moved["components"]["schemas"]["Progress"]["properties"].pop("percentage")
    operation = operations(moved)[(GET_EXECUTION.method, GET_EXECUTION.path)]
    operation["parameters"] = [each for each in operation["parameters"] if each["in"] != "header"]

    drift = route_drift(GET_EXECUTION, operation, moved)

    assert drift == [
        "GET /api/workspaces/{workspaceId}/workflows/{workflowId}/executions/{executionId}: "
        "headers [] != client ['if-none-match']",
        "Execution.pausedBy: in the document, not in the client",
        "Execution.canRetry: required is False in the document, True in the client",
        "Progress.percentage: in the client, not in the document",
        "Execution.version: ['string'] != client ['integer']",
    ]
