"""CORS for `make dev`, per DESIGN "CORS": browser clients on the origins in ALLOWED_ORIGINS.

The handlers and the SSE app add their own CORS headers (execution_monitor.cors), as in AWS. This
middleware wraps the whole gateway and plays API Gateway's part: it answers a listed origin's
preflight (OPTIONS with Access-Control-Request-Method) with 204 on any path, without auth, and adds
the headers an answer lacks, so the gateway's own refusals (401 from the authorizer, 404 for no
route) carry them as the stack's gateway responses do. Any other origin passes through untouched.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp

from execution_monitor.cors import ALLOWED_HEADERS, CorsMiddleware
from execution_monitor.settings import CorsSettings

ALLOWED_ORIGINS_ENV = "ALLOWED_ORIGINS"

__all__ = ["ALLOWED_HEADERS", "ALLOWED_ORIGINS_ENV", "Cors", "allowed_origins_from_env"]


def allowed_origins_from_env(environ: dict[str, str] | None = None) -> frozenset[str]:
    """ALLOWED_ORIGINS="https://a.example, https://b.example" -> {...}; trailing slashes dropped."""
    if environ is None:
        return CorsSettings.from_environment().allowed_origins
    return CorsSettings.model_validate(environ).allowed_origins


class Cors(CorsMiddleware):
    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str]) -> None:
        origins = frozenset(allowed_origins)
        super().__init__(app, lambda: origins, answer_preflights=True)
