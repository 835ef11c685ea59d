"""The workflow page: start an execution with JSON input, recent executions live, status filter."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEADLINE_MS, Tenant, delay, http_call, tab_to
from tests.integration.loopback import Loopback

pytestmark = pytest.mark.xdist_group("browser")


def test_given_json_input_when_started_by_keyboard_then_the_new_execution_opens_with_that_input(
    page: Any, tenant: Tenant
) -> None:
    tenant.put_workflow("start", delay("wait", 0), name="Start me")
    page.goto(tenant.signed_in(tenant.page_path("start")))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Start me")
    field = page.get_by_label("Input (a JSON object)")

    field.fill('{"order": 7, "rush": true}')
    tab_to(page, page.get_by_role("button", name="Start execution"))
    page.keyboard.press("Enter")

    monitor = page.locator("execution-monitor")
    expect(monitor.locator(".monitor-status")).to_have_text("Completed", timeout=DEADLINE_MS)
    execution_id = monitor.get_attribute("execution-id")
    assert tenant.execution("start", execution_id)["input"] == {"order": 7, "rush": True}
    assert page.evaluate("() => document.activeElement.tagName") == "H1"


@pytest.mark.parametrize(
    ("typed", "message"), [("{order: 7}", "not valid JSON"), ("[1, 2]", "must be a JSON object")]
)
def test_given_bad_input_then_the_form_says_why_and_starts_nothing(
    page: Any, tenant: Tenant, typed: str, message: str
) -> None:
    tenant.put_workflow("bad", delay("wait", 0))
    page.goto(tenant.signed_in(tenant.page_path("bad")))
    field = page.get_by_label("Input (a JSON object)")

    field.fill(typed)
    page.get_by_role("button", name="Start execution").click()

    expect(page.locator("#wf-input-error")).to_contain_text(message)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    assert "/executions/" not in page.url
    listed = tenant.api.get(
        f"/api/workspaces/{tenant.workspace_id}/workflows/bad/executions", headers=tenant.headers
    )
    assert listed.json()["executions"] == []


def test_given_the_recent_executions_then_new_ones_appear_live_and_the_filter_narrows_them(
    page: Any, tenant: Tenant, loopback: Loopback
) -> None:
    loopback.statuses = [500]
    tenant.put_workflow("mixed", http_call("call", f"{loopback.url}/m"))
    failed = tenant.start("mixed")
    tenant.wait_for("mixed", failed, lambda execution: execution["status"] == "failed")
    page.goto(tenant.signed_in(tenant.page_path("mixed")))
    table = page.get_by_role("table", name="Recent executions")
    expect(table.get_by_role("row")).to_have_count(2)

    completed = tenant.start("mixed")  # appears without a reload
    expect(table.get_by_role("row", name=completed)).to_contain_text("Completed", timeout=DEADLINE_MS)
    page.get_by_label("Status").select_option("failed")

    expect(table.get_by_role("row")).to_have_count(2, timeout=DEADLINE_MS)
    expect(table.get_by_role("row", name=failed)).to_contain_text("Failed")
    assert "status=failed" in page.url
    table.get_by_role("link", name=failed).click()
    expect(page.locator("execution-monitor .monitor-status")).to_have_text("Failed", timeout=DEADLINE_MS)
