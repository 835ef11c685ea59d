"""moto as the local AWS: one in-process server, and the process environment that points at it.

Everything runs in one process, so the handlers, the gateway and moto's Step Functions interpreter
all reach moto over HTTP on loopback, exactly as they would reach AWS endpoints.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from infrastructure.local import tokens

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
TABLE_NAME = "execution-monitor-local"
SERVICE_NAME = "execution-monitor-local"


@dataclass
class Moto:
    server: ThreadedMotoServer
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop()


def start_moto() -> Moto:
    # werkzeug logs every request at INFO; `verbose=False` does not silence it, its logger does.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Port 0: the OS picks a free port, so parallel runs (tests, a second `make dev`) never clash.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    # Same process as the server, so setting moto's config directly is what POST /moto-api/config
    # does. The state machines really run (Wait states sleep, tasks call the other services).
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    return Moto(server=server, port=port)


def configure_environment(moto: Moto, jwks_url: str) -> None:
    """Point boto3 and the handlers' settings at moto. Must run before any client or settings exist."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": moto.endpoint,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            # moto's Step Functions interpreter calls moto back on localhost:$MOTO_PORT (default 5000).
            "MOTO_PORT": str(moto.port),
            # botocore >= 1.44.4 otherwise builds account-based endpoints and DynamoDB Streams go quiet.
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            # What the CDK stack sets on the functions, with local values.
            "TABLE_NAME": TABLE_NAME,
            "JWT_JWKS_URL": jwks_url,
            "JWT_ISSUER": tokens.ISSUER,
            # Local examples and tests call servers on loopback (the gateway itself, test fixtures),
            # but never moto: it answers anyone, so an action could read every workspace's rows.
            "HTTP_ACTION_ALLOWED_NETWORKS": "127.0.0.0/8",
            "HTTP_ACTION_DENIED_ENDPOINTS": f"127.0.0.1:{moto.port}",
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_NAMESPACE": "ExecutionMonitorLocal",
            # EMF lines are for CloudWatch; locally they would only flood the terminal.
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    # A developer's own profile or SSO config must never be used (or required) by the local runtime.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
