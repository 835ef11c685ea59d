"""Turns DynamoDB stream records into progress writes: one recompute and at most one write per
execution per batch, from a consistent read, so duplicated, reordered or replayed records change
nothing. A record is only a hint that an execution changed; what is written is derived from the
table, never from the record's images or from counters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from execution_monitor import clock, progress
from execution_monitor.models import TERMINAL_EXECUTION_STATUSES
from execution_monitor.step_stats import StepStats, definition_hash, sample_key
from execution_monitor.store import keys
from execution_monitor.store.interface import StoreContention
from execution_monitor.store.progress_writes import STATS_MARK

EXECUTION_PK = re.compile(r"^WS#(?P<workspace>[^#]+)#EXEC#(?P<execution>[^#]+)$")
# A MODIFY that changes nothing but these is the updater's own write (or its statistics mark)
# coming back through the stream, or a header's version bump whose step record travels with it.
ECHO_ATTRIBUTES = frozenset({"progress", "durationMs", "version", "updatedAt", STATS_MARK})
WRITE_ATTEMPTS = 5
STATS_ATTEMPTS = 5

Record = dict[str, Any]
ExecutionRef = tuple[str, str]


class MalformedRecord(ValueError):
    """A stream record without the keys every DynamoDB record has: it can never succeed."""


class Outcome(Enum):
    WRITTEN = "written"  # the aggregate changed and was written
    UNCHANGED = "unchanged"  # recomputed; the stored aggregate already said the same
    GONE = "gone"  # the execution no longer exists
    SKIPPED = "skipped"  # the record is not about an execution's progress (or is our own echo)


class ProgressStore(Protocol):
    def read_execution_records(
        self, workspace_id: str, execution_id: str
    ) -> tuple[Record, list[Record]] | None: ...

    def get_step_stats(
        self, workspace_id: str, workflow_id: str, action_ids: Iterable[str]
    ) -> dict[str, StepStats]: ...

    def put_step_stats(self, step: Record, before: StepStats, after: StepStats, now: str) -> bool: ...

    def mark_step_folded(self, step: Record) -> bool: ...

    def write_progress(self, header: Record, fields: dict[str, Any], now: str) -> bool: ...


def execution_ref(raw: Mapping[str, Any]) -> ExecutionRef | None:
    """(workspace, execution) of a header or step record; None for any other item."""
    stream_record = raw.get("dynamodb") or {}
    record_keys = stream_record.get("Keys") or {}
    pk, sk = (record_keys.get("pk") or {}).get("S"), (record_keys.get("sk") or {}).get("S")
    if not isinstance(pk, str) or not isinstance(sk, str):
        raise MalformedRecord(f"stream record {raw.get('eventID')} has no string pk/sk keys")
    matched = EXECUTION_PK.match(pk)
    if matched is None or not (sk == keys.EXECUTION_SK or sk.startswith(keys.STEP_SK_PREFIX)):
        return None
    return matched["workspace"], matched["execution"]


def is_echo(raw: Mapping[str, Any]) -> bool:
    """A MODIFY whose only differences are attributes the updater writes itself."""
    if raw.get("eventName") != "MODIFY":
        return False
    stream_record = raw.get("dynamodb") or {}
    old, new = stream_record.get("OldImage"), stream_record.get("NewImage")
    if old is None or new is None:
        return False
    changed = {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}
    return changed <= ECHO_ATTRIBUTES


def _foldable(step: Record) -> bool:
    """A completed attempt whose duration is not in the statistics yet."""
    return step["status"] == "completed" and int(step.get(STATS_MARK, 0)) < int(step.get("attempt", 0))


@dataclass
class _WorkflowStats:
    """Statistics of one workflow read during this batch (absent actions remembered as absent)."""

    known: dict[str, StepStats] = field(default_factory=dict)
    loaded: set[str] = field(default_factory=set)


class ProgressUpdater:
    """One per batch: memoises each execution's outcome and each workflow's statistics."""

    def __init__(self, store: ProgressStore, now: Callable[[], datetime] = clock.now) -> None:
        self.store = store
        self.now = now
        self.outcomes: dict[ExecutionRef, Outcome | Exception] = {}
        self.writes = 0
        self.folded = 0
        self._stats: dict[tuple[str, str], _WorkflowStats] = {}

    # -- the record handler ----------------------------------------------------------------------

    def handle(self, record: DynamoDBRecord) -> str:
        """Processes one record; raises when its execution could not be brought up to date."""
        return self.handle_raw(record.raw_event).value

    def handle_raw(self, raw: Mapping[str, Any]) -> Outcome:
        ref = execution_ref(raw)
        if ref is None or is_echo(raw):
            return Outcome.SKIPPED
        if ref not in self.outcomes:
            try:
                self.outcomes[ref] = self.recompute(*ref)
            except Exception as error:  # remembered: every record of it fails alike
                self.outcomes[ref] = error
        outcome = self.outcomes[ref]
        if isinstance(outcome, Exception):
            raise RuntimeError(f"progress of execution {ref[1]} could not be updated: {outcome}") from outcome
        return outcome

    # -- one execution ---------------------------------------------------------------------------

    def recompute(self, workspace_id: str, execution_id: str) -> Outcome:
        for _ in range(WRITE_ATTEMPTS):
            found = self.store.read_execution_records(workspace_id, execution_id)
            if found is None:
                return Outcome.GONE
            header, steps = found
            self._fold_statistics(header, steps)
            now = self.now()
            stats = self._stats_for_remaining(header, steps)
            fields = progress.changed_fields(header, progress.aggregate(header, steps, stats, now))
            if not fields:
                return Outcome.UNCHANGED
            if self.store.write_progress(header, fields, clock.iso(now)):
                self.writes += 1
                return Outcome.WRITTEN
            # A step changed since the read (its version moved): read again and recompute.
        raise StoreContention(f"execution {execution_id} kept changing; the record will be retried")

    def _stats_for_remaining(self, header: Record, steps: list[Record]) -> dict[str, StepStats]:
        if header["status"] in TERMINAL_EXECUTION_STATUSES:
            return {}
        wanted = {step["actionId"] for step in steps if step["status"] in progress.REMAINING_STEP_STATUSES}
        return self._workflow_stats(header["workspaceId"], header["workflowId"], wanted)

    def _workflow_stats(
        self, workspace_id: str, workflow_id: str, action_ids: set[str]
    ) -> dict[str, StepStats]:
        cached = self._stats.setdefault((workspace_id, workflow_id), _WorkflowStats())
        missing = action_ids - cached.loaded
        if missing:
            cached.known.update(self.store.get_step_stats(workspace_id, workflow_id, missing))
            cached.loaded |= missing
        return {action_id: cached.known[action_id] for action_id in action_ids if action_id in cached.known}

    def _fold_statistics(self, header: Record, steps: list[Record]) -> None:
        """Adds each newly completed attempt's wall time to its action's statistics, once."""
        todo = [step for step in steps if _foldable(step)]
        if not todo:
            return
        workspace_id, workflow_id = header["workspaceId"], header["workflowId"]
        self._workflow_stats(workspace_id, workflow_id, {step["actionId"] for step in todo})
        cached = self._stats[(workspace_id, workflow_id)]
        for step in todo:
            wall = progress.wall_ms(header, steps, step)
            if wall is not None:
                self._fold_one(cached, workspace_id, workflow_id, step, wall)
            self.store.mark_step_folded(step)

    def _fold_one(
        self, cached: _WorkflowStats, workspace_id: str, workflow_id: str, step: Record, wall: int
    ) -> None:
        action_id = step["actionId"]
        action_hash = definition_hash(progress.step_action(step))
        key = sample_key(step["executionId"], int(step["index"]), int(step["attempt"]))
        for _ in range(STATS_ATTEMPTS):
            before = cached.known.get(action_id, StepStats())
            after = before.add(step.get("completedAt") or "", wall, action_hash, key)
            if after == before:
                return  # already in (only the mark was missing), or an outdated definition
            if self.store.put_step_stats(step, before, after, clock.iso(self.now())):
                cached.known[action_id] = replace(after, version=before.version + 1)
                self.folded += 1
                return
            # Another writer updated this action's statistics: read them again and fold again.
            fresh = self.store.get_step_stats(workspace_id, workflow_id, [action_id])
            cached.known[action_id] = fresh.get(action_id, StepStats())
        raise StoreContention(f"statistics of {action_id} kept changing; the record will be retried")
