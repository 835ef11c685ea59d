"""Browser tests: the monitor in headless Chromium (Debian's package, driven by Playwright)
against one local runtime (`python -m infrastructure.local`, as `make dev`) per session.

Without Chromium (or the playwright package) the tests skip and say how to install it; with
CI=true they fail instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from infrastructure.local import tokens
from tests.browser.runtime import local_runtime, static_site
from tests.e2e.support import bearer, definition, unique, workflow_path
from tests.integration.loopback import Loopback, loopback_server

INSTRUMENT = Path(__file__).with_name("instrument.js")
INSTALL_HINT = "apt-get install -y --no-install-recommends chromium fonts-liberation"
DEADLINE_MS = 30_000  # generous: the machine is shared; nothing here asserts on speed
TERMINAL = {"completed", "failed", "cancelled"}


def chromium_path() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")]
    return next((path for path in candidates if path and Path(path).exists()), None)


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, so the browser tests must run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    """One Chromium per test module, not per session: Playwright's sync API keeps an asyncio loop
    marked running on this thread while it lives, which would break any non-browser test (they
    call asyncio.run) that xdist schedules on this worker between two browser modules."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is missing (make venv installs requirements.txt)")
    path = chromium_path()
    if path is None:
        unavailable(f"Chromium is not installed: {INSTALL_HINT}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path)
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"browser tests: Chromium {launched.version} at {path}")
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def other_origins() -> Iterator[tuple[str, str]]:
    """web/ on two more origins: the first is in the runtime's ALLOWED_ORIGINS, the second is not."""
    with static_site() as allowed, static_site() as refused:
        yield allowed, refused


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory, other_origins: tuple[str, str]) -> Iterator[str]:
    log = tmp_path_factory.mktemp("browser-runtime") / "output.log"
    with local_runtime(log, ALLOWED_ORIGINS=other_origins[0]) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def api(app_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=30) as client:
        yield client


@pytest.fixture
def context(browser: Any, app_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    options = getattr(request, "param", {})
    context = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900}, **options)
    context.add_init_script(path=str(INSTRUMENT))
    yield context
    context.close()


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    """A page that fails its test on an uncaught error or a CSP violation."""
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"CSP: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    assert not problems, problems


@dataclass
class Tenant:
    """One workspace of our own (tests share the runtime and never clean up)."""

    api: httpx.Client
    workspace_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)

    def put_workflow(self, workflow_id: str, *actions: dict[str, Any], name: str = "Browser test") -> None:
        path = workflow_path(self.workspace_id, workflow_id)
        response = self.api.put(path, json=definition(*actions, name=name), headers=self.headers)
        assert response.status_code == 200, response.text

    def start(self, workflow_id: str, input: dict[str, Any] | None = None) -> str:
        path = f"{workflow_path(self.workspace_id, workflow_id)}/executions"
        response = self.api.post(path, json={"input": input or {}}, headers=self.headers)
        assert response.status_code == 202, response.text
        execution_id: str = response.json()["execution"]["id"]
        return execution_id

    def cancel(self, workflow_id: str, execution_id: str) -> None:
        path = f"{workflow_path(self.workspace_id, workflow_id)}/executions/{execution_id}/cancel"
        assert self.api.post(path, headers=self.headers).status_code == 200

    def execution(self, workflow_id: str, execution_id: str) -> dict[str, Any]:
        path = f"{workflow_path(self.workspace_id, workflow_id)}/executions/{execution_id}"
        response = self.api.get(path, headers=self.headers)
        assert response.status_code == 200, response.text
        execution: dict[str, Any] = response.json()["execution"]
        return execution

    def wait_for(
        self, workflow_id: str, execution_id: str, done: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        deadline = time.monotonic() + DEADLINE_MS / 1000
        while time.monotonic() < deadline:
            execution = self.execution(workflow_id, execution_id)
            if done(execution):
                return execution
            time.sleep(0.2)
        raise AssertionError(f"execution {execution_id} never reached the awaited state: {execution}")

    def page_path(self, workflow_id: str | None = None, execution_id: str | None = None) -> str:
        path = f"/workspaces/{self.workspace_id}"
        if workflow_id:
            path += f"/workflows/{workflow_id}"
        if execution_id:
            path += f"/executions/{execution_id}"
        return path

    def signed_in(self, path: str) -> str:
        """The address as `make dev` prints it: the token in the fragment."""
        return f"{path}#access_token={self.token}"


@pytest.fixture
def tenant(api: httpx.Client) -> Tenant:
    workspace_id = unique("ws")
    return Tenant(api, workspace_id, tokens.mint_token([workspace_id]))


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    with loopback_server() as server:
        yield server


def delay(action_id: str, seconds: int, name: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"id": action_id, "type": "delay", "params": {"seconds": seconds}}
    if name:
        action["name"] = name
    return action


def http_call(action_id: str, url: str, name: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"id": action_id, "type": "http_request", "params": {"url": url}}
    if name:
        action["name"] = name
    return action


def tab_to(page: Any, locator: Any, max_presses: int = 80) -> None:
    """Presses Tab (keyboard only) until `locator` has the focus."""
    for _ in range(max_presses):
        if locator.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{locator} never received the focus after {max_presses} Tab presses")


def focused_text(page: Any) -> str:
    text: str = page.evaluate("() => document.activeElement?.innerText ?? ''")
    return text


def live_counts(page: Any) -> dict[str, int]:
    counts: dict[str, int] = page.evaluate("() => window.__liveCounts()")
    return counts
