"""The monitor's static files (web/) on the gateway's port, as CloudFront serves them in AWS.

A GET or HEAD that names a file under the web root gets that file; any other one gets index.html
(the single-page app routes on the path). Paths are resolved with Starlette's StaticFiles lookup,
which refuses anything outside the root (`..`, absolute paths, symlinks pointing out). Every
answer revalidates (`no-cache` + ETag/Last-Modified, so an unchanged file is a 304): locally the
files change under the developer's hands. The security headers mirror the ones CloudFront adds,
so a page that works here also works under the deployed CSP (no inline scripts or styles).
"""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from infrastructure.web_security import REFERRER_POLICY, content_security_policy

WEB_ROOT = Path(__file__).resolve().parents[2] / "web"
INDEX = "index.html"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": REFERRER_POLICY,
    "X-Frame-Options": "DENY",
}


class StaticSite:
    """An ASGI app serving one directory with a single-page-app fallback to index.html."""

    def __init__(self, root: Path = WEB_ROOT) -> None:
        self.root = root
        self.files = StaticFiles(directory=root, follow_symlink=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.response(scope)
        await response(scope, receive, send)

    def response(self, scope: Scope) -> Response:
        relative = self.files.get_path(scope)
        try:
            full_path, stat_result = self.files.lookup_path(relative)
        except (OSError, ValueError):  # a name too long, a NUL byte: no such file
            full_path, stat_result = "", None
        if stat_result is None or not Path(full_path).is_file():
            full_path, stat_result = self.files.lookup_path(INDEX)
        if stat_result is None:
            return Response("the monitor is not built here", status_code=404, media_type="text/plain")
        response = FileResponse(full_path, stat_result=stat_result, media_type=_content_type(full_path))
        response.headers["Cache-Control"] = "no-cache"
        response.headers.update(SECURITY_HEADERS)
        if self.files.is_not_modified(response.headers, Headers(scope=scope)):
            return Response(status_code=304, headers=_revalidation_headers(response))
        return response


def _content_type(path: str) -> str:
    return CONTENT_TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


def _revalidation_headers(response: Response) -> dict[str, str]:
    kept = ("etag", "last-modified", "cache-control", *(name.lower() for name in SECURITY_HEADERS))
    return {name: value for name, value in response.headers.items() if name in kept}
