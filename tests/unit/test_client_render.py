"""How executions read in a terminal (a rich Console of fixed width) and in plain lines, and the
CLI's usage errors (exit 2) that need no server."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from rich.console import Console

from execution_monitor_client import Execution
from execution_monitor_client.cli import main
from execution_monitor_client.render import (
    change_line,
    execution_table,
    format_duration,
    render_execution,
    summary_line,
)
from tests.unit.client_fakes import execution, step

NOW = datetime(2026, 1, 1, 10, 0, 3, tzinfo=UTC)
ANSI = re.compile(r"\x1b\[")


def rendered(model: Execution, *, width: int = 100, max_rows: int | None = None) -> str:
    console = Console(
        width=width, record=True, file=io.StringIO(), force_terminal=True, color_system="truecolor"
    )
    console.print(render_execution(model, NOW, max_rows=max_rows))
    return console.export_text()


def running_with_eta() -> Execution:
    data = execution(
        5,
        "running",
        [
            step("warm_up", "completed", name="Warm up", duration=1500),
            step("call", "running", actionType="http_request"),
            step("settle"),
        ],
    )
    data["progress"] = {
        **data["progress"],
        "estimatedTimeRemaining": 9000,
        "estimatedCompletionAt": "2026-01-01T10:00:07Z",
    }
    return Execution.from_json(data)


def test_given_a_running_execution_then_the_view_shows_progress_time_remaining_and_the_step_table() -> None:
    text = rendered(running_with_eta())

    assert "▶ running" in text
    assert "1 / 3 steps (33%)" in text
    assert "4.0s remaining" in text  # counts down from estimatedCompletionAt, not the stale 9000 ms
    assert "elapsed 3.0s" in text
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.count("│") >= 5}
    assert set(rows) == {"Warm up", "call", "settle"}
    assert "✔ completed" in rows["Warm up"] and "1.5s" in rows["Warm up"]
    assert "http_request" in rows["call"] and "▶ running" in rows["call"]
    assert "○ pending" in rows["settle"]
    assert max(len(line) for line in text.splitlines()) <= 100


def test_given_a_failed_execution_then_the_view_shows_the_step_error_and_the_execution_error() -> None:
    data = execution(
        7, "failed", [step("call", "failed", error="HTTP 500 from the API"), step("settle", "skipped")]
    )
    data["error"] = "call: HTTP 500 from the API"

    text = rendered(Execution.from_json(data))

    assert "✖ failed" in text
    assert "took 2.0s" in text and "remaining" not in text
    assert "HTTP 500 from the API" in text.split("Error:")[0]  # under the step
    assert "Error: call: HTTP 500 from the API" in text
    assert "↷ skipped" in text


def test_given_a_thousand_steps_then_the_table_shows_a_window_around_the_running_one() -> None:
    steps = [step(f"s{index}", "completed") for index in range(500)] + [step("s500", "running")]
    steps += [step(f"s{index}") for index in range(501, 1000)]

    text = rendered(Execution.from_json(execution(9, "running", steps)), max_rows=12)

    assert "… 496 earlier steps" in text
    assert "s500" in text and "s499" in text
    assert "… 492 later steps" in text
    assert len(text.splitlines()) < 25


def test_given_executions_then_the_list_table_has_a_row_each_with_status_and_progress() -> None:
    executions = [
        Execution.from_json({**execution(4, "completed"), "id": "exec_new", "actionResults": None}),
        Execution.from_json({**execution(6, "failed"), "id": "exec_old", "actionResults": None}),
    ]
    console = Console(width=100, record=True, file=io.StringIO(), force_terminal=True)

    console.print(execution_table(executions, NOW))

    rows = [line for line in console.export_text().splitlines() if line.startswith("exec_")]
    assert [row.split()[0] for row in rows] == ["exec_new", "exec_old"]
    assert "✔ completed" in rows[0] and "✖ failed" in rows[1]
    assert "0 / 2 steps (0%)" in rows[0]


def test_given_server_text_with_escape_codes_then_no_ansi_reaches_plain_lines() -> None:
    data = execution(3, "failed", [step("call", "failed", error="bad \x1b[31mred\x1b[0m answer")])

    line = summary_line(Execution.from_json(data))

    assert not ANSI.search(line)
    assert "bad [31mred[0m answer" in line


def test_given_a_change_then_the_plain_line_says_what_moved() -> None:
    before = Execution.from_json(execution(2, "running", [step("first", "running"), step("second")]))
    after = Execution.from_json(
        execution(3, "running", [step("first", "completed", duration=1200), step("second", "running")])
    )

    line = change_line(before, after, NOW)

    assert line == f"{after.id} running | 1 / 2 steps (50%) | first completed in 1.2s | second running"


def test_given_a_stall_then_the_line_says_it_once_and_the_view_shows_it_until_cleared() -> None:
    running = execution(4, "running", [step("call", "running")])
    stalled = {
        **running,
        "version": 5,
        "stalled": {"actionId": "call", "runningFor": 42000, "expectedDuration": 9000},
    }
    before, flagged = Execution.from_json(running), Execution.from_json(stalled)

    first = change_line(before, flagged, NOW)
    again = change_line(flagged, Execution.from_json({**stalled, "version": 6}), NOW)

    assert "stalled: call running for 42.0s (expected ~9.0s)" in first
    assert "stalled" not in again
    assert "Stalled: call running for 42.0s" in rendered(flagged)
    assert "talled" not in rendered(before)


@pytest.mark.parametrize(
    ("milliseconds", "text"),
    [(None, "-"), (250, "250ms"), (1500, "1.5s"), (125_000, "2m 05s"), (3_726_000, "1h 02m")],
)
def test_given_durations_then_they_read_at_a_sensible_unit(milliseconds: int | None, text: str) -> None:
    assert format_duration(milliseconds) == text


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        ([], {}, "required: COMMAND"),
        (["get", "ws", "wf", "ex"], {}, "no API URL"),
        (["get", "ws", "wf", "ex"], {"EXECMON_URL": "http://x"}, "no token"),
        (
            ["start", "ws", "wf", "--input", "{oops"],
            {"EXECMON_URL": "http://x", "EXECMON_TOKEN": "t"},
            "not JSON",
        ),
        (
            ["start", "ws", "wf", "--input", "[1]"],
            {"EXECMON_URL": "http://x", "EXECMON_TOKEN": "t"},
            "JSON object",
        ),
        (
            ["list", "ws", "--limit", "0"],
            {"EXECMON_URL": "http://x", "EXECMON_TOKEN": "t"},
            "positive whole number",
        ),
        (["watch", "ws", "wf", "ex", "--sse", "--poll"], {}, "not allowed with argument"),
        (["frobnicate"], {}, "invalid choice"),
    ],
)
def test_given_a_usage_error_then_execmon_exits_2_and_says_why(
    argv: list[str], environ: dict[str, str], message: str
) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()

    code = main(argv, stdout=stdout, stderr=stderr, environ=environ)

    assert code == 2
    assert message in stderr.getvalue()
    assert stdout.getvalue() == ""
    assert "Traceback" not in stderr.getvalue()
