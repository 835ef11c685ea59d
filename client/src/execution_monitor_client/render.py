"""How an execution reads in a terminal: a rich view (progress bar, time remaining, step table,
errors) and plain one-line descriptions of each change, free of ANSI codes, for logs and CI."""

from __future__ import annotations

import re
from datetime import datetime

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from execution_monitor_client.models import ActionResult, Execution

STATUS_ICONS = {
    "pending": "○",
    "running": "▶",
    "completed": "✔",
    "failed": "✖",
    "cancelled": "⊘",
    "skipped": "↷",
}
STATUS_STYLES = {
    "pending": "dim",
    "running": "bold cyan",
    "completed": "green",
    "failed": "bold red",
    "cancelled": "yellow",
    "skipped": "dim",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: object) -> str:
    """Server text without control characters: no stray ANSI escape ever reaches the terminal."""
    return _CONTROL.sub("", str(text))


def format_duration(milliseconds: float | None) -> str:
    if milliseconds is None:
        return "-"
    if milliseconds < 1000:
        return f"{int(milliseconds)}ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def remaining_ms(execution: Execution, now: datetime) -> int | None:
    """Time left, counting down from estimatedCompletionAt; None when unknown or finished."""
    if execution.is_terminal:
        return None
    progress = execution.progress
    if progress.estimated_completion_at is not None:
        return max(0, int((progress.estimated_completion_at - now).total_seconds() * 1000))
    return progress.estimated_time_remaining


def elapsed_ms(execution: Execution, now: datetime) -> int:
    if execution.duration is not None:
        return execution.duration
    return max(0, int((now - execution.started_at).total_seconds() * 1000))


def steps_text(execution: Execution) -> str:
    progress = execution.progress
    return f"{progress.completed_steps} / {progress.total_steps} steps ({progress.percentage}%)"


def step_name(step: ActionResult) -> str:
    return clean(step.name or step.action_id)


# -- plain lines ---------------------------------------------------------------------------------


def step_phrase(step: ActionResult) -> str:
    """A step in words: name, status, attempt, duration, error."""
    phrase = f"{step_name(step)} {step.status}"
    if step.attempt > 1:
        phrase += f" (attempt {step.attempt})"
    if step.status in ("completed", "failed") and step.duration is not None:
        phrase += f" in {format_duration(step.duration)}"
    if step.error:
        phrase += f": {clean(step.error)}"
    return phrase


def changed_steps(previous: Execution | None, current: Execution) -> list[ActionResult]:
    """The steps whose status or attempt moved; on the first sight, those running or failed."""
    before = {step.action_id: step for step in (previous.action_results or [])} if previous else {}
    changed = []
    for step in current.action_results or []:
        old = before.get(step.action_id)
        if old is None and previous is None:
            if step.status in ("running", "failed"):
                changed.append(step)
        elif old is None or (old.status, old.attempt) != (step.status, step.attempt):
            changed.append(step)
    return changed


def change_line(previous: Execution | None, current: Execution, now: datetime) -> str:
    """One line for one change: status, progress, time left, then what happened to which step."""
    parts = [f"{current.id} {current.status}", steps_text(current)]
    left = remaining_ms(current, now)
    if left is not None:
        parts.append(f"~{format_duration(left)} left")
    if current.stalled and not (previous and previous.stalled):
        parts.append(stall_text(current))
    parts.extend(step_phrase(step) for step in changed_steps(previous, current))
    return " | ".join(parts)


def stall_text(execution: Execution) -> str:
    stall = execution.stalled
    if stall is None:
        return ""
    return (
        f"stalled: {clean(stall.action_id)} running for {format_duration(stall.running_for)}"
        f" (expected ~{format_duration(stall.expected_duration)})"
    )


def summary_line(execution: Execution) -> str:
    took = format_duration(execution.duration)
    if execution.status == "completed":
        return f"{execution.id} completed in {took}: {steps_text(execution)}"
    if execution.status in ("failed", "cancelled"):
        line = f"{execution.id} {execution.status} after {took}: {steps_text(execution)}"
        failed = [step for step in execution.action_results or [] if step.status == "failed"]
        reasons = [f"{step_name(step)}: {clean(step.error)}" for step in failed if step.error]
        if execution.error and not reasons:
            reasons = [clean(execution.error)]
        return line + (f"; {'; '.join(reasons)}" if reasons else "")
    return f"{execution.id} {execution.status}: {steps_text(execution)}"


