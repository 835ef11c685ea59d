"""The workspace page against DESIGN's shapes, with the two list routes scripted (page.route):
it must render the lists, and say clearly when the server has no such routes (404)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Tenant

pytestmark = pytest.mark.xdist_group("browser")


def scripted(page: Any, tenant: Tenant, workflows: Any, executions: Any) -> None:
    base = f"**/api/workspaces/{tenant.workspace_id}"

    def answer(body: Any) -> Any:
        def handle(route: Any) -> None:
            if body is None:
                route.fulfill(status=404, json={"error": {"code": "not_found", "message": "no such route"}})
            else:
                route.fulfill(json=body)

        return handle

    page.route(f"{base}/workflows?*", answer(workflows))
    page.route(f"{base}/executions?*", answer(executions))


def test_given_the_list_routes_answer_then_workflows_and_running_executions_are_shown(
    page: Any, tenant: Tenant
) -> None:
    workflows = {
        "workflows": [
            {
                "id": "wf_a",
                "name": "Nightly export",
                "version": 3,
                "updatedAt": "2026-01-01T10:00:00Z",
                "lastExecution": {"id": "exec_9", "status": "failed"},
            },
            {
                "id": "wf_b",
                "name": "Welcome mail",
                "version": 1,
                "updatedAt": "2026-01-02T10:00:00Z",
                "lastExecution": None,
            },
        ],
        "nextCursor": None,
    }
    executions = {
        "executions": [
            {
                "id": "exec_1",
                "workflowId": "wf_a",
                "status": "running",
                "startedAt": "2026-01-01T10:00:00Z",
                "duration": None,
                "progress": {"completedSteps": 2, "totalSteps": 5, "percentage": 40},
            },
        ],
        "nextCursor": None,
    }
    scripted(page, tenant, workflows, executions)

    page.goto(tenant.signed_in(tenant.page_path()))

    flows = page.get_by_role("table", name="Workflows")
    expect(flows.get_by_role("row", name="Nightly export")).to_contain_text("Failed")
    expect(flows.get_by_role("row", name="Welcome mail")).to_contain_text("Never run")
    running = page.get_by_role("table", name="Running executions")
    expect(running.get_by_role("row", name="exec_1")).to_contain_text("2 / 5 steps (40%)")
    running.get_by_role("link", name="exec_1").click()
    expect(page).to_have_url(
        re.compile(f"/workspaces/{tenant.workspace_id}/workflows/wf_a/executions/exec_1$")
    )


def test_given_the_list_routes_are_missing_then_the_page_says_so_and_stops_asking(
    page: Any, tenant: Tenant
) -> None:
    scripted(page, tenant, None, None)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/api/" in request.url else None)

    page.goto(tenant.signed_in(tenant.page_path()))

    expect(page.locator("main")).to_contain_text("does not list workflows yet")
    expect(page.locator("main")).to_contain_text("does not list running executions yet")
    expect(page.get_by_label("Workflow id")).to_be_visible()  # still useful: open a workflow by id
    settled = len(asked)
    page.wait_for_timeout(4500)  # two polling intervals: 404s are not polled again
    assert len(asked) == settled == 2
