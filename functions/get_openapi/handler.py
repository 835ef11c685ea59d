"""GET /api/openapi.json: the committed document generated from the handlers' models (no auth)."""

from functools import lru_cache
from importlib import resources
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor.api import create_resolver, serve
from execution_monitor.observability import logger

router = Router()


@lru_cache(maxsize=1)
def _document() -> str:
    return resources.files("execution_monitor").joinpath("openapi.json").read_text()


@router.get("/api/openapi.json", summary="This API's OpenAPI document", include_in_schema=False)
def get_openapi() -> Response[str]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=_document(),
        headers={"Cache-Control": "public, max-age=300"},
    )


app = create_resolver(router)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(app, event, context)
