"""`make screenshots`: pictures of the execution page for docs/ (running, failed, retry dialog).

Starts the local runtime, runs a five-step workflow once to completion (so the running one has
an estimate), then photographs a run in flight, a run whose step failed after its retries, and
the Retry step dialog with its plan. Needs Chromium (apt-get install chromium fonts-liberation).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect, sync_playwright

from infrastructure.local import tokens
from tests.browser.conftest import INSTALL_HINT, Tenant, chromium_path, delay, http_call
from tests.browser.runtime import local_runtime
from tests.e2e.support import REPO_ROOT
from tests.integration.loopback import loopback_server

DOCS = REPO_ROOT / "docs"
WORKSPACE = "acme"


def actions(api_url: str, warehouse_url: str, transform_seconds: int) -> list[dict[str, Any]]:
    push = http_call("push", f"{warehouse_url}/stock", "Push stock to the warehouse")
    push["retry"] = {"maxAttempts": 2, "intervalSeconds": 1, "backoffRate": 1}
    return [
        delay("window", 1, "Wait for the export window"),
        http_call("fetch", f"{api_url}/orders", "Fetch new orders"),
        delay("transform", transform_seconds, "Transform orders"),
        push,
        delay("notify", 0, "Notify the team"),
    ]


def shoot(page: Any, path: Path) -> None:
    page.locator("main").screenshot(path=str(path), animations="disabled")
    print(f"wrote {path.relative_to(REPO_ROOT)}")


def main() -> int:
    executable = chromium_path()
    if executable is None:
        sys.exit(f"Chromium is not installed: {INSTALL_HINT}")
    with (
        tempfile.TemporaryDirectory() as scratch,
        local_runtime(Path(scratch) / "runtime.log") as base_url,
        httpx.Client(base_url=base_url, timeout=30) as api,
        loopback_server() as healthy,
        loopback_server() as warehouse,
        sync_playwright() as playwright,
    ):
        tenant = Tenant(api, WORKSPACE, tokens.mint_token([WORKSPACE]))
        tenant.put_workflow("order_sync", *actions(healthy.url, healthy.url, 6), name="Nightly order sync")
        first = tenant.start("order_sync")
        tenant.wait_for("order_sync", first, lambda execution: execution["status"] == "completed")
        browser = playwright.chromium.launch(executable_path=executable)
        page = browser.new_page(
            base_url=base_url, viewport={"width": 1280, "height": 860}, color_scheme="light"
        )

        running = tenant.start("order_sync")
        tenant.wait_for("order_sync", running, lambda e: e["actionResults"][2]["status"] == "running")
        page.goto(tenant.signed_in(tenant.page_path("order_sync", running)))
        expect(page.locator(".progress-text")).to_have_text("2 / 5 steps (40%)")
        page.wait_for_timeout(2500)  # a few ticks of the elapsed and remaining counters
        shoot(page, DOCS / "monitor-running.png")

        warehouse.statuses = [503] * 10
        tenant.put_workflow("order_sync", *actions(healthy.url, warehouse.url, 0), name="Nightly order sync")
        failed = tenant.start("order_sync")
        tenant.wait_for("order_sync", failed, lambda execution: execution["status"] == "failed")
        page.goto(tenant.signed_in(tenant.page_path("order_sync", failed)))
        monitor = page.locator("execution-monitor")
        expect(monitor.locator(".monitor-status")).to_have_text("Failed")
        monitor.locator('li.step[data-action-id="push"] summary').click()
        shoot(page, DOCS / "monitor-failed.png")

        monitor.get_by_role("button", name="Retry step Push stock to the warehouse").click()
        expect(page.locator("dialog .plan-body:not([aria-busy])")).to_be_visible()
        page.screenshot(path=str(DOCS / "monitor-retry-dialog.png"), animations="disabled")
        print("wrote docs/monitor-retry-dialog.png")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
