"""CORS in the handlers, the SSE app and the preflight function (DESIGN "CORS"): headers for a
listed origin, none for any other, and never twice when layers stack (the local gateway)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from execution_monitor import cors
from execution_monitor.settings import CorsSettings, reset_settings
from get_openapi import handler as get_openapi
from preflight import handler as preflight
from put_workflow import handler as put_workflow
from tests.helpers import LambdaContext, api_event, call

LISTED = "https://app.example.test"
ALSO_LISTED = "http://localhost:3000"
UNLISTED = "https://evil.example.test"


@pytest.fixture(autouse=True)
def _origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", f" {LISTED}/, {ALSO_LISTED} ,, ")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing here reaches AWS
    monkeypatch.setenv("TABLE_NAME", "unused")
    reset_settings()


def assert_cors_for(headers: dict[str, str], origin: str) -> None:
    assert headers["access-control-allow-origin"] == origin
    assert headers["access-control-expose-headers"] == "ETag"
    assert "Origin" in [part.strip() for part in headers["vary"].split(",")]


def test_given_a_comma_separated_setting_then_each_origin_counts_once_without_trailing_slash() -> None:
    assert CorsSettings.load().allowed_origins == {LISTED, ALSO_LISTED}
    assert CorsSettings.model_validate({}).allowed_origins == frozenset()
    assert CorsSettings.model_validate({"ALLOWED_ORIGINS": ""}).allowed_origins == frozenset()


@pytest.mark.parametrize("origin", [LISTED, ALSO_LISTED])
def test_given_a_listed_origin_when_a_handler_answers_then_it_echoes_that_origin(origin: str) -> None:
    status, headers, _ = call(get_openapi, api_event("GET", "/api/openapi.json", headers={"origin": origin}))

    assert status == 200
    assert_cors_for(headers, origin)


def test_given_a_listed_origin_when_the_guards_refuse_the_request_then_the_error_carries_cors() -> None:
    event = api_event("PUT", "/api/workspaces/ws1/workflows/wf1", body="{", headers={"Origin": LISTED})

    status, headers, _ = call(put_workflow, event)

    assert status == 400
    assert_cors_for(headers, LISTED)


def test_given_a_stranger_to_the_workspace_then_its_404_carries_cors_too() -> None:
    event = api_event("PUT", "/api/workspaces/ws1/workflows/wf1", workspaces=(), headers={"Origin": LISTED})

    status, headers, _ = call(put_workflow, event)

    assert status == 404
    assert_cors_for(headers, LISTED)


@pytest.mark.parametrize("origin", [UNLISTED, None, f"{LISTED}.evil.test", "null"])
def test_given_an_unlisted_or_no_origin_then_the_answer_has_no_cors_header(origin: str | None) -> None:
    headers = {"Origin": origin} if origin else {}
    _, answer, _ = call(get_openapi, api_event("GET", "/api/openapi.json", headers=headers))

    assert not [name for name in answer if name.startswith("access-control-")]


def test_given_no_allowed_origins_then_nothing_is_added(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLOWED_ORIGINS")
    reset_settings()

    _, headers, _ = call(get_openapi, api_event("GET", "/api/openapi.json", headers={"Origin": LISTED}))

    assert "access-control-allow-origin" not in headers


def test_given_a_response_that_varies_already_then_origin_joins_its_vary() -> None:
    response = {"statusCode": 200, "multiValueHeaders": {"Vary": ["Accept-Encoding"]}, "body": ""}

    answered = cors.with_cors(response, {"origin": LISTED})

    assert answered["multiValueHeaders"]["Vary"] == ["Accept-Encoding, Origin"]
    assert answered["headers"]["Access-Control-Allow-Origin"] == LISTED


def test_given_a_response_that_answers_cors_itself_then_nothing_is_changed() -> None:
    existing = {"Access-Control-Allow-Origin": LISTED, "Vary": "Origin"}

    assert cors.missing(existing, cors.response_headers(LISTED, frozenset({LISTED}))) == {}


# -- the preflight function (API Gateway's OPTIONS methods) ---------------------------------------


def preflight_event(origin: str | None) -> dict[str, Any]:
    headers = {"Access-Control-Request-Method": "POST", **({"origin": origin} if origin else {})}
    return {"httpMethod": "OPTIONS", "resource": "/api/x", "headers": headers, "requestContext": {}}


def test_given_a_listed_origin_when_it_preflights_then_204_with_methods_headers_and_max_age() -> None:
    response = preflight.lambda_handler(preflight_event(ALSO_LISTED), LambdaContext())

    headers = {name.lower(): value for name, value in response["headers"].items()}
    assert response["statusCode"] == 204
    assert_cors_for(headers, ALSO_LISTED)
    assert "POST" in headers["access-control-allow-methods"]
    allowed = {name.strip() for name in headers["access-control-allow-headers"].split(",")}
    assert allowed == set(cors.ALLOWED_HEADERS)
    assert int(headers["access-control-max-age"]) > 0


@pytest.mark.parametrize("origin", [UNLISTED, None])
def test_given_an_unlisted_origin_when_it_preflights_then_403_without_cors(origin: str | None) -> None:
    response = preflight.lambda_handler(preflight_event(origin), LambdaContext())

    assert response["statusCode"] == 403
    assert not [name for name in response["headers"] if name.lower().startswith("access-control-")]


# -- the ASGI middleware (the SSE app; the local gateway with preflights) ------------------------


def run_asgi(
    app: Any, method: str, headers: dict[str, str], path: str = "/"
) -> tuple[int, list[tuple[bytes, bytes]]]:
    """One request through an ASGI app: the status and raw headers it starts its answer with."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], sent[0]["headers"]