# -- the rich view -------------------------------------------------------------------------------


def status_text(status: str) -> Text:
    return Text(f"{STATUS_ICONS.get(status, '?')} {status}", style=STATUS_STYLES.get(status, ""))


def _visible_steps(steps: list[ActionResult], max_rows: int | None) -> tuple[int, list[ActionResult], int]:
    """A window of at most max_rows steps around the first one not completed: (hidden before,
    shown, hidden after), so a 1,000-step execution still fits a terminal."""
    if max_rows is None or len(steps) <= max_rows:
        return 0, steps, 0
    focus = next((index for index, step in enumerate(steps) if step.status != "completed"), len(steps) - 1)
    start = max(0, min(focus - max_rows // 3, len(steps) - max_rows))
    return start, steps[start : start + max_rows], len(steps) - start - max_rows


def step_table(execution: Execution, max_rows: int | None = None) -> Table:
    table = Table(expand=True, show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("Step", ratio=3)
    table.add_column("Type", ratio=1, no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Attempt", justify="right", no_wrap=True)
    table.add_column("Duration", justify="right", no_wrap=True)
    steps = execution.action_results or []
    before, shown, after = _visible_steps(steps, max_rows)
    if before:
        table.add_row("", Text(f"… {before} earlier steps", style="dim"), "", "", "", "")
    for number, step in enumerate(shown, start=before + 1):
        name = Text(step_name(step))
        if step.error:
            name.append(f"\n{clean(step.error)}", style="red")
        table.add_row(
            str(number),
            name,
            clean(step.action_type),
            status_text(step.status),
            str(step.attempt) if step.attempt else "",
            format_duration(step.duration) if step.duration is not None else "",
        )
    if after:
        table.add_row("", Text(f"… {after} later steps", style="dim"), "", "", "", "")
    return table


def render_execution(
    execution: Execution, now: datetime, *, max_rows: int | None = None, notice: str | None = None
) -> RenderableType:
    """The whole view of one execution; `notice` is a transient line (a reconnect, say)."""
    header = Text.assemble(
        status_text(execution.status),
        "  ",
        (execution.id, "bold"),
        (f"  workflow {clean(execution.workflow_id)} v{execution.workflow_version}", "dim"),
    )
    progress = execution.progress
    bar = ProgressBar(total=max(progress.total_steps, 1), completed=progress.completed_steps, width=40)
    timing = [steps_text(execution)]
    left = remaining_ms(execution, now)
    if left is not None:
        timing.append(f"{format_duration(left)} remaining")
    timing.append(
        ("took " if execution.is_terminal else "elapsed ") + format_duration(elapsed_ms(execution, now))
    )
    line = Table.grid(padding=(0, 2))
    line.add_row(bar, Text("  ·  ".join(timing)))
    parts: list[RenderableType] = [header, line, step_table(execution, max_rows)]
    if execution.error:
        parts.append(Text(f"Error: {clean(execution.error)}", style="bold red"))
    if execution.stalled:
        parts.append(Text(stall_text(execution).capitalize(), style="bold yellow"))
    if notice:
        parts.append(Text(notice, style="yellow"))
    return Group(*parts)


def execution_table(executions: list[Execution], now: datetime) -> Table:
    table = Table(expand=True, show_edge=False, pad_edge=False)
    for column in ("Execution", "Workflow", "Status", "Progress", "Started", "Duration"):
        table.add_column(column, no_wrap=column != "Execution")
    for execution in executions:
        table.add_row(
            execution.id,
            clean(execution.workflow_id),
            status_text(execution.status),
            steps_text(execution),
            execution.started_at.isoformat(sep=" ", timespec="seconds"),
            format_duration(elapsed_ms(execution, now)),
        )
    return table


def list_line(execution: Execution) -> str:
    started = execution.started_at.isoformat(timespec="seconds")
    took = format_duration(execution.duration)
    return f"{execution.id} {execution.status} {steps_text(execution)} started {started} took {took}"
