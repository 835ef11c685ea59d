"""`make dev` serves the monitor (web/) on the API's port: files, the single-page-app fallback,
content types, revalidation, security headers, and nothing outside web/."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import httpx
import pytest

from infrastructure.local.__main__ import monitor_url
from infrastructure.local.static import WEB_ROOT

pytestmark = pytest.mark.xdist_group("e2e")

INDEX = (WEB_ROOT / "index.html").read_text()


def raw_get(base_url: str, raw_path: str) -> tuple[int, str]:
    """A GET whose path goes on the wire exactly as written (httpx would normalize `..`)."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=10)
    try:
        connection.request("GET", raw_path)
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path",
    ["/", "/workspaces/demo", "/workspaces/demo/workflows/wf_demo", "/workspaces/a/workflows/b/executions/c"],
)
def test_given_a_page_route_when_requested_then_index_html_is_served(http: httpx.Client, path: str) -> None:
    response = http.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/js/app.js", "text/javascript; charset=utf-8"),
        ("/js/watch.js", "text/javascript; charset=utf-8"),
        ("/css/monitor.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
    ],
)
def test_given_a_file_of_the_monitor_when_requested_then_it_is_served_with_its_content_type(
    http: httpx.Client, path: str, content_type: str
) -> None:
    response = http.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == (WEB_ROOT / path.lstrip("/")).read_bytes()
    assert response.headers["x-content-type-options"] == "nosniff"


def test_given_an_unchanged_file_when_revalidated_with_its_etag_then_the_answer_is_304(
    http: httpx.Client,
) -> None:
    first = http.get("/js/app.js")

    again = http.get("/js/app.js", headers={"If-None-Match": first.headers["etag"]})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


def test_given_any_page_then_the_csp_forbids_inline_scripts_and_framing(http: httpx.Client) -> None:
    policy = http.get("/workspaces/demo").headers["content-security-policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.parametrize(
    "raw_path",
    [
        "/../infrastructure/routes.py",
        "/js/../../infrastructure/routes.py",
        "/js/%2e%2e/%2e%2e/infrastructure/routes.py",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/js/..%2f..%2finfrastructure/routes.py",
        "//etc/passwd",
    ],
)
def test_given_a_path_that_climbs_out_of_web_when_requested_then_no_file_outside_it_is_served(
    base_url: str, raw_path: str
) -> None:
    status, body = raw_get(base_url, raw_path)

    assert "ROUTES" not in body
    assert "root:" not in body
    assert status in (200, 400, 404)
    if status == 200:
        assert body == INDEX


def test_given_an_unknown_api_path_then_the_api_answers_json_not_the_page(http: httpx.Client) -> None:
    response = http.get("/api/workspaces")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_given_a_head_request_then_headers_come_without_a_body(http: httpx.Client) -> None:
    response = http.head("/css/monitor.css")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.content == b""


def test_given_the_printed_monitor_url_then_it_opens_the_demo_workflow_with_the_token_in_the_fragment(
    base_url: str, http: httpx.Client
) -> None:
    url = monitor_url(base_url, "header.payload.signature")

    page, _, fragment = url.partition("#")
    assert page == f"{base_url}/workspaces/demo/workflows/wf_demo"
    assert fragment == "access_token=header.payload.signature"
    assert http.get(page.removeprefix(base_url)).text == INDEX
