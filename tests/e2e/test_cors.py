"""CORS per DESIGN "CORS", on a local runtime started with ALLOWED_ORIGINS (a second runtime:
the shared e2e one runs without it, as `make dev` does by default)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from httpx_sse import connect_sse

from infrastructure.local.cors import ALLOWED_HEADERS, allowed_origins_from_env
from tests.browser.runtime import local_runtime
from tests.e2e.support import bearer, definition, delay_action, unique, workflow_path

pytestmark = pytest.mark.xdist_group("e2e")

LISTED = "http://app.example.test:3000"
ALSO_LISTED = "https://monitor.example.test"
UNLISTED = "https://evil.example.test"
CORS_HEADERS = (
    "access-control-allow-origin",
    "access-control-expose-headers",
    "access-control-allow-methods",
)


@pytest.fixture(scope="module")
def cors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    log = tmp_path_factory.mktemp("cors-runtime") / "output.log"
    with (
        local_runtime(log, ALLOWED_ORIGINS=f" {LISTED}, {ALSO_LISTED}/ ") as base_url,
        httpx.Client(base_url=base_url, timeout=30) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def execution_path(cors: httpx.Client, token_for: Callable[..., str]) -> tuple[str, str]:
    workspace_id = unique("ws")
    token = token_for([workspace_id])
    path = workflow_path(workspace_id, "cors")
    assert cors.put(path, json=definition(delay_action("wait", 0)), headers=bearer(token)).status_code == 200
    execution = cors.post(f"{path}/executions", headers=bearer(token)).json()["execution"]
    return f"{path}/executions/{execution['id']}", token


def preflight(client: httpx.Client, path: str, origin: str, method: str = "GET") -> httpx.Response:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )


def assert_cors_for(response: httpx.Response, origin: str) -> None:
    assert response.headers["access-control-allow-origin"] == origin
    assert "Origin" in [value.strip() for value in response.headers["vary"].split(",")]
    assert response.headers["access-control-expose-headers"] == "ETag"


def test_given_a_comma_separated_setting_then_each_origin_counts_without_blanks_or_trailing_slash() -> None:
    origins = allowed_origins_from_env({"ALLOWED_ORIGINS": " https://a.test/, http://b.test:8080 ,, "})

    assert origins == {"https://a.test", "http://b.test:8080"}
    assert allowed_origins_from_env({}) == frozenset()


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/workspaces/w/workflows/f", "PUT"),
        ("/api/workspaces/w/workflows/f/executions", "POST"),
        ("/api/workspaces/w/workflows/f/executions/e", "GET"),
        ("/api/workspaces/w/workflows/f/executions/e/stream", "GET"),
        ("/api/workspaces/w/workflows/f/executions/e/retry-step", "POST"),
        ("/api/openapi.json", "GET"),
    ],
)
def test_given_a_listed_origin_when_it_preflights_any_route_then_204_without_auth(
    cors: httpx.Client, path: str, method: str
) -> None:
    response = preflight(cors, path, LISTED, method)

    assert response.status_code == 204
    assert_cors_for(response, LISTED)
    assert method in response.headers["access-control-allow-methods"]
    allowed = {name.strip().lower() for name in response.headers["access-control-allow-headers"].split(",")}
    assert allowed == {name.lower() for name in ALLOWED_HEADERS}
    assert int(response.headers["access-control-max-age"]) > 0


def test_given_a_second_listed_origin_then_it_is_echoed_back_alone(cors: httpx.Client) -> None:
    response = preflight(cors, "/api/openapi.json", ALSO_LISTED)

    assert response.headers["access-control-allow-origin"] == ALSO_LISTED


def test_given_a_listed_origin_when_it_reads_an_execution_then_the_answer_carries_cors_and_exposes_etag(
    cors: httpx.Client, execution_path: tuple[str, str]
) -> None:
    path, token = execution_path

    response = cors.get(path, headers={"Origin": LISTED, **bearer(token)})

    assert response.status_code == 200
    assert_cors_for(response, LISTED)
    assert response.headers["etag"]


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/workspaces/w/workflows/f", {}, 401),  # the gateway's own 401: no token
        ("/api/nowhere", {}, 404),  # the gateway's own 404: no route
    ],
)
def test_given_a_listed_origin_when_the_gateway_refuses_then_the_error_still_carries_cors(
    cors: httpx.Client, path: str, headers: dict[str, str], status: int
) -> None:
    response = cors.get(path, headers={"Origin": LISTED, **headers})

    assert response.status_code == status
    assert_cors_for(response, LISTED)


def test_given_a_listed_origin_when_it_follows_the_stream_then_the_event_stream_carries_cors(
    cors: httpx.Client, execution_path: tuple[str, str]
) -> None:
    path, token = execution_path

    with connect_sse(
        cors, "GET", f"{path}/stream", params={"access_token": token}, headers={"Origin": LISTED}
    ) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        assert_cors_for(source.response, LISTED)


def test_given_an_unlisted_origin_then_neither_preflight_nor_answers_carry_cors(
    cors: httpx.Client, execution_path: tuple[str, str]
) -> None:
    path, token = execution_path

    answers = [
        preflight(cors, path, UNLISTED),
        cors.get(path, headers={"Origin": UNLISTED, **bearer(token)}),
        cors.get("/api/nowhere", headers={"Origin": UNLISTED}),
    ]

    assert answers[0].status_code != 204
    assert answers[1].status_code == 200  # the request itself is served; the browser withholds it
    for answer in answers:
        assert not [name for name in CORS_HEADERS if name in answer.headers]


def test_given_no_origin_then_no_cors_headers(cors: httpx.Client, execution_path: tuple[str, str]) -> None:
    path, token = execution_path

    response = cors.get(path, headers=bearer(token))

    assert "access-control-allow-origin" not in response.headers


def test_given_the_default_runtime_without_allowed_origins_then_a_preflight_gets_no_cors(
    http: httpx.Client,
) -> None:
    response = preflight(http, "/api/openapi.json", LISTED)

    assert "access-control-allow-origin" not in response.headers
