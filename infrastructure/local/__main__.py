"""`python -m infrastructure.local` (what `make dev` runs): the whole system on 127.0.0.1:$PORT.

Order: bind the port (fail fast if taken), start moto + table + seed, print how to call it, then
serve. Ctrl-C or SIGTERM stops uvicorn, then everything the runtime started.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from types import FrameType

import uvicorn

from infrastructure.local import heap, tokens
from infrastructure.local.cors import ALLOWED_ORIGINS_ENV, Cors, allowed_origins_from_env
from infrastructure.local.gateway import Gateway
from infrastructure.local.runtime import LocalRuntime
from infrastructure.local.seed import DEMO_WORKFLOW, DEMO_WORKSPACE
from infrastructure.local.static import StaticSite

HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as failure:
        sock.close()
        sys.exit(f"cannot listen on {HOST}:{port} ({failure.strerror}); try PORT=<another port> make dev")
    sock.listen(128)  # connections wait in the backlog until uvicorn serves; /health then answers
    return sock


PICK_ID = """python3 -c 'import json,sys; print(json.load(sys.stdin)["execution"]["id"])'"""
RETRY_STEP_BODY = '{"actionId": "notify"}'
JSON = "-H 'Content-Type: application/json'"


def monitor_url(base_url: str, token: str) -> str:
    """The demo workflow's page in the monitor, signed in: the page takes the token from the fragment."""
    return f"{base_url}/workspaces/{DEMO_WORKSPACE}/workflows/{DEMO_WORKFLOW}#access_token={token}"


def _banner(base_url: str, allowed_origins: frozenset[str]) -> str:
    token = tokens.mint_token([DEMO_WORKSPACE])
    workflow = f"{base_url}/api/workspaces/{DEMO_WORKSPACE}/workflows/{DEMO_WORKFLOW}"
    auth = '-H "Authorization: Bearer $TOKEN"'
    cors = ", ".join(sorted(allowed_origins)) or f"none (set {ALLOWED_ORIGINS_ENV}=<origin>,<origin>)"
    return "\n".join(
        [
            f"Execution Monitor is running on {base_url}  (Ctrl-C stops it; state is in memory)",
            "",
            "Open the monitor in a browser, signed in to the demo workspace:",
            f"  {monitor_url(base_url, token)}",
            f"Browser clients on other origins (CORS): {cors}",
            "",
            f"Token for workspace '{DEMO_WORKSPACE}' (12 h; others: make -s token WORKSPACE=<id>[,<id>]):",
            f"  export TOKEN={token}",
            "",
            "Read the demo workflow (a delay, an HTTP call, a queue message):",
            f"  curl -s {workflow} {auth}",
            "Start it, then watch it live over SSE, or poll it:",
            f"  curl -s -X POST {workflow}/executions {auth} {JSON} -d '{{}}' > /tmp/started.json",
            f"  EXEC=$({PICK_ID} < /tmp/started.json)",
            f'  curl -sN "{workflow}/executions/$EXEC/stream?access_token=$TOKEN"',
            f"  curl -s {workflow}/executions/$EXEC {auth}",
            f"  curl -s '{workflow}/executions?limit=5' {auth}",
            "Cancel, retry the execution, or retry one failed step:",
            f"  curl -s -X POST {workflow}/executions/$EXEC/cancel {auth}",
            f"  curl -s -X POST {workflow}/executions/$EXEC/retry {auth}",
            f"  curl -s -X POST {workflow}/executions/$EXEC/retry-step {auth} {JSON} -d '{RETRY_STEP_BODY}'",
            f"The API described: curl -s {base_url}/api/openapi.json",
            "",
        ]
    )


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Uvicorn handles SIGTERM while it serves and then re-raises it; this turns it (and one that
    # arrives during startup) into the same clean path as Ctrl-C.
    raise KeyboardInterrupt


# moto logs each stopped run (every cancel) as ERRORs carrying the whole parsed program, ~20 KB
# each; the run's end reaches the execution through the reconciler.
_STOPPED_RUN_NOISE = ("MapIterationAborted", "'str' object has no attribute 'get'")


def _without_stopped_run_noise(record: logging.LogRecord) -> bool:
    if not record.name.startswith("moto.stepfunctions.parser"):
        return True
    message = record.getMessage()
    return not any(noise in message for noise in _STOPPED_RUN_NOISE)


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    heap.tune()  # before any thread starts: arenas are made per thread
    for handler in logging.getLogger().handlers:
        handler.addFilter(_without_stopped_run_noise)
    port = int(os.environ.get("PORT") or DEFAULT_PORT)
    base_url = f"http://{HOST}:{port}"
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sock = _bind(port)
    allowed_origins = allowed_origins_from_env()
    runtime = LocalRuntime(gateway_url=base_url)
    try:
        runtime.start()
        print(_banner(base_url, allowed_origins), flush=True)
        config = uvicorn.Config(
            Cors(Gateway(is_ready=runtime.is_ready, site=StaticSite()), allowed_origins),
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,  # open SSE streams must not hold up Ctrl-C
        )
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()
        sock.close()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
