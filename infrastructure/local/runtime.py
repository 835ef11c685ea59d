"""Starts and stops the local system's AWS side: moto, the table, the engine hook, the seed.

The HTTP side (gateway + uvicorn) lives in `__main__`; tests and tools can start just this.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

import boto3

from infrastructure.local import (
    lambda_isolation,
    moto_dynamodb,
    moto_query,
    moto_responses,
    moto_stepfunctions,
    moto_tracking,
    seed,
    tokens,
)
from infrastructure.local.aws import TABLE_NAME, Moto, configure_environment, start_moto
from infrastructure.local.engine import provision_engine
from infrastructure.local.events import LambdaContext
from infrastructure.local.moto_threads import serialize_dynamodb
from infrastructure.local.queue_poller import QueuePoller
from infrastructure.local.run_watcher import RunWatcher
from infrastructure.local.schedule import Every
from infrastructure.local.stream_poller import start_stream_poller
from infrastructure.routes import SWEEP_FUNCTION, WEBHOOK_FUNCTION
from infrastructure.table import create_table_request

log = logging.getLogger("infrastructure.local.runtime")
STREAM_DLQ = "process-stream-dlq"
EVENT_BUS_NAME = "execution-monitor-local"
WEBHOOK_QUEUE = "webhook-deliveries"
WEBHOOK_DLQ = "webhook-deliveries-dlq"
SWEEP_EVERY_SECONDS = 5
STOP_SECONDS = 1.5  # with uvicorn's graceful shutdown (2 s), exit stays within 5 s of a SIGTERM


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
        self.on_stop(moto_dynamodb.install())  # before the first request makes moto's backends
        self.on_stop(moto_tracking.install())
        self.on_stop(moto_responses.install())
        self.on_stop(moto_query.install())
        self.on_stop(lambda_isolation.install())  # handlers run in-process, on worker threads
        self.on_stop(moto_stepfunctions.install())
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
        (the DynamoDB stream poller feeding process_stream) start here and register their
        shutdown with `self.on_stop(...)`.
        """
        state_machine_arn = provision_engine(boto3.Session())
        os.environ["STATE_MACHINE_ARN"] = state_machine_arn
        watcher = RunWatcher(boto3.client("stepfunctions"), state_machine_arn)
        watcher.start()
        self.on_stop(watcher.stop)
        self.start_notifications()
        # process_stream fed by the table's stream, in batches, with a local dead-letter queue.
        dead_letters = boto3.client("sqs").create_queue(QueueName=STREAM_DLQ)["QueueUrl"]
        poller = start_stream_poller(
            boto3.Session(), TABLE_NAME, dead_letters, on_checkpoint=moto_dynamodb.stream_trimmer(TABLE_NAME)
        )
        self.on_stop(poller.stop)
        # The sweep's schedule (every minute in AWS): stalls show within seconds locally.
        from sweep_executions.handler import lambda_handler as sweep

        every = Every(SWEEP_EVERY_SECONDS, lambda: sweep({}, LambdaContext(SWEEP_FUNCTION)), "sweep")
        self.on_stop(every.start().stop)

    def start_notifications(self) -> None:
        """The events bus, the webhook queue and its dead-letter queue, and deliver_webhook fed by
        the queue, as the stack wires them (the settings are set before any function loads)."""
        sqs = boto3.client("sqs")
        boto3.client("events").create_event_bus(Name=EVENT_BUS_NAME)
        deliveries = sqs.create_queue(QueueName=WEBHOOK_QUEUE)["QueueUrl"]
        dead_letters = sqs.create_queue(QueueName=WEBHOOK_DLQ)["QueueUrl"]
        os.environ.update(
            {
                "EVENT_BUS_NAME": EVENT_BUS_NAME,
                "WEBHOOK_QUEUE_URL": deliveries,
                "WEBHOOK_DLQ_URL": dead_letters,
            }
        )
        from deliver_webhook.handler import lambda_handler as deliver

        poller = QueuePoller(sqs, deliveries, lambda event: deliver(event, LambdaContext(WEBHOOK_FUNCTION)))
        self.on_stop(poller.start().stop)

    def stop(self, timeout: float = STOP_SECONDS) -> bool:
        """Runs the cleanups, newest first, for at most `timeout` seconds; False if they overran.

        Every background thread (pollers, the schedule, moto's server and its Step Functions
        executions) is a daemon, so a cleanup still running after the bound never holds the
        process open: exit stays quick however busy the engine was.
        """
        self._ready.clear()
        stopper = threading.Thread(target=self._run_stops, name="runtime-stop", daemon=True)
        stopper.start()
        stopper.join(timeout)
        if stopper.is_alive():
            log.warning("stopping took over %.0fs; exiting with cleanups unfinished", timeout)
            return False
        return True

    def _run_stops(self) -> None:
        while self._stops:
            callback = self._stops.pop()
            try:
                callback()
            except Exception:
                log.exception("stopping %r failed", callback)
