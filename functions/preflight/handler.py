"""OPTIONS on every API route (DESIGN "CORS"): API Gateway sends browsers' preflights here, with no
authorizer in front. 204 with the allowed methods and headers for an origin in ALLOWED_ORIGINS,
403 without CORS headers for any other. Nothing else is imported: a preflight waits on a cold start."""

from typing import Any

from execution_monitor.cors import preflight_response


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return preflight_response(event.get("headers"))
