"""The table's stream, consumed: what each change means beyond itself.

- a completed step: its wall time into its action's statistics (statistics_updater);
- an execution created or changing status: its workflow's "last execution" in the workspace list;
- an execution completed, failed or cancelled, a step failed, a stall flagged: one event, recorded
  in the execution's partition (once: its id is derived from the change), then published to
  EventBridge and queued for each webhook that asked for it.

Every effect is idempotent, so duplicated, reordered and replayed records change nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from execution_monitor import clock, observability
from execution_monitor import metric_names as names
from execution_monitor.domain import events
from execution_monitor.domain.events import Delivery, EventKind, EventRef, RecordedEvent
from execution_monitor.domain.execution import ExecutionState
from execution_monitor.domain.workflow import LastExecution, Workflow
from execution_monitor.notifications import event_payload
from execution_monitor.statistics_updater import StatisticsUpdater, foldable
from execution_monitor.store.dynamodb.items import execution_change, step_change
from execution_monitor.store.interface import Loaded, StatisticsStore

# The product's counts, one per event kind (each event is recorded exactly once).
_COUNTED = {
    EventKind.EXECUTION_COMPLETED: names.EXECUTIONS_COMPLETED,
    EventKind.EXECUTION_FAILED: names.EXECUTIONS_FAILED,
    EventKind.EXECUTION_CANCELLED: names.EXECUTIONS_CANCELLED,
    EventKind.EXECUTION_STALLED: names.STALLS_FLAGGED,
}

# What the consumer needs of each store (the stores offer more).


class ExecutionLoader(Protocol):
    def get_execution(self, workspace_id: str, execution_id: str) -> Loaded | None: ...


class WorkflowSummaries(Protocol):
    def get_workflow(self, workspace_id: str, workflow_id: str) -> Workflow | None: ...

    def record_last_execution(self, workspace_id: str, workflow_id: str, last: LastExecution) -> bool: ...


class EventRecords(Protocol):
    def get_event(self, ref: EventRef) -> RecordedEvent | None: ...

    def record_event(self, ref: EventRef, payload: str, webhook_urls: list[str]) -> bool: ...

    def mark_published(self, ref: EventRef) -> None: ...


class EventPublisher(Protocol):
    def publish(self, event: RecordedEvent) -> None: ...


class StreamConsumer:
    """One per batch (it caches workflows and statistics read during the batch)."""

    def __init__(
        self,
        *,
        statistics: StatisticsStore,
        workflows: WorkflowSummaries,
        executions: ExecutionLoader,
        events_store: EventRecords,
        publisher: EventPublisher,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.statistics = StatisticsUpdater(statistics, now)
        self.now = now
        self.workflows = workflows
        self.executions = executions
        self.events = events_store
        self.publisher = publisher
        self.published = 0
        self._workflows: dict[tuple[str, str], Workflow | None] = {}

    @property
    def folded(self) -> int:
        return self.statistics.folded

    def handle(self, record: DynamoDBRecord) -> str:
        """Processes one record; raises when it could not be (the record is retried)."""
        stream = record.dynamodb
        if stream is None:
            return "skipped"
        if stream.approximate_creation_date_time:  # whole seconds, as DynamoDB Streams give it
            lag = self.now().timestamp() - stream.approximate_creation_date_time
            observability.milliseconds(names.STREAM_LAG, max(0.0, lag * 1000))
        old, new = stream.old_image or None, stream.new_image or None
        change = execution_change(old, new)
        if change is not None:
            self._summarise(*change)
            for ref in self._notify(events.execution_events(*change)):
                observability.count(_COUNTED[ref.kind])
            return "processed"
        moved = step_change(old, new)
        if moved is not None:
            before, after = moved
            by_type = {names.ACTION_TYPE_DIMENSION: after.action_type}
            if foldable(after) and self.statistics.fold(after):
                observability.milliseconds(names.STEP_DURATION, after.wall_ms or 0, by_type)
            if self._notify(events.step_events(before, after)):
                observability.count(names.STEP_FAILURES, dimensions=by_type)
            return "processed"
        return "skipped"

    def _summarise(self, before: ExecutionState | None, after: ExecutionState) -> None:
        if before is not None and before.status == after.status:
            return
        last = LastExecution(after.id, after.status, after.started_at, after.version)
        self.workflows.record_last_execution(after.workspace_id, after.workflow_id, last)

    def _notify(self, refs: list[EventRef]) -> list[EventRef]:
        """Records and publishes each event not published yet; returns those recorded just now.

        Recorded once, published at least once: a replay of a record published already publishes
        nothing, but two consumers of the same record at the same moment (a redrive overlapping the
        mapping) may both publish; receivers deduplicate on the event id."""
        recorded_now = []
        for ref in refs:
            # Recording first: a new event (the usual case) costs no read of its own record.
            payload, webhook_urls = self._payload(ref), self._webhook_urls(ref)
            recorded: RecordedEvent | None
            if self.events.record_event(ref, payload, webhook_urls):
                recorded_now.append(ref)
                recorded = RecordedEvent(
                    ref,
                    payload,
                    published=False,
                    deliveries=tuple(Delivery(url, "pending") for url in webhook_urls),
                )
            else:  # recorded before (a replayed record): publish it only if that did not happen
                recorded = self.events.get_event(ref)
            if recorded is not None and not recorded.published:
                self.publisher.publish(recorded)
                self.events.mark_published(ref)
                self.published += 1
        return recorded_now

    def _payload(self, ref: EventRef) -> str:
        loaded = self.executions.get_execution(ref.workspace_id, ref.execution_id)
        if loaded is None:
            raise LookupError(f"execution {ref.execution_id} of event {ref.id} is gone")
        execution, steps = loaded
        step = next((candidate for candidate in steps if candidate.action_id == ref.action_id), None)
        return event_payload(ref, execution, steps, step)

    def _webhook_urls(self, ref: EventRef) -> list[str]:
        key = (ref.workspace_id, ref.workflow_id)
        if key not in self._workflows:
            self._workflows[key] = self.workflows.get_workflow(*key)
        workflow = self._workflows[key]
        if workflow is None:
            return []
        return [hook.url for hook in workflow.webhooks if ref.kind in hook.events]
