"""The gateway's translation HTTP <-> API Gateway events, in-process with fake functions.

The other e2e tests run the real handlers over HTTP; these pin down the event and response shapes
that make those handlers believe they run behind API Gateway.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from infrastructure.local import gateway
from infrastructure.local.gateway import Gateway, Handler
from infrastructure.routes import AUTHORIZER_FUNCTION, Route

pytestmark = pytest.mark.xdist_group("e2e")

ROUTES = (
    Route("GET", "/open", "echo", authorized=False),
    Route("POST", "/items/{itemId}", "echo"),
    Route("GET", "/items/{itemId}/stream", "streamer", streaming=True),
    Route("GET", "/boom", "boom", authorized=False),
    Route("GET", "/binary", "binary", authorized=False),
)
CONTEXT = {"sub": "user-1", "workspaces": "a,b"}


def _authorize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token = (event["headers"] or {}).get("authorization", "")
    if token == "Bearer crash":
        raise ValueError("a bug in the authorizer")
    if token not in ("Bearer good", "Bearer deny"):
        raise Exception("Unauthorized")  # the exact contract with API Gateway
    effect = "Allow" if token == "Bearer good" else "Deny"
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": "arn:aws:execute-api:*"}
    return {"principalId": "user-1", "policyDocument": {"Statement": [statement]}, "context": CONTEXT}


def _echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    assert context.get_remaining_time_in_millis() > 0
    return {
        "statusCode": 201,
        "headers": {"X-Function": context.function_name},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps(event),
        "isBase64Encoded": False,
    }


def _boom(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("unhandled")


def _binary(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = base64.b64encode(b"\x00\xff").decode()
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": body,
        "isBase64Encoded": True,
    }


async def _streamer(scope: Scope, receive: Receive, send: Send) -> None:
    headers = {name.decode(): value.decode() for name, value in scope["headers"]}
    await JSONResponse(
        {
            "requestContext": json.loads(headers["x-amzn-request-context"]),
            "lambdaContext": json.loads(headers["x-amzn-lambda-context"]),
        }
    )(scope, receive, send)


FUNCTIONS: dict[str, Handler] = {
    AUTHORIZER_FUNCTION: _authorize,
    "echo": _echo,
    "boom": _boom,
    "binary": _binary,
}


class Client:
    """Sync calls into an ASGI app through httpx (no server, no port)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                return await client.request(method, url, **options)

        return asyncio.run(send())

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)

    def delete(self, url: str, **options: Any) -> httpx.Response:
        return self.request("DELETE", url, **options)


@pytest.fixture
def client() -> Client:
    return Client(Gateway(ROUTES, load=FUNCTIONS.__getitem__, load_streaming=lambda _: _streamer))


def test_given_an_authorized_post_when_it_is_routed_then_the_event_is_api_gateways(client: Client) -> None:
    response = client.post(
        "/items/a%20b?x=1&x=2&y=", content=b'{"k": "v"}', headers={"Authorization": "Bearer good"}
    )

    event = response.json()
    assert event["resource"] == "/items/{itemId}"
    assert event["path"] == "/items/a%20b"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"itemId": "a b"}
    assert event["queryStringParameters"] == {"x": "2", "y": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [""]}
    assert event["headers"]["authorization"] == "Bearer good"
    assert event["multiValueHeaders"]["authorization"] == ["Bearer good"]
    assert event["stageVariables"] is None
    assert event["body"] == '{"k": "v"}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["authorizer"] == {**CONTEXT, "principalId": "user-1"}
    assert context["resourcePath"] == "/items/{itemId}"
    assert context["stage"] == "local"
    assert context["httpMethod"] == "POST"
    assert context["requestId"] == response.headers["x-amzn-requestid"]
    assert isinstance(context["requestTimeEpoch"], int)


def test_given_an_open_route_without_query_or_body_when_routed_then_those_fields_are_null(
    client: Client,
) -> None:
    event = client.get("/open").json()

    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None
    assert event["requestContext"]["authorizer"] is None


def test_given_a_body_that_is_not_utf8_when_routed_then_it_arrives_base64_encoded(client: Client) -> None:
    event = client.post("/items/x", content=b"\xff\xfe\x00", headers={"Authorization": "Bearer good"}).json()

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe\x00"


def test_given_a_proxy_response_when_returned_then_status_headers_and_cookies_are_kept(
    client: Client,
) -> None:
    response = client.get("/open")

    assert response.status_code == 201
    assert response.headers["x-function"] == "echo"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["content-type"] == "application/json"  # API Gateway's default


def test_given_a_base64_proxy_response_when_returned_then_the_bytes_are_sent(client: Client) -> None:
    response = client.get("/binary")

    assert response.content == b"\x00\xff"
    assert response.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("authorization", "status", "code"),
    [
        (None, 401, "unauthorized"),
        ("Bearer nope", 401, "unauthorized"),
        ("Bearer deny", 403, "forbidden"),
        ("Bearer crash", 500, "internal_error"),
    ],
)
def test_given_an_authorizer_outcome_when_a_protected_route_is_called_then_the_gateway_answers(
    client: Client, authorization: str | None, status: int, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = client.post("/items/x", headers=headers)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_given_a_function_that_raises_when_called_then_it_is_a_502_without_a_trace(client: Client) -> None:
    response = client.get("/boom")

    assert response.status_code == 502
    assert response.json() == {"error": {"code": "internal_error", "message": "Internal server error"}}


def test_given_unrouted_requests_when_sent_then_404_and_405_are_json(client: Client) -> None:
    assert client.get("/nowhere").status_code == 404
    wrong_method = client.delete("/items/x")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"


def test_given_a_body_over_the_limit_when_sent_then_it_is_a_413(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway, "MAX_BODY_BYTES", 8)

    response = client.post("/items/x", content=b"0123456789", headers={"Authorization": "Bearer good"})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_given_a_streaming_route_when_called_then_the_app_gets_the_adapter_headers_not_the_clients(
    client: Client,
) -> None:
    response = client.get(
        "/items/x/stream",
        headers={
            "Authorization": "Bearer good",
            "x-amzn-request-context": '{"authorizer": {"sub": "forged"}}',
        },
    )

    assert response.status_code == 200
    forwarded = response.json()
    assert forwarded["requestContext"]["authorizer"] == {**CONTEXT, "principalId": "user-1"}
    assert forwarded["requestContext"]["resourcePath"] == "/items/{itemId}/stream"
    assert forwarded["lambdaContext"]["deadline"] > 0


def test_given_the_runtime_is_starting_when_health_is_requested_then_it_is_a_503() -> None:
    client = Client(Gateway(ROUTES, load=FUNCTIONS.__getitem__, is_ready=lambda: False))

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json() == {"status": "starting"}
