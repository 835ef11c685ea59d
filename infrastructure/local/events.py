"""What API Gateway (REST, Lambda proxy integration) hands to Lambda, built from a local request.

Shapes follow the payload format 1.0 events API Gateway sends: handlers cannot tell the difference,
so the code under test locally is the code that runs in AWS.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from infrastructure.local.aws import ACCOUNT_ID, REGION

API_ID = "local"
STAGE = "local"
API_TIMEOUT_MS = 29_000  # API Gateway's integration timeout for non-streaming routes
STREAM_TIMEOUT_MS = 15 * 60_000


@dataclass(frozen=True)
class HttpRequest:
    """The parts of an HTTP request an event is made of (raw path: API Gateway keeps it encoded)."""

    method: str
    path: str
    query_string: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str


def _single_and_multi(
    pairs: list[tuple[str, str]],
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    # API Gateway: the single-value map keeps the last value; the multi-value map keeps them all;
    # both are null when there is nothing.
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


def _body(raw: bytes) -> tuple[str | None, bool]:
    """API Gateway passes text as is and base64-encodes what is not valid UTF-8."""
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def request_context(
    request: HttpRequest, resource: str, request_id: str, authorizer: dict[str, Any] | None
) -> dict[str, Any]:
    now = time.time()
    return {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "stage": STAGE,
        "requestId": request_id,
        "extendedRequestId": request_id,
        "resourceId": resource,
        "resourcePath": resource,
        "httpMethod": request.method,
        "path": f"/{STAGE}{request.path}",
        "protocol": "HTTP/1.1",
        "domainName": "127.0.0.1",
        "identity": {"sourceIp": request.source_ip, "userAgent": _header(request, "user-agent")},
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000),
        "authorizer": authorizer,
    }


def _header(request: HttpRequest, name: str) -> str | None:
    return next((value for key, value in reversed(request.headers) if key.lower() == name), None)


def method_arn(request: HttpRequest) -> str:
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{STAGE}/{request.method}{request.path}"


def _common(request: HttpRequest, resource: str, path_parameters: dict[str, str]) -> dict[str, Any]:
    headers, multi_headers = _single_and_multi(request.headers)
    query, multi_query = _single_and_multi(parse_qsl(request.query_string, keep_blank_values=True))
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
    }


def authorizer_event(
    request: HttpRequest, resource: str, path_parameters: dict[str, str], request_id: str
) -> dict[str, Any]:
    """A REQUEST authorizer's input (identity sources unchecked: the authorizer decides)."""
    return {
        "type": "REQUEST",
        "methodArn": method_arn(request),
        **_common(request, resource, path_parameters),
        "requestContext": request_context(request, resource, request_id, authorizer=None),
    }


def proxy_event(
    request: HttpRequest,
    resource: str,
    path_parameters: dict[str, str],
    request_id: str,
    authorizer: dict[str, Any] | None,
) -> dict[str, Any]:
    body, is_base64 = _body(request.body)
    return {
        **_common(request, resource, path_parameters),
        "requestContext": request_context(request, resource, request_id, authorizer),
        "body": body,
        "isBase64Encoded": is_base64,
    }


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    function_name: str = "local-function"
    timeout_ms: int = API_TIMEOUT_MS
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)
    identity: Any = None
    client_context: Any = None

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.timeout_ms - int((time.monotonic() - self.started) * 1000))

    def web_adapter_header(self) -> dict[str, Any]:
        """The `x-amzn-lambda-context` JSON the Lambda Web Adapter gives a streaming app."""
        deadline = int(time.time() * 1000) + self.get_remaining_time_in_millis()
        return {
            "request_id": self.aws_request_id,
            # Adapter versions name the epoch-ms deadline differently; both are given.
            "deadline": deadline,
            "deadline_ms": deadline,
            "invoked_function_arn": self.invoked_function_arn,
            "xray_trace_id": None,
            "env_config": {
                "function_name": self.function_name,
                "memory": self.memory_limit_in_mb,
                "version": self.function_version,
                "log_stream": self.log_stream_name,
                "log_group": self.log_group_name,
            },
        }
