"""HTTP plumbing shared by every API handler: the resolver, request guards and the one error mapping."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from execution_monitor.actions.delay import DelayAction
from execution_monitor.actions.http_request import HttpRequestAction
from execution_monitor.actions.send_message import SendMessageAction
from execution_monitor.api_model import ApiModel
from execution_monitor.auth import principal_from_authorizer, require_member
from execution_monitor.errors import BadRequest, DomainError, NotFound, PayloadTooLarge, ValidationFailed
from execution_monitor.models import ErrorDetail, ErrorEnvelope, Execution, ExecutionEnvelope
from execution_monitor.observability import logger, tracer
from execution_monitor.settings import get_settings

JSON = content_types.APPLICATION_JSON
FINAL_CACHE_CONTROL = "private, max-age=3600"
# Discriminator tags pydantic inserts into error locations; clients know the field, not the tag.
_UNION_TAGS = {
    model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for model in (SendMessageAction, HttpRequestAction, DelayAction)
}


def error_body(error: DomainError) -> str:
    detail = ErrorDetail(code=error.code, message=error.message, details=error.details or None)
    return ErrorEnvelope(error=detail).model_dump_json(exclude_none=True)


def error_response(error: DomainError) -> Response[str]:
    return Response(status_code=error.status_code, content_type=JSON, body=error_body(error))


def json_response(status_code: int, body: ApiModel, headers: dict[str, str] | None = None) -> Response[Any]:
    """A JSON response whose model Powertools validates against the route's declared type."""
    return Response(status_code=status_code, content_type=JSON, body=body, headers=headers)


def _location(raw: tuple[Any, ...]) -> list[Any]:
    return [part for index, part in enumerate(raw) if not (index and part in _UNION_TAGS)]


def validation_error(error: RequestValidationError) -> DomainError:
    problems = error.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return BadRequest("the request body is not valid JSON")
    details = []
    for problem in problems:
        location = _location(tuple(problem.get("loc", ())))
        if problem.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            location.append("type")
        details.append({"loc": location, "msg": problem.get("msg", "invalid"), "type": problem.get("type")})
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    field = ".".join(str(part) for part in first["loc"][1:]) or str(first["loc"][0] if first["loc"] else "")
    return ValidationFailed(f"{field}: {first['msg']}" if field else str(first["msg"]), details=details)


def create_resolver(*routers: Router) -> APIGatewayRestResolver:
    """A validating resolver with the routes given and the one error mapping of the API."""
    app = APIGatewayRestResolver(enable_validation=True)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response[str]:
        return error_response(validation_error(error))

    @app.exception_handler(DomainError)
    def _domain_error(error: DomainError) -> Response[str]:
        return error_response(error)

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        return error_response(NotFound("no such route"))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return error_response(DomainError("internal error"))

    return app


def _body_bytes(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    return len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())


def guard_request(event: dict[str, Any]) -> None:
    """Checks done before any parsing: body size, and that the caller belongs to the path's workspace."""
    limit = get_settings().max_request_bytes
    if _body_bytes(event) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    workspace_id = (event.get("pathParameters") or {}).get("workspaceId")
    if workspace_id is not None:
        principal = principal_from_authorizer((event.get("requestContext") or {}).get("authorizer"))
        require_member(principal, workspace_id)


LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def api_handler(*routers: Router) -> LambdaHandler:
    """The Lambda entry point of an API function: guards, then the validating resolver."""
    app = create_resolver(*routers)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return serve(app, event, context)

    return lambda_handler


def serve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        guard_request(event)
    except DomainError as error:
        return {
            "statusCode": error.status_code,
            "headers": {"Content-Type": JSON},
            "body": error_body(error),
            "isBase64Encoded": False,
        }
    return app.resolve(event, context)


def etag(version: int) -> str:
    return f'"{version}"'


def _matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return "*" in candidates or tag in candidates


def execution_response(execution: Execution, if_none_match: str | None = None) -> Response[str]:
    """200 with ETag = version, or 304 when the client already has this version."""
    tag = etag(execution.version)
    # Only a completed execution is final: a failed or cancelled one can still be retried (retriedBy)
    # or resumed (retry-step), so like anything in flight it must revalidate (cheap: ETag/304).
    cache = FINAL_CACHE_CONTROL if execution.status == "completed" else "no-cache"
    headers = {"ETag": tag, "Cache-Control": cache}
    if _matches(if_none_match, tag):
        return Response(status_code=304, headers=headers, body="")
    # A 304 has no body, so this route declares its responses instead of a validated return type.
    return Response(
        status_code=200,
        content_type=JSON,
        body=json.dumps(ExecutionEnvelope(execution=execution).to_json_dict()),
        headers=headers,
    )
