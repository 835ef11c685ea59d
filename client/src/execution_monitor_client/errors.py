"""Errors as exceptions: the API's `{"error": {"code", "message", "details"}}` becomes an ApiError.

ExecutionMonitorError
├── ApiError (status, code, message, details)
│   ├── BadRequestError 400 · AuthenticationError 401 · PermissionDeniedError 403
│   ├── NotFoundError 404 · ConflictError 409 · PayloadTooLargeError 413
│   ├── ValidationError 422 · RateLimitError 429 · ServerError 5xx
├── NetworkError        the request never got an HTTP answer (refused, reset, timed out)
└── UnexpectedResponse  an answer that does not follow the contract (not JSON, wrong shape)
"""

from __future__ import annotations

import json
from typing import Any

import httpx


class ExecutionMonitorError(Exception):
    """Base of every error this client raises."""

    @property
    def transient(self) -> bool:
        """Whether trying again later may succeed (a watcher keeps going through these)."""
        return False


class ApiError(ExecutionMonitorError):
    def __init__(
        self, status: int, code: str, message: str, details: list[Any] | None = None, *, request_id: str = ""
    ) -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.request_id = request_id

    @property
    def transient(self) -> bool:
        return self.status == 429 or self.status >= 500

    def one_line(self) -> str:
        """The error on one line, details included (what the CLI prints)."""
        text = f"{self.code}: {self.message} (HTTP {self.status})"
        if self.details:
            text += ": " + "; ".join(_detail_text(detail) for detail in self.details)
        return " ".join(text.split())

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        code, message, details = f"http_{response.status_code}", response.reason_phrase, None
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        envelope = body.get("error") if isinstance(body, dict) else None
        if isinstance(envelope, dict):
            code = str(envelope.get("code") or code)
            message = str(envelope.get("message") or message)
            details = envelope.get("details") if isinstance(envelope.get("details"), list) else None
        error_class = _BY_STATUS.get(
            response.status_code, ServerError if response.status_code >= 500 else cls
        )
        request_id = response.headers.get("x-amzn-requestid") or response.headers.get("x-request-id") or ""
        return error_class(response.status_code, code, message, details, request_id=request_id)


def _detail_text(detail: Any) -> str:
    if isinstance(detail, dict) and "message" in detail:
        where = detail.get("field") or ".".join(str(part) for part in detail.get("loc", []) or [])
        return f"{where}: {detail['message']}" if where else str(detail["message"])
    return json.dumps(detail, separators=(",", ":"))


class BadRequestError(ApiError):
    pass


class AuthenticationError(ApiError):
    pass


class PermissionDeniedError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class ConflictError(ApiError):
    pass


class PayloadTooLargeError(ApiError):
    pass


class ValidationError(ApiError):
    pass


class RateLimitError(ApiError):
    pass


class ServerError(ApiError):
    pass


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitError,
}


class NetworkError(ExecutionMonitorError):
    """No HTTP answer: connection refused or reset, DNS failure, timeout."""

    @property
    def transient(self) -> bool:
        return True


class UnexpectedResponse(ExecutionMonitorError):
    """An answer that does not follow the contract (not JSON, missing fields)."""

    @property
    def transient(self) -> bool:
        # A proxy's HTML error page or a truncated body: the next try usually gets the real thing.
        return True
