"""`execmon`, the installed command, against the local runtime: every command, its output modes
and its exit codes (0 completed, 1 failed, 3 cancelled, 2 usage error, 4 API or network error)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from execution_monitor_client import Client, Execution
from execution_monitor_client.cli import main
from tests.e2e.support import definition, delay_action, unique
from tests.integration.loopback import Loopback, loopback_server

pytestmark = pytest.mark.xdist_group("e2e")

EXECMON = shutil.which("execmon", path=str(Path(sys.executable).parent))
ANSI = re.compile(r"\x1b\[")
DEADLINE_SECONDS = 60
QUICK = definition(delay_action("warm_up", 1), delay_action("settle", 0), name="quick")
UNREACHABLE = {
    "id": "call",
    "type": "http_request",
    "params": {"url": "http://127.0.0.1:1/", "timeoutSeconds": 2},
}
FAILING = definition(delay_action("warm_up", 0), UNREACHABLE, name="failing")
LONG = definition(delay_action("long", 60), name="long")


@pytest.fixture
def env(base_url: str, token_for: Callable[..., str]) -> dict[str, str]:
    workspace_id = unique("ws")
    return {
        **os.environ,
        "EXECMON_URL": base_url,
        "EXECMON_TOKEN": token_for([workspace_id]),
        "WS": workspace_id,
        "NO_COLOR": "",
    }


@pytest.fixture
def client(env: dict[str, str]) -> Iterator[Client]:
    with Client(env["EXECMON_URL"], token=env["EXECMON_TOKEN"]) as direct:
        yield direct


def execmon(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert EXECMON, "execmon is not installed in this environment: run `make venv`"
    return subprocess.run(
        [EXECMON, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
        check=False,
    )


def workflow(client: Client, env: dict[str, str], body: dict[str, Any]) -> str:
    workflow_id = unique("wf")
    client.put_workflow(env["WS"], workflow_id, body)
    return workflow_id


def assert_one_error_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 4, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("execmon: ")
    assert all(fragment in lines[0] for fragment in fragments), lines[0]


def test_given_a_workflow_file_then_put_workflow_saves_it_and_says_which_version(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(QUICK))

    first = execmon(env, "put-workflow", env["WS"], "orders", str(path))
    second = execmon(env, "put-workflow", env["WS"], "orders", "-", "--json", stdin=json.dumps(QUICK))

    assert first.returncode == 0, first.stderr
    assert first.stdout == "orders version 1: quick (2 actions)\n"
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["version"] == 2


def test_given_start_watch_in_ci_then_a_completed_run_exits_0_with_plain_lines(
    env: dict[str, str], client: Client
) -> None:
    workflow_id = workflow(client, env, QUICK)

    result = execmon(env, "start", env["WS"], workflow_id, "--input", '{"order": 7}', "--watch")

    assert result.returncode == 0, result.stderr
    assert not ANSI.search(result.stdout)
    lines = result.stdout.splitlines()
    execution_id = lines[0].split()[0]
    assert all(line.startswith(f"{execution_id} ") for line in lines)
    assert any("warm_up completed" in line for line in lines)
    assert re.fullmatch(rf"{execution_id} completed in \S+: 2 / 2 steps \(100%\)", lines[-1])
    assert client.get_execution(env["WS"], workflow_id, execution_id).input == {"order": 7}


def test_given_start_watch_in_ci_then_a_failed_run_fails_the_job_with_exit_1_and_the_reason(
    env: dict[str, str], client: Client
) -> None:
    workflow_id = workflow(client, env, FAILING)

    result = execmon(env, "start", env["WS"], workflow_id, "--watch", "--poll", "--interval", "0.2")

    assert result.returncode == 1, result.stderr
    assert not ANSI.search(result.stdout)
    assert " failed after " in result.stdout.splitlines()[-1]
    assert "call: " in result.stdout.splitlines()[-1]  # the failed step and its error


def test_given_watch_json_and_a_cancel_then_every_line_is_json_the_last_the_final_execution_and_exit_3(
    env: dict[str, str], client: Client
) -> None:
    workflow_id = workflow(client, env, LONG)
    started = client.start_execution(env["WS"], workflow_id)
    assert EXECMON
    watching = subprocess.Popen(
        [EXECMON, "watch", env["WS"], workflow_id, started.id, "--json", "--poll", "--interval", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while client.get_execution(env["WS"], workflow_id, started.id).status != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        cancel = execmon(env, "cancel", env["WS"], workflow_id, started.id)
        stdout, stderr = watching.communicate(timeout=DEADLINE_SECONDS)
    finally:
        watching.kill()

    assert cancel.returncode == 0, cancel.stderr
    assert cancel.stdout.startswith(f"{started.id} cancelled after ")
    assert watching.returncode == 3, stderr
    objects = [json.loads(line) for line in stdout.splitlines()]
    assert all(each["id"] == started.id for each in objects)
    final = Execution.from_json(objects[-1])
    assert final.status == "cancelled"
    assert [step.status for step in final.action_results or []] == ["cancelled"]
    versions = [each["version"] for each in objects]
    assert versions == sorted(versions)


def test_given_a_failed_step_then_retry_step_watch_exits_0_once_it_passes(
    env: dict[str, str], client: Client
) -> None:
    with loopback_server() as server:
        flaky = _flaky_workflow(client, env, server)
        first = execmon(env, "start", env["WS"], flaky, "--watch", "--poll", "--interval", "0.2")
        execution_id = first.stdout.split()[0]

        retried = execmon(env, "retry-step", env["WS"], flaky, execution_id, "call", "--watch")

    assert first.returncode == 1, first.stderr
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.splitlines()[-1].startswith(f"{execution_id} completed in ")
    step = client.get_execution(env["WS"], flaky, execution_id).get_action_result("call")
    assert step is not None and (step.status, step.attempt) == ("completed", 2)


def _flaky_workflow(client: Client, env: dict[str, str], server: Loopback) -> str:
    server.statuses.append(500)  # the first call fails, the next ones pass
    call = {"id": "call", "type": "http_request", "params": {"url": f"{server.url}/flaky"}}
    return workflow(client, env, definition(call, name="flaky"))


def test_given_a_failed_execution_then_retry_starts_a_new_one_and_prints_its_id(
    env: dict[str, str], client: Client
) -> None:
    workflow_id = workflow(client, env, FAILING)
    failed = execmon(env, "start", env["WS"], workflow_id, "--watch")
    original = failed.stdout.split()[0]

    retried = execmon(env, "retry", env["WS"], workflow_id, original)

    assert retried.returncode == 0, retried.stderr
    new_id = retried.stdout.strip()
    assert new_id != original
    assert client.get_execution(env["WS"], workflow_id, new_id).retry_of == original


def test_given_executions_then_get_and_list_show_them_plain_and_as_json(
    env: dict[str, str], client: Client
) -> None:
    workflow_id = workflow(client, env, QUICK)
    done = execmon(env, "start", env["WS"], workflow_id, "--watch").stdout.split()[0]
    started = execmon(env, "start", env["WS"], workflow_id)
    newest = started.stdout.strip()
    client.cancel_execution(env["WS"], workflow_id, newest)

    got = execmon(env, "get", env["WS"], workflow_id, done)
    got_json = execmon(env, "get", env["WS"], workflow_id, done, "--json")
    listed = execmon(env, "list", env["WS"], workflow_id, "--status", "completed", "--limit", "5")
    listed_json = execmon(env, "list", env["WS"], workflow_id, "--json", "--limit", "5")

    assert started.returncode == 0 and newest.startswith("exec_")
    assert got.returncode == 0, got.stderr
    summary, *steps = got.stdout.splitlines()
    assert summary.startswith(f"{done} completed | 2 / 2 steps (100%)")
    assert [re.sub(r" in \S+$", " in T", line) for line in steps] == [
        "  1. warm_up completed in T",
        "  2. settle completed in T",
    ]
    assert json.loads(got_json.stdout)["id"] == done
    # A list carries no steps: its progress is the header's, which the progress writer updates
    # a moment later, so only the id and status are certain here.
    assert [line.split()[:2] for line in listed.stdout.splitlines()] == [[done, "completed"]]
    ids = [json.loads(line)["id"] for line in listed_json.stdout.splitlines()]
    assert ids == [newest, done]  # newest first


def test_given_api_and_network_errors_then_execmon_exits_4_with_one_line_and_no_traceback(
    env: dict[str, str], client: Client
) -> None:
    workflow_id = workflow(client, env, QUICK)
    done = execmon(env, "start", env["WS"], workflow_id, "--watch").stdout.split()[0]

    assert_one_error_line(execmon(env, "cancel", env["WS"], workflow_id, done), "conflict", "HTTP 409")
    assert_one_error_line(execmon(env, "get", env["WS"], workflow_id, "exec_nope"), "not_found", "HTTP 404")
    assert_one_error_line(execmon(env, "watch", env["WS"], workflow_id, "exec_nope"), "not_found")
    assert_one_error_line(
        execmon({**env, "EXECMON_TOKEN": "not-a-token"}, "list", env["WS"], workflow_id), "HTTP 401"
    )
    bad = execmon(env, "start", env["WS"], workflow_id, "--watch", "--url", "http://127.0.0.1:1")
    assert_one_error_line(bad, "cannot reach http://127.0.0.1:1/api/")


def test_given_a_usage_error_then_the_installed_execmon_exits_2(env: dict[str, str]) -> None:
    result = execmon({**env, "EXECMON_URL": ""}, "list", env["WS"])

    assert result.returncode == 2
    assert "no API URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_given_a_terminal_then_watch_shows_the_live_view_ending_on_the_final_table(
    env: dict[str, str], client: Client
) -> None:
    workflow_id = workflow(client, env, FAILING)
    started = client.start_execution(env["WS"], workflow_id)
    console = Console(width=100, height=40, record=True, file=io.StringIO(), force_terminal=True)
    stdout, stderr = io.StringIO(), io.StringIO()

    code = main(
        ["watch", env["WS"], workflow_id, started.id],
        stdout=stdout,
        stderr=stderr,
        console=console,
        environ=env,
    )

    assert code == 1, stderr.getvalue()
    text = console.export_text()
    final_view = text[text.rindex("✖ failed  " + started.id) :]
    assert "1 / 2 steps (50%)" in final_view
    assert re.search(r"warm_up\s+│ delay\s+│ ✔ completed", final_view)
    assert re.search(r"call\s+│ http_request\s+│ ✖ failed", final_view)
    assert "Error: call: " in final_view
    assert f"{started.id} failed after " in final_view.split("Error: call: ")[1]  # the summary, last
