"""HTTP plumbing shared by every API handler: request guards, the resolver, the one error mapping,
the documented responses, and the execution response with its ETag."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from execution_monitor import cors, jsonvalues
from execution_monitor.actions.definitions import ACTION_TYPES
from execution_monitor.api_model import ApiModel
from execution_monitor.domain.execution import ExecutionState, StepState
from execution_monitor.errors import (
    BadRequest,
    DomainError,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from execution_monitor.membership import principal_from_authorizer, require_member
from execution_monitor.models import ErrorEnvelope, ExecutionEnvelope
from execution_monitor.observability import instrumented, logger
from execution_monitor.settings import ApiSettings, Settings
from execution_monitor.views import execution_view

JSON = content_types.APPLICATION_JSON
FINAL_CACHE_CONTROL = "private, max-age=3600"
_JSON_MEDIA_TYPE = re.compile(r"^application/([\w.+-]+\+)?json$")

# What each error status means, for the OpenAPI document (every route lists those it can answer).
ERROR_STATUSES: dict[int, str] = {
    400: "The body is not valid JSON or not UTF-8",
    401: "A valid bearer token is required",
    404: "No such resource in a workspace the caller belongs to",
    409: "The execution's state does not allow this",
    413: "The request body is too large",
    415: "The body is not JSON (send Content-Type: application/json)",
    422: "A field is invalid; `details` names each one",
}
# Every authorized route: the authorizer (401), the guards (400, 404, 413, 415) and validation (422).
COMMON_ERRORS = (400, 401, 404, 413, 415, 422)


def documented(
    success: int, model: type[BaseModel], *errors: int, not_modified: bool = False
) -> dict[int, OpenAPIResponse]:
    """The `responses=` of a route: its success and model, the common errors, the route's own (409),
    and 304 if it answers one. (Given `responses`, Powertools documents only those.)"""
    responses: dict[int, OpenAPIResponse] = {
        success: {"description": "Success", "content": {JSON: {"model": model}}},
    }
    if not_modified:
        responses[304] = {"description": "Not modified since the ETag given in If-None-Match"}
    for status in sorted({*COMMON_ERRORS, *errors}):
        responses[status] = {
            "description": ERROR_STATUSES[status],
            "content": {JSON: {"model": ErrorEnvelope}},
        }
    return responses


def error_response(error: DomainError) -> Response[str]:
    return Response(status_code=error.status_code, content_type=JSON, body=error.body())


def json_response(status_code: int, body: ApiModel, headers: dict[str, str] | None = None) -> Response[Any]:
    """A JSON response whose model Powertools validates against the route's declared type."""
    return Response(status_code=status_code, content_type=JSON, body=body, headers=headers)


def _location(raw: tuple[Any, ...]) -> list[Any]:
    # Discriminator tags pydantic inserts into error locations; clients know the field, not the tag.
    return [part for index, part in enumerate(raw) if not (index and part in ACTION_TYPES)]


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


# -- guards: before any parsing ------------------------------------------------------------------


def _body_text(event: dict[str, Any], limit: int) -> str | None:
    """The body as text: size-checked, base64-decoded when API Gateway encoded it, strict UTF-8."""
    body = event.get("body")
    if not body:
        return None
    if event.get("isBase64Encoded"):
        if len(body) * 3 // 4 > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise BadRequest("the request body is not valid base64") from error
    else:
        raw = body.encode()
    if len(raw) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest("the request body is not valid UTF-8 (JSON is UTF-8)") from error


def _check_json(event: dict[str, Any], text: str) -> None:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    media_type = (headers.get("content-type") or "application/json").split(";", 1)[0].strip().lower()
    if not _JSON_MEDIA_TYPE.match(media_type):
        raise UnsupportedMediaType(f"bodies are JSON: send Content-Type: application/json, not {media_type}")
    try:
        value = jsonvalues.loads(text)
    except jsonvalues.JsonRefused as error:
        raise ValidationFailed(str(error), details=[{"loc": ["body"], "msg": str(error)}]) from error
    except ValueError as error:
        raise BadRequest("the request body is not valid JSON") from error
    if value is not None and not isinstance(value, dict):
        # Every body this API takes is an object; the resolver would read `[null]` as no body.
        message = "the request body must be a JSON object"
        raise ValidationFailed(message, details=[{"loc": ["body"], "msg": message}])


def _decoded_path(event: dict[str, Any]) -> str | None:
    """The path with the decoded path parameters, as API Gateway matched it (`%77f` is `wf`)."""
    resource, parameters = event.get("resource"), event.get("pathParameters") or {}
    if not resource or not parameters:
        return None
    return re.sub(
        r"\{(\w+)\+?\}", lambda match: str(parameters.get(match.group(1), match.group(0))), resource
    )


def guard_request(event: dict[str, Any]) -> dict[str, Any]:
    """Checks made before the resolver parses anything; returns the event the resolver should see
    (a decoded body, the decoded path). The caller must belong to the path's workspace."""
    text = _body_text(event, ApiSettings.load().max_request_bytes)
    workspace_id = (event.get("pathParameters") or {}).get("workspaceId")
    if workspace_id is not None:
        principal = principal_from_authorizer((event.get("requestContext") or {}).get("authorizer"))
        require_member(principal, workspace_id)
    if text is not None:
        _check_json(event, text)
    path = _decoded_path(event)
    return {
        **event,
        **({"body": text, "isBase64Encoded": False} if text is not None else {}),
        **({"path": path} if path else {}),
    }


LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def api_handler(*routers: Router, settings: tuple[type[Settings], ...] = ()) -> LambdaHandler:
    """The Lambda entry point of an API function: validates the function's settings now (a missing
    variable fails the cold start, naming it), then guards and the validating resolver per request."""
    needed: tuple[type[Settings], ...] = (ApiSettings, *settings)
    for kind in needed:
        kind.load()
    app = create_resolver(*routers)

    @instrumented
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        correlate(event)
        return serve(app, event, context)

    return lambda_handler


def correlate(event: dict[str, Any]) -> None:
    """Every log line of this request names what it is about (the path's ids; the logger drops
    those absent, so none leaks from the previous request) and API Gateway's request id."""
    params = event.get("pathParameters") or {}
    logger.append_keys(
        workspace_id=params.get("workspaceId"),
        workflow_id=params.get("workflowId"),
        execution_id=params.get("executionId"),
    )
    logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))


def serve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Every answer, refused or resolved, with the CORS headers its origin gets (DESIGN "CORS")."""
    try:
        guarded = guard_request(event)
    except DomainError as error:
        response = {
            "statusCode": error.status_code,
            "headers": {"Content-Type": JSON},
            "body": error.body(),
            "isBase64Encoded": False,
        }
    else:
        response = app.resolve(guarded, context)
    return cors.with_cors(response, event.get("headers"))


# -- the execution response ----------------------------------------------------------------------


def etag(version: int) -> str:
    return f'"{version}"'


def _matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return "*" in candidates or tag in candidates


def execution_response(
    execution: ExecutionState, steps: list[StepState], if_none_match: str | None = None
) -> Response[str]:
    """200 with ETag = version, or 304 (no body, no content type) when the client has this version."""
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
        body=json.dumps(ExecutionEnvelope(execution=execution_view(execution, steps)).to_json_dict()),
        headers=headers,
    )
