"""Python client for the Workflow Execution Monitor API, and the `execmon` CLI.

from execution_monitor_client import Client, watch_execution
client = Client("https://…", token=token)
execution = client.start_execution(ws, wf, input={"order": 7})
watcher = watch_execution(client, ws, wf, execution.id, enable_sse=True, on_complete=notify)
final = watcher.wait(timeout=600)
"""

from execution_monitor_client.client import AsyncClient, AsyncPaginator, Client, Paginator, __version__
from execution_monitor_client.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ExecutionMonitorError,
    NetworkError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnexpectedResponse,
    ValidationError,
)
from execution_monitor_client.models import (
    ActionResult,
    Execution,
    ExecutionEvent,
    ExecutionRun,
    Page,
    Progress,
    RetryPlan,
    Stall,
    StepAttempt,
    Webhook,
    Workflow,
    WorkflowSummary,
)
from execution_monitor_client.stream import StreamEvent
from execution_monitor_client.watch import (
    ExecutionsWatcher,
    ExecutionWatcher,
    watch_execution,
    watch_executions,
)
from execution_monitor_client.watchers import (
    AsyncExecutionsWatcher,
    AsyncExecutionWatcher,
    WatchStats,
    WatchStopped,
)

__all__ = [
    "ActionResult",
    "ApiError",
    "AsyncClient",
    "AsyncExecutionWatcher",
    "AsyncExecutionsWatcher",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "Execution",
    "ExecutionEvent",
    "ExecutionMonitorError",
    "ExecutionRun",
    "ExecutionWatcher",
    "ExecutionsWatcher",
    "NetworkError",
    "NotFoundError",
    "Page",
    "Paginator",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Progress",
    "RateLimitError",
    "RetryPlan",
    "ServerError",
    "Stall",
    "StepAttempt",
    "StreamEvent",
    "UnexpectedResponse",
    "ValidationError",
    "WatchStats",
    "WatchStopped",
    "Webhook",
    "Workflow",
    "WorkflowSummary",
    "__version__",
    "watch_execution",
    "watch_executions",
]
