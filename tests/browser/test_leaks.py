"""Many monitors on one page, then none: no EventSource, request or timer may outlive them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import DEADLINE_MS, Tenant, delay, live_counts

pytestmark = pytest.mark.xdist_group("browser")

MONITORS = 50
POLLING_INTERVAL_MS = 2000

ADD_MONITORS = """([workspaceId, executionId, count, sse]) => {
  const host = document.createElement('div');
  host.id = 'many';
  for (let index = 0; index < count; index += 1) {
    const monitor = document.createElement('execution-monitor');
    monitor.setAttribute('workspace-id', workspaceId);
    monitor.setAttribute('workflow-id', 'leaks');
    monitor.setAttribute('execution-id', executionId);
    if (sse) monitor.setAttribute('enable-sse', '');
    host.append(monitor);
  }
  document.querySelector('main').append(host);
}"""


@pytest.fixture
def running(tenant: Tenant) -> Any:
    tenant.put_workflow("leaks", delay("long", 120))
    execution_id = tenant.start("leaks")
    yield execution_id
    tenant.cancel("leaks", execution_id)


@pytest.mark.parametrize("sse", [False, True], ids=["polling", "sse"])
def test_given_50_monitors_when_they_are_removed_then_no_connection_request_or_timer_is_left(
    page: Any, tenant: Tenant, running: str, sse: bool
) -> None:
    page.goto(tenant.signed_in("/"))
    page.get_by_role("heading", name="Execution Monitor").wait_for()
    page.wait_for_function("() => window.__liveCounts().inFlight === 0")
    baseline = live_counts(page)

    page.evaluate(ADD_MONITORS, [tenant.workspace_id, running, MONITORS, sse])
    if sse:  # Chromium opens 6 HTTP/1.1 connections per origin: the first streams are live
        page.wait_for_function("() => window.__monitorStats.eventSources.some((s) => s.readyState === 1)")
        assert live_counts(page)["openEventSources"] == MONITORS
    else:
        page.wait_for_function(
            f"() => document.querySelectorAll('execution-monitor .badge').length >= {MONITORS}",
            timeout=DEADLINE_MS,
        )
    page.evaluate("() => document.getElementById('many').remove()")

    page.wait_for_function("() => window.__liveCounts().inFlight === 0", timeout=DEADLINE_MS)
    settled = live_counts(page)
    assert settled["openEventSources"] == 0
    assert settled["timeouts"] == baseline["timeouts"]
    assert settled["intervals"] == baseline["intervals"]
    page.wait_for_timeout(2.5 * POLLING_INTERVAL_MS)  # a leaked poller would have fetched by now
    assert live_counts(page)["fetches"] == settled["fetches"]
