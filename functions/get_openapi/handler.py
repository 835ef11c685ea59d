"""GET /api/openapi.json: the committed document generated from the handlers' models (no auth)."""

from functools import cache
from importlib import resources

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor import paths
from execution_monitor.api import api_handler

router = Router()


@cache
def _document() -> str:
    return resources.files("execution_monitor").joinpath("openapi.json").read_text()


@router.get(paths.OPENAPI, summary="This API's OpenAPI document", include_in_schema=False)
def get_openapi() -> Response[str]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=_document(),
        headers={"Cache-Control": "public, max-age=300"},
    )


lambda_handler = api_handler(router)
