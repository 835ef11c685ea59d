"""Starts and stops the local system's AWS side: moto, the table, the engine hook, the seed.

The HTTP side (gateway + uvicorn) lives in `__main__`; tests and tools can start just this.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

import boto3

from infrastructure.local import seed, tokens
from infrastructure.local.aws import TABLE_NAME, Moto, configure_environment, start_moto
from infrastructure.local.engine import provision_engine
from infrastructure.local.moto_threads import serialize_dynamodb
from infrastructure.local.run_watcher import RunWatcher
from infrastructure.local.stream_poller import start_progress_poller
from infrastructure.table import create_table_request

log = logging.getLogger("infrastructure.local.runtime")
PROGRESS_DLQ = "update-progress-dlq"


class LocalRuntime:
    def __init__(self, gateway_url: str) -> None:
        self.gateway_url = gateway_url  # where the gateway listens (the seed's http_request calls it)
        self.moto: Moto | None = None
        self._ready = threading.Event()
        self._stops: list[Callable[[], None]] = []

    def is_ready(self) -> bool:
        return self._ready.is_set()

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Register a cleanup; stop() runs them newest first (pollers before moto, say)."""
        self._stops.append(callback)

    def start(self) -> None:
        tokens.ensure_signing_key()  # the gateway serves its JWKS; make it exist before any request
        self.moto = start_moto()
        self.on_stop(serialize_dynamodb())
        self.on_stop(self.moto.stop)
        # Before anything creates a boto3 client or reads settings: both are cached per process.
        configure_environment(self.moto, jwks_url=f"{self.gateway_url}{tokens.JWKS_ROUTE}")
        boto3.client("dynamodb").create_table(**create_table_request(TABLE_NAME))
        self.start_engine()
        seed.seed(self.gateway_url)
        self._ready.set()

    def start_engine(self) -> None:
        """The execution engine, once the table exists and before the seed's first settings read.

        run_action runs in-process behind moto's Lambda, the state machine is the one CDK deploys,
        and STATE_MACHINE_ARN is set like the stack sets it on the functions. Background parts
        (the DynamoDB stream poller feeding update_progress) start here and register their
        shutdown with `self.on_stop(...)`.
        """
        state_machine_arn = provision_engine(boto3.Session())
        os.environ["STATE_MACHINE_ARN"] = state_machine_arn
        watcher = RunWatcher(boto3.client("stepfunctions"), state_machine_arn)
        watcher.start()
        self.on_stop(watcher.stop)
        # update_progress fed by the table's stream, in batches, with a local dead-letter queue.
        dead_letters = boto3.client("sqs").create_queue(QueueName=PROGRESS_DLQ)["QueueUrl"]
        poller = start_progress_poller(boto3.Session(), TABLE_NAME, dead_letters)
        self.on_stop(poller.stop)

    def stop(self) -> None:
        self._ready.clear()
        while self._stops:
            callback = self._stops.pop()
            try:
                callback()
            except Exception:
                log.exception("stopping %r failed", callback)
