"""sweep_executions: scheduled; flags stalled executions and starts runs that were never started."""

from typing import Any

from execution_monitor import clock
from execution_monitor.engine.runner import default_runner
from execution_monitor.engine.sweep import sweep
from execution_monitor.observability import instrumented, logger
from execution_monitor.settings import EngineSettings, TableSettings
from execution_monitor.store import default_store

TableSettings.load()
EngineSettings.load()


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    outcomes = sweep(default_store().executions, default_runner(), clock.now())
    if outcomes:
        logger.info("sweep", extra={"outcomes": dict(outcomes)})
    return dict(outcomes)
