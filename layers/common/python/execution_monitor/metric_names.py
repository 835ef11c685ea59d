"""The names of the product's own metrics (Powertools EMF): the code that emits them and the CDK
monitoring (alarms, dashboard) both import them from here, so the two cannot drift apart.

Every metric carries the `service` dimension (POWERTOOLS_SERVICE_NAME); the few that carry one
more name it below. Dimensions stay bounded: never an execution id.
"""

from __future__ import annotations

SERVICE_DIMENSION = "service"

EXECUTIONS_STARTED = "ExecutionsStarted"
EXECUTIONS_COMPLETED = "ExecutionsCompleted"
EXECUTIONS_FAILED = "ExecutionsFailed"
EXECUTIONS_CANCELLED = "ExecutionsCancelled"
STALLS_FLAGGED = "StallsFlagged"
# Per action type (ActionType dimension): a completed step's wall time, and failed steps.
STEP_DURATION = "StepDuration"
STEP_FAILURES = "StepFailures"
ACTION_TYPE_DIMENSION = "ActionType"
# Milliseconds from a table write to the stream consumer handling it (the progress lag).
STREAM_LAG = "StreamLag"
SSE_CONNECTIONS_OPENED = "SseConnectionsOpened"
SSE_EVENTS_SENT = "SseEventsSent"
# One per delivery attempt, by Outcome: delivered, retrying or failed (given up).
WEBHOOK_DELIVERIES = "WebhookDeliveries"
OUTCOME_DIMENSION = "Outcome"
WEBHOOK_OUTCOMES = ("delivered", "retrying", "failed")
WEBHOOK_GIVEN_UP = "failed"
