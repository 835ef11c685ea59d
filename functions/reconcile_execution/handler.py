"""EventBridge "Step Functions Execution Status Change" -> settle the record no step settled."""

from typing import Any

from execution_monitor.engine.reconcile import settle_run
from execution_monitor.observability import instrumented
from execution_monitor.settings import TableSettings
from execution_monitor.store import default_store

TableSettings.load()


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    return {"result": settle_run(default_store().executions, event.get("detail") or {})}
