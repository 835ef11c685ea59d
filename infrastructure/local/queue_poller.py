"""A local SQS event source mapping: what AWS Lambda does for deliver_webhook.

It receives messages from a queue (long polling), invokes the function with the SQS event Lambda
would send, deletes the messages that succeeded and leaves the ones in `batchItemFailures` to come
back when their visibility timeout ends (the function may have changed it: the backoff).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("infrastructure.local.queue_poller")

Invoke = Callable[[dict[str, Any]], Any]


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A ReceiveMessage message (as boto3 returns it) in the shape a Lambda SQS event carries."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class QueuePoller:
    def __init__(
        self, sqs_client: Any, queue_url: str, invoke: Invoke, *, batch_size: int = 10, wait_seconds: int = 1
    ) -> None:
        self.client = sqs_client
        self.queue_url = queue_url
        self.invoke = invoke
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.queue_arn = str(
            sqs_client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> QueuePoller:
        self._thread = threading.Thread(target=self._run, name="queue-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def poll_once(self) -> int:
        """Receives one batch and delivers it; returns how many messages it received."""
        received = self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
        records = [
            lambda_record(message, self.queue_arn, self.client.meta.region_name) for message in received
        ]
        try:
            response = self.invoke({"Records": records})
            failed = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
        except Exception:
            log.exception("%d-message batch failed as a whole", len(records))
            return len(records)  # all come back after their visibility timeout
        done = [message for message in received if message["MessageId"] not in failed]
        if done:
            self.client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
            )
        return len(records)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("queue poll failed; retrying")
                self._stop.wait(1)