async def stream_app(scope: Any, receive: Any, send: Any) -> None:
    headers = [(b"content-type", b"text/event-stream"), (b"vary", b"Accept")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def test_given_a_listed_origin_then_the_asgi_answer_gets_cors_and_keeps_its_own_headers() -> None:
    status, raw = run_asgi(cors.CorsMiddleware(stream_app), "GET", {"Origin": LISTED})

    headers = {name.decode(): value.decode() for name, value in raw}
    assert status == 200
    assert headers["content-type"] == "text/event-stream"
    assert headers["vary"] == "Accept, Origin"
    assert_cors_for(headers, LISTED)


def test_given_stacked_middlewares_then_each_cors_header_appears_once() -> None:
    twice = cors.CorsMiddleware(cors.CorsMiddleware(stream_app))

    _, raw = run_asgi(twice, "GET", {"Origin": LISTED})

    names = [name.decode() for name, _ in raw]
    assert names.count("access-control-allow-origin") == 1
    assert names.count("vary") == 1


def test_given_an_unlisted_origin_then_the_asgi_answer_is_untouched() -> None:
    _, raw = run_asgi(cors.CorsMiddleware(stream_app), "GET", {"Origin": UNLISTED})

    assert raw == [(b"content-type", b"text/event-stream"), (b"vary", b"Accept")]


def test_given_preflights_answered_then_a_listed_origin_gets_204_before_the_app() -> None:
    middleware = cors.CorsMiddleware(stream_app, answer_preflights=True)
    preflight_headers = {"Origin": LISTED, "Access-Control-Request-Method": "PUT"}

    status, raw = run_asgi(middleware, "OPTIONS", preflight_headers)

    assert status == 204
    assert (b"access-control-allow-origin", LISTED.encode()) in raw


def test_given_the_sse_app_without_preflights_then_options_reaches_the_app() -> None:
    status, _ = run_asgi(
        cors.CorsMiddleware(stream_app), "OPTIONS", {"Origin": LISTED, "Access-Control-Request-Method": "GET"}
    )

    assert status == 200


def test_given_a_listed_origin_then_the_sse_apps_own_refusal_carries_cors() -> None:
    from stream_execution.app import create_app  # reads TABLE_NAME at import (set above)

    stream = "/api/workspaces/ws1/workflows/wf1/executions/exec_1/stream"
    app = create_app(source=lambda: pytest.fail("a refused request reads nothing"))

    # No authorizer context (x-amzn-request-context): the app itself refuses with 401.
    status, raw = run_asgi(app, "GET", {"Origin": LISTED}, path=stream)

    headers = {name.decode(): value.decode() for name, value in raw}
    assert status == 401
    assert_cors_for(headers, LISTED)
