"""Builds the OpenAPI document from the handlers' own routes and models (`make openapi` writes it).

Powertools documents every validation error as its own HTTPValidationError; this API answers the
contract's error envelope for every error, so the builder points each error response at it. The
SSE route is a Starlette app, not a resolver route: it is described here.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import Server

from execution_monitor import paths
from execution_monitor.api import COMMON_ERRORS, ERROR_STATUSES, create_resolver
from infrastructure.routes import ROUTES

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "layers/common/python/execution_monitor/openapi.json"
BEARER = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
ERROR_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
# Handlers validate their settings when imported; the document does not depend on their values.
PLACEHOLDER_SETTINGS = {
    "TABLE_NAME": "openapi",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:000000000000:stateMachine:openapi",
    "JWT_JWKS_URL": "https://example.invalid/jwks.json",
    "EVENT_BUS_NAME": "openapi",
    "WEBHOOK_QUEUE_URL": "https://example.invalid/queue",
    "WEBHOOK_DLQ_URL": "https://example.invalid/dlq",
}


def _error_response(status: int) -> dict[str, Any]:
    return {"description": ERROR_STATUSES[status], "content": {"application/json": {"schema": ERROR_REF}}}


def _stream_operation() -> dict[str, Any]:
    def path_parameter(name: str) -> dict[str, Any]:
        return {
            "in": "path",
            "name": name,
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        }

    return {
        "summary": "Follow an execution live (Server-Sent Events: snapshot, update, end)",
        "operationId": "stream_execution",
        "parameters": [
            path_parameter("workspaceId"),
            path_parameter("workflowId"),
            path_parameter("executionId"),
            {
                "in": "header",
                "name": "last-event-id",
                "required": False,
                "schema": {"type": "string"},
                "description": "The id of the last event received: resume without a snapshot",
            },
            {
                "in": "query",
                "name": "access_token",
                "required": False,
                "schema": {"type": "string"},
                "description": "The bearer token for EventSource, which sends no headers (this route only)",
            },
        ],
        "responses": {
            "200": {
                "description": "The event stream (README: Live updates)",
                # One SSE event, as clients (and schemathesis) parse it: every field is text.
                "content": {"text/event-stream": {"schema": SSE_EVENT}},
            },
            **{str(status): _error_response(status) for status in (401, 404, 422)},
        },
    }


SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "the execution's version"},
        "event": {"type": "string", "enum": ["snapshot", "update", "end"]},
        "data": {"type": "string", "description": "JSON (README: Live updates)"},
        "retry": {"type": "integer"},
    },
}


def _use_error_envelope(document: dict[str, Any]) -> None:
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    response.update(_error_response(int(status)))
    schemas = document["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)


def build_document() -> str:
    for name, value in PLACEHOLDER_SETTINGS.items():
        os.environ.setdefault(name, value)
    routers = [
        importlib.import_module(f"{route.function}.handler").router for route in ROUTES if not route.streaming
    ]
    app = create_resolver(*routers)
    schema = app.get_openapi_json_schema(
        title="Workflow Execution Monitor API",
        version="1.0.0",
        description="Run multi-step workflows and watch and steer each execution live.",
        servers=[Server(url="/")],
        security_schemes=BEARER,  # type: ignore[arg-type]
        security=[{"bearerAuth": []}],
    )
    document = json.loads(schema)
    _use_error_envelope(document)
    document["paths"][paths.STREAM] = {"get": _stream_operation()}
    assert set(COMMON_ERRORS) <= set(ERROR_STATUSES)
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    DOCUMENT_PATH.write_text(build_document())
    print(f"wrote {DOCUMENT_PATH}")
