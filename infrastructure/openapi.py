"""Builds the OpenAPI document from the handlers' own routes and models (`make openapi` writes it)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from aws_lambda_powertools.event_handler.openapi.models import Server

from execution_monitor.api import create_resolver
from infrastructure.routes import ROUTES

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "layers/common/python/execution_monitor/openapi.json"
BEARER = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}


def build_document() -> str:
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
    return json.dumps(json.loads(schema), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    DOCUMENT_PATH.write_text(build_document())
    print(f"wrote {DOCUMENT_PATH}")
