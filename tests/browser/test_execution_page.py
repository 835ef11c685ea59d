"""The execution page in Chromium against the local runtime: live to completion, failures,
retry step / cancel / retry execution by keyboard alone, polling when the stream is blocked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEADLINE_MS, Tenant, delay, focused_text, http_call, live_counts, tab_to
from tests.integration.loopback import Loopback

pytestmark = pytest.mark.xdist_group("browser")

RECORD_ANNOUNCEMENTS = """() => {
  window.__announced = [];
  const region = document.querySelector('execution-monitor [role="status"]');
  new MutationObserver(() => window.__announced.push(region.textContent))
    .observe(region, { childList: true, characterData: true, subtree: true });
}"""


def open_execution(page: Any, tenant: Tenant, workflow_id: str, execution_id: str) -> Any:
    page.goto(tenant.signed_in(tenant.page_path(workflow_id, execution_id)))
    monitor = page.locator("execution-monitor")
    expect(monitor.locator(".monitor-status")).not_to_be_empty(timeout=DEADLINE_MS)
    return monitor


def test_given_a_running_execution_when_watched_then_the_page_follows_it_live_to_completion(
    page: Any, tenant: Tenant
) -> None:
    # "two" outlasts the stream's slowest poll (2 s), so the page shows "1 / 3" however fast the machine.
    tenant.put_workflow("live", delay("one", 1, "First wait"), delay("two", 3), delay("three", 1))
    execution_id = tenant.start("live")
    streams: list[str] = []
    page.on("request", lambda request: streams.append(request.url) if "/stream" in request.url else None)

    monitor = open_execution(page, tenant, "live", execution_id)
    page.evaluate("() => { window.__sameDocument = true; }")
    page.evaluate(RECORD_ANNOUNCEMENTS)

    bar = monitor.get_by_role("progressbar", name="Progress")
    expect(bar).to_have_attribute("aria-valuemin", "0")
    expect(bar).to_have_attribute("aria-valuemax", "100")
    expect(monitor.locator(".progress-text")).to_have_text("1 / 3 steps (33%)", timeout=DEADLINE_MS)
    expect(bar).to_have_attribute("aria-valuenow", "33")
    expect(monitor.locator(".monitor-status")).to_have_text("Completed", timeout=DEADLINE_MS)
    expect(monitor.locator(".progress-text")).to_have_text("3 / 3 steps (100%)")
    expect(bar).to_have_attribute("aria-valuetext", "3 / 3 steps (100%)")
    steps = monitor.locator("li.step")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("First wait")
    expect(steps.nth(0)).to_contain_text("delay")
    expect(steps.nth(0)).to_contain_text("Attempt 1")
    for index in range(3):
        expect(steps.nth(index).locator(".badge")).to_have_text("Completed")
    assert page.evaluate("() => window.__sameDocument") is True  # followed live, never reloaded
    assert any(f"/executions/{execution_id}/stream?access_token=" in url for url in streams)
    announced = " ".join(page.evaluate("() => window.__announced"))
    assert "Execution completed." in announced
    assert "%" not in announced  # progress is on screen, not read out at every step
    expect(monitor.get_by_role("button", name="Cancel execution")).to_be_hidden()
    expect(monitor.get_by_role("button", name="Retry execution")).to_be_hidden()


def test_given_a_failed_step_then_it_is_highlighted_with_its_error_and_expands_to_its_history(
    page: Any, tenant: Tenant, loopback: Loopback
) -> None:
    loopback.statuses = [500]
    charge = http_call("charge", f"{loopback.url}/charge", "Charge card")
    tenant.put_workflow("fails", delay("prepare", 0), charge)
    execution_id = tenant.start("fails")
    tenant.wait_for("fails", execution_id, lambda execution: execution["status"] == "failed")

    monitor = open_execution(page, tenant, "fails", execution_id)

    expect(monitor.locator(".monitor-status")).to_have_text("Failed")
    failed = monitor.locator('li.step[data-status="failed"]')
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("Charge card")
    expect(failed.locator(".step-error")).to_contain_text("500")
    expect(monitor.locator(".failure")).to_contain_text("Charge card failed on attempt 1")
    failed.locator("summary").click()
    body = failed.locator(".step-body")
    expect(body.get_by_role("heading", name="Output")).to_be_visible()
    expect(body.get_by_role("heading", name="Attempts")).to_be_visible()
    expect(body.locator("table.attempts tbody tr")).to_have_count(1)
    expect(body.locator("pre.error-text")).to_contain_text("500")
    expect(monitor.get_by_role("button", name="Retry execution")).to_be_visible()


def test_given_a_failed_step_when_retried_by_keyboard_alone_then_the_plan_shows_and_the_run_completes(
    page: Any, tenant: Tenant, loopback: Loopback
) -> None:
    loopback.statuses = [500]  # fails once, then answers 200
    charge = http_call("charge", f"{loopback.url}/c", "Charge")
    tenant.put_workflow("flaky", delay("prepare", 0, "Prepare"), charge, delay("ship", 0))
    execution_id = tenant.start("flaky")
    tenant.wait_for("flaky", execution_id, lambda execution: execution["status"] == "failed")
    monitor = open_execution(page, tenant, "flaky", execution_id)
    retry_step = monitor.get_by_role("button", name="Retry step Charge")

    tab_to(page, retry_step)
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog", name="Retry step Charge?")
    expect(dialog).to_be_visible()
    assert focused_text(page) == "Close"  # the safe choice has the focus first
    plan = dialog.get_by_role("region", name="What the retry will do")
    expect(plan).to_contain_text("Runs again", timeout=DEADLINE_MS)
    expect(plan).to_contain_text("Charge")
    expect(plan).to_contain_text("Prepare")  # kept: it is listed under "Keeps its result"
    expect(plan).not_to_contain_text("Worked out from this page")  # the server's plan, not the fallback
    page.keyboard.press("Tab")
    assert focused_text(page) == "Retry step"
    page.keyboard.press("Tab")
    assert dialog.evaluate("dialog => dialog.contains(document.activeElement)")  # focus stays in the dialog
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert retry_step.evaluate("element => element === document.activeElement")  # back on its trigger

    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    expect(monitor.locator(".monitor-status")).to_have_text("Completed", timeout=DEADLINE_MS)
    expect(page.get_by_role("dialog")).to_have_count(0)
    charge = monitor.locator('li.step[data-action-id="charge"]')
    expect(charge).to_contain_text("Attempt 2")
    assert page.evaluate("() => document.activeElement.classList.contains('monitor-title')")
    charge.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(charge.locator("table.attempts tbody tr")).to_have_count(2)  # the failed attempt is kept


def test_given_a_running_execution_when_cancelled_by_keyboard_then_it_reads_cancelled_and_can_resume(
    page: Any, tenant: Tenant
) -> None:
    tenant.put_workflow("slow", delay("warm", 0), delay("long", 60, "Long wait"), delay("after", 0))
    execution_id = tenant.start("slow")
    monitor = open_execution(page, tenant, "slow", execution_id)
    long_wait = monitor.locator('li.step[data-action-id="long"] .badge')
    expect(long_wait).to_have_text("Running", timeout=DEADLINE_MS)
    cancel = monitor.get_by_role("button", name="Cancel execution")

    tab_to(page, cancel)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Cancel this execution?")
    expect(dialog).to_contain_text("Long wait, is stopped and marked cancelled")
    page.keyboard.press("Tab")
    assert focused_text(page) == "Cancel execution"
    page.keyboard.press("Enter")

    expect(monitor.locator(".monitor-status")).to_have_text("Cancelled", timeout=DEADLINE_MS)
    expect(dialog).to_be_hidden()
    expect(cancel).to_be_hidden()
    assert page.evaluate("() => document.activeElement.classList.contains('monitor-title')")
    expect(monitor.locator('li.step[data-action-id="long"] .badge')).to_have_text("Cancelled")
    expect(monitor.locator('li.step[data-action-id="after"] .badge')).to_have_text("Skipped")
    expect(monitor.get_by_role("button", name="Retry step Long wait")).to_be_visible()  # resume point
    assert tenant.execution("slow", execution_id)["status"] == "cancelled"


def test_given_a_cancelled_execution_when_retried_by_keyboard_then_the_new_execution_opens_linked_to_it(
    page: Any, tenant: Tenant
) -> None:
    tenant.put_workflow("again", delay("long", 60))
    execution_id = tenant.start("again")
    tenant.cancel("again", execution_id)
    monitor = open_execution(page, tenant, "again", execution_id)
    retry = monitor.get_by_role("button", name="Retry execution")

    tab_to(page, retry)
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Retry this execution?")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(f"/executions/(?!{execution_id})[^/]+$"), timeout=DEADLINE_MS)
    new_monitor = page.locator("execution-monitor")
    expect(new_monitor.locator(".facts")).to_contain_text(f"Retry of{execution_id}", timeout=DEADLINE_MS)
    assert page.evaluate("() => document.activeElement.tagName") == "H1"
    new_id = new_monitor.get_attribute("execution-id")
    assert tenant.execution("again", new_id)["retryOf"] == execution_id
    tenant.cancel("again", new_id)


def test_given_the_stream_is_blocked_then_the_page_follows_by_polling_with_etags_and_stops_at_the_end(
    page: Any, tenant: Tenant
) -> None:
    tenant.put_workflow("polled", delay("one", 1), delay("two", 2), delay("three", 0))
    execution_id = tenant.start("polled")
    page.route("**/stream?*", lambda route: route.abort())
    polls: list[dict[str, str]] = []
    execution_path = f"/api/workspaces/{tenant.workspace_id}/workflows/polled/executions/{execution_id}"
    page.on(
        "request",
        lambda request: polls.append(request.all_headers()) if request.url.endswith(execution_path) else None,
    )

    monitor = open_execution(page, tenant, "polled", execution_id)

    expect(monitor.locator(".monitor-status")).to_have_text("Completed", timeout=DEADLINE_MS)
    expect(monitor.locator(".progress-text")).to_have_text("3 / 3 steps (100%)")
    assert len(polls) >= 2
    assert all("if-none-match" in headers for headers in polls[1:])
    settled = live_counts(page)
    page.wait_for_timeout(5000)  # 2.5 polling intervals: a poller still running would show
    assert live_counts(page)["fetches"] == settled["fetches"]


def test_given_the_tab_is_hidden_then_polling_pauses_and_resumes_when_it_is_shown(
    page: Any, tenant: Tenant
) -> None:
    tenant.put_workflow("hidden", delay("long", 60))
    execution_id = tenant.start("hidden")
    page.route("**/stream?*", lambda route: route.abort())
    monitor = open_execution(page, tenant, "hidden", execution_id)
    expect(monitor.locator(".monitor-status")).to_have_text("Running", timeout=DEADLINE_MS)

    page.evaluate("() => window.__setHidden(true)")
    page.wait_for_function("() => window.__liveCounts().inFlight === 0")
    paused = live_counts(page)
    page.wait_for_timeout(5000)
    assert live_counts(page)["fetches"] == paused["fetches"]

    with page.expect_request(lambda request: request.url.endswith(f"/executions/{execution_id}")):
        page.evaluate("() => window.__setHidden(false)")
    tenant.cancel("hidden", execution_id)
    expect(monitor.locator(".monitor-status")).to_have_text("Cancelled", timeout=DEADLINE_MS)


def test_given_the_tab_is_hidden_then_the_stream_closes_and_reopens_when_it_is_shown(
    page: Any, tenant: Tenant
) -> None:
    tenant.put_workflow("hidden_sse", delay("long", 60))
    execution_id = tenant.start("hidden_sse")
    monitor = open_execution(page, tenant, "hidden_sse", execution_id)
    page.wait_for_function("() => window.__liveCounts().openEventSources === 1")

    page.evaluate("() => window.__setHidden(true)")
    assert live_counts(page)["openEventSources"] == 0

    with page.expect_request("**/stream?*"):
        page.evaluate("() => window.__setHidden(false)")
    tenant.cancel("hidden_sse", execution_id)
    expect(monitor.locator(".monitor-status")).to_have_text("Cancelled", timeout=DEADLINE_MS)
    page.wait_for_function("() => window.__liveCounts().openEventSources === 0")
