"""watchExecution() and <execution-monitor> as a library, against a scripted API (page.route)
and a scripted EventSource: the seed's options and return values, merging, events, ETags."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Tenant

pytestmark = pytest.mark.xdist_group("browser")

EXECUTION_PATH = "/api/workspaces/stub/workflows/wf/executions/exec_1"

FAKE_EVENT_SOURCE = """() => {
  class FakeEventSource extends EventTarget {
    constructor(url) {
      super();
      this.url = url;
      this.readyState = 0;
      this.CLOSED = 2;
      FakeEventSource.instances.push(this);
    }
    open() { this.readyState = 1; this.dispatchEvent(new Event('open')); }
    emit(type, data) { this.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) })); }
    fail() { this.readyState = 2; this.dispatchEvent(new Event('error')); }
    close() { this.readyState = 2; }
  }
  FakeEventSource.instances = [];
  window.FakeEventSource = FakeEventSource;
}"""


def step(action_id: str, status: str, attempt: int = 1) -> dict[str, Any]:
    return {
        "actionId": action_id,
        "actionType": "delay",
        "name": action_id.title(),
        "status": status,
        "attempt": attempt,
        "startedAt": "2026-01-01T10:00:00Z",
        "completedAt": None,
        "duration": None,
        "error": None,
        "output": None,
        "history": [],
    }


def execution(status: str, version: int, steps: list[dict[str, Any]]) -> dict[str, Any]:
    done = sum(1 for item in steps if item["status"] == "completed")
    return {
        "id": "exec_1",
        "workspaceId": "stub",
        "workflowId": "wf",
        "workflowVersion": 1,
        "status": status,
        "startedAt": "2026-01-01T10:00:00Z",
        "completedAt": None,
        "updatedAt": "2026-01-01T10:00:00Z",
        "duration": None,
        "error": None,
        "retryOf": None,
        "retriedBy": None,
        "version": version,
        "canCancel": status in ("pending", "running"),
        "canRetry": status in ("failed", "cancelled"),
        "progress": {
            "completedSteps": done,
            "failedSteps": 0,
            "totalSteps": len(steps),
            "percentage": done * 100 // max(1, len(steps)),
            "estimatedTimeRemaining": None,
            "estimatedCompletionAt": None,
        },
        "runs": [],
        "actionResults": steps,
    }


@pytest.fixture
def app_page(page: Any, tenant: Tenant) -> Any:
    page.goto(tenant.signed_in("/"))
    page.get_by_role("heading", name="Execution Monitor").wait_for()
    page.evaluate(FAKE_EVENT_SOURCE)
    return page


def serve(page: Any, answers: list[tuple[int, dict[str, Any] | None, str | None]]) -> list[dict[str, str]]:
    """GET of the execution answers from `answers` in turn (the last one repeats)."""
    seen: list[dict[str, str]] = []

    def handle(route: Any) -> None:
        seen.append(route.request.all_headers())
        status, body, etag = answers.pop(0) if len(answers) > 1 else answers[0]
        headers = {"ETag": etag} if etag else {}
        route.fulfill(
            status=status, headers=headers, content_type="application/json", body=json.dumps(body or {})
        )

    page.route(f"**{EXECUTION_PATH}", handle)
    return seen


def test_given_no_options_then_the_defaults_and_return_values_are_the_seeds(app_page: Any) -> None:
    serve(app_page, [(200, {"execution": execution("running", 1, [step("a", "running")])}, '"1"')])

    result = app_page.evaluate(
        """async () => {
          const { watchExecution, DEFAULT_OPTIONS } = await import('/js/watch.js');
          const watch = watchExecution('stub', 'wf', 'exec_1', { enablePolling: false });
          const loading = watch.isLoading;
          await watch.refreshExecution();
          const names = ['execution', 'isLoading', 'error', 'progress', 'isRunning', 'canCancel', 'canRetry',
            'cancelExecution', 'retryStep', 'retryExecution', 'refreshExecution', 'getActionResult',
            'subscribe', 'getSnapshot', 'close'];
          const out = { defaults: { ...DEFAULT_OPTIONS }, loading,
            missing: names.filter((n) => !(n in watch)),
            isRunning: watch.isRunning, canCancel: watch.canCancel, canRetry: watch.canRetry,
            progress: watch.progress, step: watch.getActionResult('a').status,
            none: watch.getActionResult('x') };
          watch.close();
          return out;
        }"""
    )

    assert result["defaults"] == {
        "enablePolling": True,
        "pollingInterval": 2000,
        "enableSSE": False,
        "autoRefreshOnComplete": True,
    }
    assert result["loading"] is True
    assert result["missing"] == []
    assert (result["isRunning"], result["canCancel"], result["canRetry"]) == (True, True, False)
    assert result["progress"]["totalSteps"] == 1
    assert result["step"] == "running"
    assert result["none"] is None


def test_given_sse_updates_then_changed_steps_merge_in_order_and_stale_versions_are_ignored(
    app_page: Any,
) -> None:
    snapshot = execution("running", 3, [step("a", "running"), step("b", "pending")])
    update = {key: value for key, value in execution("running", 4, []).items() if key != "actionResults"}
    update["progress"] = {**snapshot["progress"], "completedSteps": 1, "percentage": 50}
    update["changedActionResults"] = [{**step("a", "completed"), "duration": 1500}]
    stale = {**update, "version": 2, "changedActionResults": [step("a", "failed")]}

    result = app_page.evaluate(
        """async ([snapshot, update, stale]) => {
          const { watchExecution } = await import('/js/watch.js');
          const changes = [];
          const watch = watchExecution('stub', 'wf', 'exec_1',
            { enableSSE: true, EventSource: window.FakeEventSource });
          watch.subscribe((state, change) => changes.push(change.changedActionIds));
          const source = window.FakeEventSource.instances.at(-1);
          source.open();
          source.emit('snapshot', { execution: snapshot });
          source.emit('update', update);
          source.emit('update', stale);
          const out = { url: source.url, changes, a: watch.getActionResult('a'),
            b: watch.getActionResult('b').status,
            version: watch.execution.version, percentage: watch.progress.percentage };
          watch.close();
          return { ...out, closed: source.readyState };
        }""",
        [snapshot, update, stale],
    )

    assert result["url"].startswith(f"{EXECUTION_PATH}/stream?access_token=ey")
    assert result["changes"] == [None, ["a"]]  # the stale update changed nothing
    assert result["a"]["status"] == "completed"
    assert result["a"]["duration"] == 1500
    assert result["b"] == "pending"
    assert (result["version"], result["percentage"]) == (4, 50)
    assert result["closed"] == 2


def test_given_the_stream_fails_before_opening_then_the_watch_polls_with_if_none_match(app_page: Any) -> None:
    running = execution("running", 5, [step("a", "running")])
    seen = serve(app_page, [(200, {"execution": running}, '"5"'), (304, None, '"5"')])

    result = app_page.evaluate(
        """async () => {
          const { watchExecution } = await import('/js/watch.js');
          const watch = watchExecution('stub', 'wf', 'exec_1',
            { enableSSE: true, pollingInterval: 100, EventSource: window.FakeEventSource });
          window.FakeEventSource.instances.at(-1).fail();
          await new Promise((resolve) => setTimeout(resolve, 1000));
          const status = watch.execution.status;
          watch.close();
          return status;
        }"""
    )

    assert result == "running"
    assert len(seen) >= 3
    assert "if-none-match" not in seen[0]
    assert all(headers["if-none-match"] == '"5"' for headers in seen[1:])


def test_given_a_monitor_element_then_it_fires_complete_once_seen_live_and_cancel_for_a_cancel(
    app_page: Any,
) -> None:
    events = app_page.evaluate(
        """async ([running, completed, cancelled]) => {
          window.EventSource = window.FakeEventSource;
          const fired = [];
          const make = () => {
            const element = document.createElement('execution-monitor');
            const attributes = [['workspace-id', 'stub'], ['workflow-id', 'wf'], ['execution-id', 'exec_1'],
              ['enable-sse', '']];
            for (const [name, value] of attributes) element.setAttribute(name, value);
            for (const type of ['complete', 'cancel', 'error']) {
              element.addEventListener(type, (event) => fired.push([type, event.detail.execution?.status]));
            }
            document.querySelector('main').append(element);
            return window.FakeEventSource.instances.at(-1);
          };
          let source = make();
          source.open();
          source.emit('snapshot', { execution: running });
          source.emit('snapshot', { execution: completed });
          source = make();
          source.open();
          source.emit('snapshot', { execution: running });
          source.emit('snapshot', { execution: cancelled });
          source = make();
          source.open();
          source.emit('snapshot', { execution: completed });  // finished before it was opened: no event
          document.querySelectorAll('execution-monitor').forEach((element) => element.remove());
          return fired;
        }""",
        [
            execution("running", 1, [step("a", "running")]),
            execution("completed", 2, [step("a", "completed")]),
            execution("cancelled", 2, [step("a", "cancelled")]),
        ],
    )

    assert events == [["complete", "completed"], ["cancel", "cancelled"]]


def test_given_an_unknown_execution_then_the_element_fires_error_and_says_so(app_page: Any) -> None:
    serve(app_page, [(404, {"error": {"code": "not_found", "message": "execution exec_1 not found"}}, None)])

    fired = app_page.evaluate(
        """async () => {
          const element = document.createElement('execution-monitor');
          const attributes = [['workspace-id', 'stub'], ['workflow-id', 'wf'], ['execution-id', 'exec_1']];
          for (const [name, value] of attributes) element.setAttribute(name, value);
          const fired = new Promise((resolve) => {
            element.addEventListener('error', (event) => resolve(event.detail.error.status));
          });
          document.querySelector('main').append(element);
          return fired;
        }"""
    )

    assert fired == 404
    problem = app_page.locator("execution-monitor .notice-error")
    problem.wait_for()
    assert "does not exist" in problem.inner_text()


def test_given_the_rfc_7636_example_then_the_pkce_challenge_matches(app_page: Any) -> None:
    challenge = app_page.evaluate(
        "async (verifier) => (await import('/js/auth.js')).pkceChallenge(verifier)",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    )

    assert challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_given_an_estimate_then_time_remaining_counts_down_and_elapsed_counts_up_until_the_end(
    app_page: Any,
) -> None:
    app_page.evaluate(
        """([running, completed]) => {
          window.EventSource = window.FakeEventSource;
          const now = Date.now();
          running.startedAt = new Date(now - 10_000).toISOString();
          running.progress.estimatedCompletionAt = new Date(now + 30_000).toISOString();
          running.progress.estimatedTimeRemaining = 30_000;
          window.__finish = () => {
            window.FakeEventSource.instances.at(-1).emit('snapshot', { execution: completed });
          };
          const element = document.createElement('execution-monitor');
          const attributes = [['workspace-id', 'stub'], ['workflow-id', 'wf'], ['execution-id', 'exec_1'],
            ['enable-sse', '']];
          for (const [name, value] of attributes) element.setAttribute(name, value);
          document.querySelector('main').append(element);
          const source = window.FakeEventSource.instances.at(-1);
          source.open();
          source.emit('snapshot', { execution: running });
        }""",
        [
            execution("running", 1, [step("a", "running")]),
            {**execution("completed", 2, [step("a", "completed")]), "duration": 12_345},
        ],
    )
    remaining = app_page.locator('execution-monitor [data-slot="remaining"]')
    elapsed = app_page.locator('execution-monitor [data-slot="elapsed"]')

    first_remaining, first_elapsed = seconds(remaining.inner_text()), seconds(elapsed.inner_text())
    assert 15 <= first_remaining <= 30  # generous: a loaded machine may take seconds to get here
    assert 10 <= first_elapsed <= 25
    expect(remaining).not_to_have_text(remaining.inner_text(), timeout=10_000)
    expect(elapsed).not_to_have_text(elapsed.inner_text(), timeout=10_000)
    assert seconds(remaining.inner_text()) < first_remaining
    assert seconds(elapsed.inner_text()) > first_elapsed

    app_page.evaluate("() => window.__finish()")

    expect(app_page.locator('execution-monitor [data-slot="elapsed-label"]')).to_have_text("Duration")
    expect(elapsed).to_have_text("12 s")
    expect(app_page.locator('execution-monitor [data-slot="remaining-row"]')).to_be_hidden()


def seconds(text: str) -> int:
    """ "About 27 s" -> 27"""
    return int(re.search(r"(\d+) s", text).group(1))  # type: ignore[union-attr]
