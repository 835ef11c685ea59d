"""The local runtime's Powertools patch: invocations on two threads at once, of one resolver or of
two, each see only their own request (event, parameters, context)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from infrastructure.local import lambda_isolation
from tests.helpers import LambdaContext


@pytest.fixture
def isolated() -> Iterator[None]:
    restore = lambda_isolation.install()
    yield
    restore()


def resolver(together: threading.Barrier) -> APIGatewayRestResolver:
    """GET /items/{item_id}: notes its own id in the context, waits for the other request, answers
    with what it then sees as its event, parameter and context."""
    app = APIGatewayRestResolver(enable_validation=True)

    @app.get("/items/<item_id>")
    def item(item_id: str) -> dict[str, Any]:
        app.append_context(mine=item_id)
        together.wait()
        return {"param": item_id, "path": app.current_event.path, "context": app.context["mine"]}

    return app


def event(item_id: str) -> dict[str, Any]:
    return {
        "httpMethod": "GET",
        "path": f"/items/{item_id}",
        "resource": "/items/{item_id}",
        "pathParameters": {"item_id": item_id},
        "headers": {},
        "requestContext": {"stage": "$default", "path": f"/items/{item_id}"},
        "body": None,
        "isBase64Encoded": False,
    }


CONTEXT: Any = LambdaContext()


def answers(apps: list[APIGatewayRestResolver]) -> list[dict[str, Any]]:
    ids = ["a", "b"]
    with ThreadPoolExecutor(2) as pool:
        running = [
            pool.submit(app.resolve, event(item_id), CONTEXT) for app, item_id in zip(apps, ids, strict=True)
        ]
        return [future.result() for future in running]


@pytest.mark.parametrize("functions", [1, 2], ids=["one-function", "two-functions"])
def test_given_two_requests_at_once_then_each_invocation_sees_only_its_own_request(
    isolated: None, functions: int
) -> None:
    # Given resolvers whose route waits until the other request is inside its route too
    together = threading.Barrier(2, timeout=10)
    first = resolver(together)
    apps = [first, first] if functions == 1 else [first, resolver(together)]
    # When two requests are resolved at the same time on two threads
    results = answers(apps)
    # Then each answered with its own event, parameter and context
    assert [result["statusCode"] for result in results] == [200, 200]
    assert [result["body"] for result in results] == [
        '{"param":"a","path":"/items/a","context":"a"}',
        '{"param":"b","path":"/items/b","context":"b"}',
    ]


def test_given_a_resolver_made_while_isolated_when_the_patch_is_removed_then_it_still_resolves() -> None:
    # Given a resolver (with a router included) created while the patch is installed
    restore = lambda_isolation.install()
    app = APIGatewayRestResolver(enable_validation=True)
    router = Router()

    @router.get("/items/<item_id>")
    def item(item_id: str) -> dict[str, str]:
        return {"param": item_id}

    app.include_router(router)
    # When the patch is removed
    restore()
    # Then the resolver answers as Powertools alone would
    assert app.resolve(event("a"), CONTEXT)["body"] == '{"param":"a"}'
