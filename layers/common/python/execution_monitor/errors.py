"""Domain errors. Each carries its HTTP status and contract code; the error body is built here once,
for the API handlers, the SSE app, the local gateway and anything else that answers an error."""

from __future__ import annotations

import json
from typing import Any


def error_json(code: str, message: str, details: list[dict[str, Any]] | None = None) -> str:
    """The contract's error body: {"error": {"code", "message", "details"?}}."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return json.dumps({"error": error}, separators=(",", ":"), ensure_ascii=False)


class DomainError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> str:
        return error_json(self.code, self.message, self.details)


class BadRequest(DomainError):
    status_code = 400
    code = "bad_request"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    status_code = 415
    code = "unsupported_media_type"


class ValidationFailed(DomainError):
    status_code = 422
    code = "validation_error"
