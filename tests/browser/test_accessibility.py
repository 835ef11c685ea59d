"""WCAG 2.1 AA: axe-core finds nothing on every page and execution state, in light and dark
schemes and under forced colours; reduced motion stops the spinner; focus is always visible;
the live region is polite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from infrastructure.local import tokens
from tests.browser.conftest import DEADLINE_MS, Tenant, delay, http_call, tab_to
from tests.e2e.support import unique
from tests.integration.loopback import Loopback, loopback_server

pytestmark = pytest.mark.xdist_group("browser")

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
SCHEMES = {
    "light": {"color_scheme": "light"},
    "dark": {"color_scheme": "dark"},
    "forced-colours": {"color_scheme": "light", "forced_colors": "active"},
}


def assert_no_violations(page: Any) -> None:
    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture(scope="module")
def states(api: httpx.Client) -> Iterator[tuple[Tenant, dict[str, str]]]:
    """One execution in each state the monitor shows, in a workspace of this module's own."""
    workspace_id = unique("ws")
    tenant = Tenant(api, workspace_id, tokens.mint_token([workspace_id]))
    with loopback_server() as failing:
        failing.statuses = [500] * 10
        tenant.put_workflow("states", delay("first", 0, "Get ready"), delay("long", 3600, "Long wait"))
        tenant.put_workflow(
            "broken", delay("first", 0), http_call("charge", f"{failing.url}/x", "Charge card")
        )
        ids = {
            "running": tenant.start("states"),
            "cancelled": tenant.start("states"),
            "failed": tenant.start("broken"),
            "completed": _completed(tenant),
        }
        tenant.cancel("states", ids["cancelled"])
        tenant.wait_for("broken", ids["failed"], lambda execution: execution["status"] == "failed")
        tenant.wait_for(
            "states", ids["running"], lambda execution: execution["actionResults"][1]["status"] == "running"
        )
    yield tenant, ids
    tenant.cancel("states", ids["running"])


def _completed(tenant: Tenant) -> str:
    tenant.put_workflow("quick", delay("only", 0, "Quick wait"))
    execution_id = tenant.start("quick")
    tenant.wait_for("quick", execution_id, lambda execution: execution["status"] == "completed")
    return execution_id


def open_state(page: Any, states: tuple[Tenant, dict[str, str]], state: str) -> Any:
    tenant, ids = states
    workflow = {"failed": "broken", "completed": "quick"}.get(state, "states")
    page.goto(tenant.signed_in(tenant.page_path(workflow, ids[state])))
    monitor = page.locator("execution-monitor")
    expect(monitor.locator(".monitor-status")).to_have_text(state.title(), timeout=DEADLINE_MS)
    return monitor


@pytest.mark.parametrize("context", SCHEMES.values(), ids=SCHEMES.keys(), indirect=True)
@pytest.mark.parametrize("state", ["running", "completed", "failed", "cancelled"])
def test_given_an_execution_in_each_state_then_axe_finds_no_wcag_21_aa_violation(
    page: Any, states: tuple[Tenant, dict[str, str]], state: str
) -> None:
    monitor = open_state(page, states, state)
    monitor.locator("li.step summary").first.click()  # an open step's details count too

    assert_no_violations(page)


@pytest.mark.parametrize("context", SCHEMES.values(), ids=SCHEMES.keys(), indirect=True)
@pytest.mark.parametrize(
    ("state", "button"), [("running", "Cancel execution"), ("failed", "Retry step Charge card")]
)
def test_given_a_confirmation_dialog_is_open_then_axe_finds_no_violation(
    page: Any, states: tuple[Tenant, dict[str, str]], state: str, button: str
) -> None:
    monitor = open_state(page, states, state)
    monitor.get_by_role("button", name=button).click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.locator("dialog .plan-body:not([aria-busy])").or_(page.locator("dialog:not(:has(.plan))")).wait_for()

    assert_no_violations(page)


@pytest.mark.parametrize("context", [SCHEMES["light"], SCHEMES["dark"]], ids=["light", "dark"], indirect=True)
@pytest.mark.parametrize("page_kind", ["home", "workspace", "workflow", "sign-in", "not-found"])
def test_given_every_page_then_axe_finds_no_violation(
    page: Any, states: tuple[Tenant, dict[str, str]], page_kind: str
) -> None:
    tenant, _ = states
    path = {
        "home": "/",
        "workspace": tenant.page_path(),
        "workflow": tenant.page_path("states"),
        "sign-in": "/",
        "not-found": "/nothing/here",
    }[page_kind]
    page.goto(path if page_kind == "sign-in" else tenant.signed_in(path))
    expect(page.locator("main h1")).to_be_visible()
    page.wait_for_function("() => !document.querySelector('main').textContent.includes('Loading')")

    assert_no_violations(page)


@pytest.mark.parametrize(
    "context", [{"reduced_motion": "reduce"}, {}], ids=["reduce", "default"], indirect=True
)
def test_given_a_motion_preference_then_the_running_spinner_follows_it(
    page: Any, states: tuple[Tenant, dict[str, str]], request: pytest.FixtureRequest
) -> None:
    monitor = open_state(page, states, "running")

    animation = monitor.locator(".monitor-status .icon").evaluate(
        "icon => getComputedStyle(icon).animationName"
    )

    reduced = "reduce" in request.node.callspec.id
    assert animation == ("none" if reduced else "spin")


def test_given_keyboard_focus_then_it_is_visibly_outlined(
    page: Any, states: tuple[Tenant, dict[str, str]]
) -> None:
    monitor = open_state(page, states, "running")
    cancel = monitor.get_by_role("button", name="Cancel execution")

    tab_to(page, cancel)

    outline = cancel.evaluate(
        "b => { const s = getComputedStyle(b); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline[0] != "none"
    assert float(outline[1].removesuffix("px")) >= 2


def test_given_the_monitor_then_its_live_region_is_polite_and_starts_empty(
    page: Any, states: tuple[Tenant, dict[str, str]]
) -> None:
    monitor = open_state(page, states, "running")

    region = monitor.get_by_role("status")

    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_have_text("")  # opening a page announces nothing; changes do


def test_given_a_failing_run_then_the_live_region_announces_the_step_failure_and_the_status(
    page: Any, tenant: Tenant, loopback: Loopback
) -> None:
    loopback.statuses = [500]
    tenant.put_workflow("announce", delay("wait", 1), http_call("charge", f"{loopback.url}/a", "Charge card"))
    execution_id = tenant.start("announce")
    page.goto(tenant.signed_in(tenant.page_path("announce", execution_id)))
    region = page.locator("execution-monitor").get_by_role("status")

    expect(region).to_contain_text("Step Charge card failed", timeout=DEADLINE_MS)
    expect(region).to_contain_text("Execution failed")
