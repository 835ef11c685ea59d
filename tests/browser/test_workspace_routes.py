"""The workspace page against the real list routes (GET …/workflows, GET …/executions)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEADLINE_MS, Tenant, delay

pytestmark = pytest.mark.xdist_group("browser")


def test_given_workflows_and_a_running_execution_then_the_workspace_page_lists_both(
    page: Any, tenant: Tenant
) -> None:
    tenant.put_workflow("listed", delay("long", 3600), name="Listed workflow")
    tenant.put_workflow("other", delay("wait", 0), name="Other workflow")
    execution_id = tenant.start("listed")
    try:
        page.goto(tenant.signed_in(tenant.page_path()))

        flows = page.get_by_role("table", name="Workflows")
        expect(flows.get_by_role("row", name="Listed workflow")).to_be_visible(timeout=DEADLINE_MS)
        expect(flows.get_by_role("row", name="Other workflow")).to_contain_text("Never run")
        running = page.get_by_role("table", name="Running executions")
        expect(running.get_by_role("row", name=execution_id)).to_contain_text("Running", timeout=DEADLINE_MS)
    finally:
        tenant.cancel("listed", execution_id)

    expect(running.get_by_role("row", name=execution_id)).to_have_count(0, timeout=DEADLINE_MS)
