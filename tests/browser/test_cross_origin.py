"""A browser app on another origin (CORS, DESIGN "CORS"): the monitor served from a listed origin
follows an execution on the API's origin over SSE and sends commands; an unlisted origin is
refused by the browser. The page's own CSP allows 'self' only, so these pages bypass it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEADLINE_MS, Tenant, delay

pytestmark = [
    pytest.mark.xdist_group("browser"),
    pytest.mark.parametrize("context", [{"bypass_csp": True}], indirect=True),
]

MOUNT = """([apiUrl, workspaceId, executionId]) => {
  const monitor = document.createElement('execution-monitor');
  const attributes = [['api-base-url', apiUrl], ['workspace-id', workspaceId], ['workflow-id', 'cors'],
    ['execution-id', executionId], ['enable-sse', '']];
  for (const [name, value] of attributes) monitor.setAttribute(name, value);
  document.querySelector('main').append(monitor);
}"""


def test_given_a_listed_origin_then_the_monitor_follows_and_cancels_over_cors(
    page: Any, tenant: Tenant, app_url: str, other_origins: tuple[str, str]
) -> None:
    allowed, _ = other_origins
    tenant.put_workflow("cors", delay("first", 1), delay("long", 3600, "Long wait"))
    execution_id = tenant.start("cors")
    streams: list[str] = []
    page.on("request", lambda request: streams.append(request.url) if "/stream" in request.url else None)
    page.goto(f"{allowed}/{tenant.signed_in('')}")
    page.get_by_role("heading", name="Execution Monitor").wait_for()

    page.evaluate(MOUNT, [app_url, tenant.workspace_id, execution_id])

    monitor = page.locator("execution-monitor")
    expect(monitor.locator('li.step[data-action-id="long"] .badge')).to_have_text(
        "Running", timeout=DEADLINE_MS
    )
    assert streams and all(url.startswith(f"{app_url}/api/") for url in streams)
    monitor.get_by_role("button", name="Cancel execution").click()  # POST with Authorization: preflighted
    page.get_by_role("dialog").get_by_role("button", name="Cancel execution").click()
    expect(monitor.locator(".monitor-status")).to_have_text("Cancelled", timeout=DEADLINE_MS)
    assert tenant.execution("cors", execution_id)["status"] == "cancelled"


def test_given_an_unlisted_origin_then_the_browser_withholds_the_api_and_the_monitor_says_so(
    page: Any, tenant: Tenant, app_url: str, other_origins: tuple[str, str]
) -> None:
    _, refused = other_origins
    tenant.put_workflow("cors", delay("wait", 0))
    execution_id = tenant.start("cors")
    page.goto(f"{refused}/{tenant.signed_in('')}")
    page.get_by_role("heading", name="Execution Monitor").wait_for()

    page.evaluate(MOUNT, [app_url, tenant.workspace_id, execution_id])

    problem = page.locator("execution-monitor .notice-error")
    expect(problem).to_contain_text("cannot be reached", timeout=DEADLINE_MS)
    expect(page.locator("execution-monitor .monitor-body")).to_be_hidden()
