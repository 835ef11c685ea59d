"""execmon: start, watch and steer workflow executions from a terminal or a CI job.

    export EXECMON_URL=https://… EXECMON_TOKEN=…
    execmon start ws orders --input '{"order": 7}' --watch      # fails the CI job if the run fails

Output: a live view on a terminal; one plain line per change otherwise (no ANSI codes); with
--json one JSON object per line, the last one the final execution.
Exit codes: 0 completed (or done), 1 failed, 3 cancelled, 2 usage error, 4 API or network error
(one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO, TypeVar

from rich.console import Console, RenderableType
from rich.live import Live
from rich.text import Text

from execution_monitor_client.client import Client
from execution_monitor_client.errors import ApiError, ExecutionMonitorError
from execution_monitor_client.models import Execution, Model, WorkflowSummary
from execution_monitor_client.render import (
    change_line,
    clean,
    execution_table,
    list_line,
    render_execution,
    step_phrase,
    summary_line,
)
from execution_monitor_client.watch import ExecutionWatcher, watch_execution

M = TypeVar("M", bound=Model)
EXIT_COMPLETED, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED, EXIT_API = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130
EXIT_BY_STATUS = {"completed": EXIT_COMPLETED, "failed": EXIT_FAILED, "cancelled": EXIT_CANCELLED}
# A watch gives up after this many failed requests in a row (at the polling interval: ~30 s).
MAX_CONSECUTIVE_ERRORS = 15
STATUSES = ("pending", "running", "completed", "failed", "cancelled")


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().strip()}")


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value!r}")
    return number


def _limit(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--url", default=argparse.SUPPRESS, help="API base URL (default: $EXECMON_URL)")
    common.add_argument("--token", default=argparse.SUPPRESS, help="bearer token (default: $EXECMON_TOKEN)")
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="one JSON object per line"
    )

    watching = _Parser(add_help=False)
    mode = watching.add_mutually_exclusive_group()
    mode.add_argument("--sse", dest="mode", action="store_const", const="sse", help="live stream (default)")
    mode.add_argument("--poll", dest="mode", action="store_const", const="poll", help="poll instead of SSE")
    watching.add_argument(
        "--interval", type=_positive, default=2.0, help="polling interval in seconds (default 2)"
    )

    parser = _Parser(
        prog="execmon",
        description="Start, watch and steer workflow executions.",
        epilog="Exit codes: 0 completed, 1 failed, 3 cancelled, 2 usage error, 4 API or network error.",
    )
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--token", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", default=False, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, *parents: _Parser) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help, parents=[common, *parents])

    def execution_args(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        for name in ("workspace", "workflow", "execution"):
            sub.add_argument(name)
        return sub

    put = command("put-workflow", "create or replace a workflow from a JSON file ('-' = stdin)")
    put.add_argument("workspace")
    put.add_argument("workflow")
    put.add_argument("file")
    put.add_argument(
        "--rotate-webhook-secret",
        action="store_true",
        help="replace the webhooks' signing secret (printed once)",
    )

    start = command("start", "start an execution", watching)
    start.add_argument("workspace")
    start.add_argument("workflow")
    start.add_argument("--input", default="{}", help="JSON object, or @FILE")
    start.add_argument("--idempotency-key", default=None)
    start.add_argument("--watch", action="store_true", help="follow it to the end; exit with its outcome")

    execution_args(command("watch", "follow an execution to its end; exit with its outcome", watching))
    execution_args(command("get", "show an execution"))

    listing = command("list", "list executions of a workflow (of the workspace without WORKFLOW)")
    listing.add_argument("workspace")
    listing.add_argument("workflow", nargs="?")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--limit", type=_limit, default=20)

    execution_args(command("cancel", "cancel an execution"))
    retry = execution_args(command("retry", "start a new execution with the same input", watching))
    retry.add_argument("--watch", action="store_true", help="follow the new execution to its end")
    retry_step = execution_args(
        command("retry-step", "re-run a failed step and the steps after it", watching)
    )
    retry_step.add_argument("action_id")
    retry_step.add_argument("--watch", action="store_true", help="follow the execution to its end")

    plan = execution_args(
        command("retry-plan", "what a retry would re-run (no ACTION_ID: the whole execution)")
    )
    plan.add_argument("action_id", nargs="?")
    execution_args(command("events", "events an execution published and their webhook deliveries"))
    workflows = command("workflows", "list the workflows of a workspace")
    workflows.add_argument("workspace")
    workflows.add_argument("--limit", type=_limit, default=50)
    return parser


def _now() -> datetime:
    return datetime.now(UTC)


class Output:
    """Where results go: JSON lines, a rich view (terminal) or plain lines."""

    def __init__(self, stdout: TextIO, console: Console, as_json: bool) -> None:
        self.stdout, self.console = stdout, console
        self.mode = "json" if as_json else "live" if console.is_terminal else "plain"
        self._lock = threading.Lock()  # watcher callbacks print from the watcher's thread

    def line(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stdout, flush=True)

    def json(self, data: Mapping[str, Any]) -> None:
        self.line(json.dumps(data, separators=(",", ":"), ensure_ascii=False))

    def show(
        self, model: Model, plain: Callable[[], Sequence[str]], rich: Callable[[], RenderableType]
    ) -> None:
        """One result in the chosen mode."""
        if self.mode == "json":
            self.json(model.to_json())
        elif self.mode == "live":
            self.console.print(rich())
        else:
            for text in plain():
                self.line(text)

    def rows(
        self, models: Sequence[M], plain: Callable[[M], str], rich: Callable[[], RenderableType]
    ) -> None:
        """A list in the chosen mode: a JSON object or a plain line per item, or one rich table."""
        if self.mode == "live":
            self.console.print(rich())
            return
        for model in models:
            if self.mode == "json":
                self.json(model.to_json())
            else:
                self.line(plain(model))


class _PlainView:
    def __init__(self, output: Output) -> None:
        self.output = output
        self.previous: Execution | None = None

    def changed(self, execution: Execution) -> None:
        self.output.line(change_line(self.previous, execution, _now()))
        self.previous = execution

    def problem(self, error: ExecutionMonitorError) -> None:
        """Transient trouble is retried silently; what stops the watch is reported once, at exit."""

    @contextmanager
    def showing(self, watcher: ExecutionWatcher) -> Iterator[None]:
        yield

    def finished(self, final: Execution) -> None:
        self.output.line(summary_line(final))


class _JsonView(_PlainView):
    def __init__(self, output: Output) -> None:
        super().__init__(output)
        self.last: dict[str, Any] | None = None

    def changed(self, execution: Execution) -> None:
        self.last = execution.to_json()
        self.output.json(self.last)

    def finished(self, final: Execution) -> None:
        if final.to_json() != self.last:  # the last line is always the final execution
            self.output.json(final.to_json())


class _LiveView(_PlainView):
    def __init__(self, output: Output) -> None:
        super().__init__(output)
        self.notice: str | None = None

    def changed(self, execution: Execution) -> None:
        self.notice = None

    def problem(self, error: ExecutionMonitorError) -> None:
        self.notice = f"{error} (retrying)" if error.transient else str(error)

    @contextmanager
    def showing(self, watcher: ExecutionWatcher) -> Iterator[None]:
        console = self.output.console
        rows = max(5, console.height - 10)

        def view() -> RenderableType:
            execution = watcher.execution
            if execution is None:
                return Text(self.notice or "loading…", style="dim")
            return render_execution(execution, _now(), max_rows=rows, notice=self.notice)

        with Live(get_renderable=view, console=console, refresh_per_second=4, transient=False):
            yield

    def finished(self, final: Execution) -> None:
        self.output.console.print(Text(summary_line(final)))


def follow(
    client: Client, output: Output, args: argparse.Namespace, workspace: str, workflow: str, execution: str
) -> int:
    """Watches an execution to its end and returns the exit code of its outcome."""
    view = {"json": _JsonView, "live": _LiveView, "plain": _PlainView}[output.mode](output)
    with (
        watch_execution(
            client,
            workspace,
            workflow,
            execution,
            enable_sse=args.mode != "poll",
            polling_interval=args.interval,
            on_change=view.changed,
            on_error=view.problem,
            max_consecutive_errors=MAX_CONSECUTIVE_ERRORS,
        ) as watcher,
        view.showing(watcher),
    ):
        final = watcher.wait()
    view.finished(final)
    return EXIT_BY_STATUS[final.status]


def _read_json(source: str, what: str, stdin: TextIO) -> Any:
    try:
        text = stdin.read() if source == "-" else Path(source).read_text()
    except OSError as error:
        raise UsageError(f"cannot read {what} {source}: {error.strerror or error}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{what} {source} is not JSON: {error}") from error


def _input(value: str, stdin: TextIO) -> dict[str, Any]:
    if value.startswith("@"):
        data = _read_json(value[1:], "input file", stdin)
    else:
        try:
            data = json.loads(value)
        except json.JSONDecodeError as error:
            raise UsageError(f"--input is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise UsageError("--input must be a JSON object")
    return data


def _execution_lines(execution: Execution) -> list[str]:
    steps = execution.action_results or []
    return [change_line(None, execution, _now())] + [
        f"  {number}. {step_phrase(step)}" for number, step in enumerate(steps, start=1)
    ]


def _put_workflow(client: Client, output: Output, args: argparse.Namespace, stdin: TextIO) -> int:
    saved = client.put_workflow(
        args.workspace,
        args.workflow,
        _read_json(args.file, "workflow file", stdin),
        rotate_webhook_secret=args.rotate_webhook_secret,
    )
    lines = [f"{saved.id} version {saved.version}: {clean(saved.name)} ({len(saved.actions)} actions)"]
    if saved.webhook_secret:
        lines.append(f"webhook secret (shown only now): {saved.webhook_secret}")
    if output.mode == "json" and saved.webhook_secret:
        output.json({**saved.to_json(), "webhookSecret": saved.webhook_secret})
    else:
        output.show(saved, lambda: lines, lambda: Text("\n".join(lines)))
    return EXIT_COMPLETED


def _start(client: Client, output: Output, args: argparse.Namespace, stdin: TextIO) -> int:
    started = client.start_execution(
        args.workspace, args.workflow, _input(args.input, stdin), idempotency_key=args.idempotency_key
    )
    return _created(client, output, args, started)


def _watch(client: Client, output: Output, args: argparse.Namespace, stdin: TextIO) -> int:
    return follow(client, output, args, args.workspace, args.workflow, args.execution)


def _get(client: Client, output: Output, args: argparse.Namespace, stdin: TextIO) -> int:
    found = client.get_execution(args.workspace, args.workflow, args.execution)
    output.show(found, lambda: _execution_lines(found), lambda: render_execution(found, _now()))
    return EXIT_COMPLETED


def _list(client: Client, output: Output, args: argparse.Namespace, stdin: TextIO) -> int:
    if args.workflow is None:
        listing = client.list_workspace_executions(args.workspace, status=args.status, limit=args.limit)
    else:
        listing = client.list_executions(args.workspace, args.workflow, status=args.status, limit=args.limit)
    executions = list(listing)
    output.rows(executions, list_line, lambda: execution_table(executions, _now()))
    return EXIT_COMPLETED


def _cancel(client: Client, output: Output, args: argparse.Namespace, stdin: TextIO) -> int:
    cancelled = client.cancel_execution(args.workspace, args.workflow, args.execution)
    output.show(cancelled, lambda: [summary_line(cancelled)], lambda: render_execution(cancelled, _now()))
    return EXIT_COMPLETED


def _retry(client: Client, output: Output, args: argparse.Namespace, stdin: TextIO) -> int:
    return _created(
        client, output, args, client.retry_execution(args.workspace, args.workflow, args.execution)
    )


def _retry_step(client: Client, output: Output, args: argparse.Namespace, stdin: TextIO) -> int:
    resumed = client.retry_step(args.workspace, args.workflow, args.execution, args.action_id)
    return _created(client, output, args, resumed)


def _retry_plan(client: Client, output: Output, args: argparse.Namespace, stdin: TextIO) -> int:
    plan = client.get_retry_plan(args.workspace, args.workflow, args.execution, args.action_id)
    text = json.dumps(plan.to_json(), indent=2)
    output.show(plan, text.splitlines, lambda: Text(text))
    return EXIT_COMPLETED


def _events(client: Client, output: Output, args: argparse.Namespace, stdin: TextIO) -> int:
    events = client.list_execution_events(args.workspace, args.workflow, args.execution)
    output.rows(events, _compact, lambda: Text("\n".join(_compact(event) for event in events)))
    return EXIT_COMPLETED


def _workflows(client: Client, output: Output, args: argparse.Namespace, stdin: TextIO) -> int:
    workflows = list(client.list_workflows(args.workspace, limit=args.limit))

    def line(summary: WorkflowSummary) -> str:
        last = summary.last_execution_status or "-"
        return f"{summary.id} v{summary.version} {clean(summary.name)} (last execution: {last})"

    output.rows(workflows, line, lambda: Text("\n".join(line(summary) for summary in workflows)))
    return EXIT_COMPLETED


def _compact(model: Model) -> str:
    return json.dumps(model.to_json(), separators=(",", ":"))


def _created(client: Client, output: Output, args: argparse.Namespace, execution: Execution) -> int:
    """After start, retry or retry-step: follow it with --watch, else say which execution it is."""
    if args.watch:
        return follow(client, output, args, execution.workspace_id, execution.workflow_id, execution.id)
    output.show(execution, lambda: [execution.id], lambda: Text(f"{execution.id} {execution.status}"))
    return EXIT_COMPLETED


Command = Callable[[Client, Output, argparse.Namespace, TextIO], int]
COMMANDS: dict[str, Command] = {
    "put-workflow": _put_workflow,
    "start": _start,
    "watch": _watch,
    "get": _get,
    "list": _list,
    "cancel": _cancel,
    "retry": _retry,
    "retry-step": _retry_step,
    "retry-plan": _retry_plan,
    "events": _events,
    "workflows": _workflows,
}


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
    console: Console | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    stdout, stderr, stdin = stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin
    environ = os.environ if environ is None else environ
    try:
        args = build_parser().parse_args(argv)
        url = args.url or environ.get("EXECMON_URL")
        token = args.token or environ.get("EXECMON_TOKEN")
        if not url:
            raise UsageError("no API URL: set EXECMON_URL or pass --url")
        if not token:
            raise UsageError("no token: set EXECMON_TOKEN or pass --token")
        output = Output(stdout, console or Console(file=stdout), args.json)
        with Client(url, token=token) as client:
            return COMMANDS[args.command](client, output, args, stdin)
    except UsageError as error:
        print(f"execmon: error: {error}", file=stderr)
        return EXIT_USAGE
    except ApiError as error:
        print(f"execmon: {error.one_line()}", file=stderr)
        return EXIT_API
    except ExecutionMonitorError as error:
        print(f"execmon: {' '.join(str(error).split())}", file=stderr)
        return EXIT_API
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
