"""Names and tunables of the CDK app in one place: the stack builds from them and the tests import them.

Stateful resources get pinned logical ids, so a refactor of the construct tree can never make
CloudFormation replace (and, with RETAIN, orphan) the table or the user pool.
"""

from __future__ import annotations

from aws_cdk.aws_logs import RetentionDays

STACK_NAME = "ExecutionMonitor"
SERVICE_NAME = "execution-monitor"

# Pinned logical ids (CloudFormation resource names in the template).
TABLE_LOGICAL_ID = "ExecutionMonitorTable"
USER_POOL_LOGICAL_ID = "UserPool"
USER_POOL_CLIENT_LOGICAL_ID = "UserPoolClient"
REST_API_LOGICAL_ID = "RestApi"

# Stack outputs.
OUTPUT_API_URL = "ApiUrl"
OUTPUT_USER_POOL_ID = "UserPoolId"
OUTPUT_USER_POOL_CLIENT_ID = "UserPoolClientId"
OUTPUT_TABLE_NAME = "TableName"

# Lambda functions (the factory applies these to every function).
PYTHON_VERSION = "3.12"  # the runtime and the layer's wheels (--python-version) must agree
DEFAULT_MEMORY_MB = 512
DEFAULT_TIMEOUT_SECONDS = 10  # well under API Gateway's 29 s integration timeout
LOG_LEVEL = "INFO"
# Lambda Web Adapter for the SSE function: layer 30 is adapter v1.1.0 (bump deliberately).
WEB_ADAPTER_LAYER_VERSION = 30
WEB_ADAPTER_PORT = 8080
LOG_RETENTION = RetentionDays.ONE_MONTH

# REST API.
STAGE_NAME = "v1"
THROTTLING_RATE_LIMIT = 50  # steady requests per second for the whole stage
THROTTLING_BURST_LIMIT = 100
MIN_COMPRESSION_BYTES = 1024  # smaller answers would gain little from gzip and pay its latency
AUTHORIZER_CACHE_SECONDS = 300  # safe: the policy allows the whole stage, whatever the path
STREAM_TIMEOUT_SECONDS = 900  # API Gateway's ceiling for a streamed response
ACCESS_LOG_RETENTION = RetentionDays.THREE_MONTHS

# Engine.
STATE_MACHINE_LOGICAL_ID = "EngineStateMachine"
RUN_ACTION_TIMEOUT_SECONDS = 330  # an action's own timeout (at most 300 s) plus room to record it
RECONCILER_RETRY_ATTEMPTS = 8
ENGINE_LOG_RETENTION = RetentionDays.ONE_MONTH
FAILED_EVENTS_RETENTION_DAYS = 14

# The stream consumer (statistics, workflow summaries, events); its mapping is in stream_mapping.py.
STREAM_CONSUMER_TIMEOUT_SECONDS = 60
# CDK context keys a deployment sets (cdk.json or -c): where send_message may deliver, and which
# private networks http_request may call (comma-separated CIDRs; none by default).
CONTEXT_MESSAGE_QUEUE_ARNS = "messageQueueArns"
CONTEXT_MESSAGE_TOPIC_ARNS = "messageTopicArns"
CONTEXT_HTTP_ALLOWED_NETWORKS = "httpActionAllowedNetworks"

# Events out: the bus, and webhook deliveries (docs/RUNBOOK.md tells how to redrive them).
EVENT_BUS_NAME = "workflow-execution-monitor"
WEBHOOK_DELIVERY_TIMEOUT_SECONDS = 20  # one signed POST with a 10 s timeout, and recording it
WEBHOOK_BATCH_SIZE = 10
WEBHOOK_MAX_RECEIVES = 40  # more than the ~20 attempts of 24 hours of backoff
WEBHOOK_RETENTION_DAYS = 4  # longer than the 24 h of retries
# The sweep (stalls, runs never started): how often it runs in AWS.
SWEEP_EVERY_MINUTES = 1

# -- The monitor in AWS (constructs/hosting.py), Cognito sign-in and tier (constructs/auth.py), CORS.
OUTPUT_MONITOR_URL = "MonitorUrl"
OUTPUT_USER_POOL_DOMAIN_URL = "UserPoolDomainUrl"
MONITOR_CLIENT_LOGICAL_ID = "MonitorClient"
# What web/js/auth.js asks for (config.json "scopes"): the access token's identity, nothing more.
MONITOR_SCOPES = ("openid", "email", "profile")
MONITOR_ORIGIN_READ_TIMEOUT_SECONDS = 60  # CloudFront's most without a quota raise; SSE beats every 15 s
HSTS_MAX_AGE_DAYS = 730
PREFLIGHT_FUNCTION = "preflight"  # API Gateway's OPTIONS methods (functions/preflight)
PREFLIGHT_MEMORY_MB = 256
# Context: browser origins allowed by CORS (list or comma-separated; none by default), the Cognito
# Plus tier (MFA required, threat protection enforced; costs per user), the managed login prefix.
CONTEXT_ALLOWED_ORIGINS = "allowedOrigins"
CONTEXT_COGNITO_PLUS = "cognitoPlus"
CONTEXT_COGNITO_DOMAIN_PREFIX = "cognitoDomainPrefix"

# --- Operations: metrics, alarms, dashboard, limits (docs/RUNBOOK.md, docs/DEPLOY.md) ---
METRICS_NAMESPACE = "WorkflowExecutionMonitor"  # POWERTOOLS_METRICS_NAMESPACE of every function
ALARM_PERIOD_MINUTES = 5  # every alarm fires on the first bad period of this length
STREAM_ITERATOR_AGE_ALARM_SECONDS = 300  # process_stream is this far behind the table's writes
API_5XX_RATE_ALARM = 0.05  # share of the stage's requests answered 5xx
READ_LATENCY_P95_ALARM_MS = 1000  # the slowest GET route's p95 (the SSE route left out)
WRITE_LATENCY_P95_ALARM_MS = 3000  # the slowest PUT/POST route's p95
RUNBOOK = "docs/RUNBOOK.md"  # alarm descriptions link to its sections (`RUNBOOK#anchor`)
# Default limits of the stage (THROTTLING_* above) and of POST …/executions, which starts runs.
START_EXECUTION_RATE_LIMIT = 10
START_EXECUTION_BURST_LIMIT = 20
# CDK context keys a deployment may set (cdk.json or -c key=value).
CONTEXT_ALARM_EMAIL = "alarmEmail"  # subscribes this address to the alarm topic
CONTEXT_THROTTLING_RATE_LIMIT = "throttlingRateLimit"
CONTEXT_THROTTLING_BURST_LIMIT = "throttlingBurstLimit"
CONTEXT_START_EXECUTION_RATE_LIMIT = "startExecutionRateLimit"
CONTEXT_START_EXECUTION_BURST_LIMIT = "startExecutionBurstLimit"
CONTEXT_TABLE_INDEXES = "tableIndexes"  # deploy only the first N indexes (one new index per deploy)
OUTPUT_ALARM_TOPIC_ARN = "AlarmTopicArn"
OUTPUT_DASHBOARD_NAME = "DashboardName"
OUTPUT_FAILED_EVENTS_QUEUE_URL = "FailedEventsQueueUrl"
OUTPUT_WEBHOOK_DEAD_LETTERS_URL = "WebhookDeadLettersQueueUrl"
