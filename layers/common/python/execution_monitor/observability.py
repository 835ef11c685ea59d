"""Logs, traces and metrics of every function, wired once (`instrumented`).

- Logs: Powertools JSON, the Lambda context on every line and no key kept from the previous
  invocation; lines about an execution carry `execution_id` (API requests: `api.correlate`).
- Traces: X-Ray active tracing is on for every function (CDK); the Powertools Tracer adds the
  invocation's subsegments (boto3 calls). The X-Ray SDK builds two botocore clients when it is
  imported (~0.2 s of CPU), so the tracer is created at the first invocation, never at import, and
  not at all where tracing is disabled (tests, `make dev`).
- Metrics: Powertools Metrics as CloudWatch EMF, one namespace (POWERTOOLS_METRICS_NAMESPACE), the
  `service` dimension, and only bounded extra dimensions (never an execution id); flushed at the
  end of every invocation. Names: metric_names.py (which the CDK alarms import); docs/RUNBOOK.md.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from execution_monitor.metric_names import SERVICE_DIMENSION

logger = Logger()
metrics = Metrics()

Handler = TypeVar("Handler", bound=Callable[..., Any])


@cache
def tracer() -> Tracer:
    return Tracer()


def _tracing_disabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true")


def instrumented(handler: Handler) -> Handler:
    """A Lambda entry point with the Lambda context in its logs, a trace of each invocation and
    its metrics flushed when it returns."""
    traced: list[Callable[..., Any]] = []

    @logger.inject_lambda_context(log_event=False, clear_state=True)  # no key leaks into the next
    @functools.wraps(handler)
    def entry(event: Any, context: Any) -> Any:
        if not traced:
            traced.append(handler if _tracing_disabled() else tracer().capture_lambda_handler(handler))
        try:
            return traced[0](event, context)
        finally:
            flush()

    return entry  # type: ignore[return-value]


def flush() -> None:
    """Writes the metrics added since the last flush (nothing when there are none)."""
    if metrics.metric_set:
        metrics.flush_metrics()


def count(name: str, value: float = 1, dimensions: Mapping[str, str] | None = None) -> None:
    """A count metric, with bounded extra dimensions (an action type, an outcome); the names are
    execution_monitor.metric_names'."""
    _add(name, MetricUnit.Count, value, dimensions or {})


def milliseconds(name: str, value: float, dimensions: Mapping[str, str] | None = None) -> None:
    _add(name, MetricUnit.Milliseconds, value, dimensions or {})


def _add(name: str, unit: MetricUnit, value: float, dimensions: Mapping[str, str]) -> None:
    # Disabled, Powertools would still keep every metric added (its flush does not clear then).
    if is_metrics_disabled():
        return
    if not dimensions:
        metrics.add_metric(name=name, unit=unit, value=value)
    else:
        # A metric with its own dimensions goes out in its own EMF document, at once.
        service = {SERVICE_DIMENSION: os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined")}
        with single_metric(name=name, unit=unit, value=value, default_dimensions=service) as metric:
            for key, dimension in dimensions.items():
                metric.add_dimension(name=key, value=dimension)
