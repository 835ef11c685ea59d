"""Performs `send_message`: a message on an SQS queue or an SNS topic."""

from __future__ import annotations

import json
from typing import Any

from execution_monitor.actions.definitions import SendMessageParams
from execution_monitor.aws import client


def perform(params: SendMessageParams, timeout_seconds: float) -> dict[str, Any]:
    body = params.message if isinstance(params.message, str) else json.dumps(params.message)
    attributes = {
        key: {"DataType": "String", "StringValue": value} for key, value in (params.attributes or {}).items()
    }
    if params.queue_url:
        sent = client("sqs").send_message(
            QueueUrl=params.queue_url, MessageBody=body, MessageAttributes=attributes
        )
    else:
        sent = client("sns").publish(TopicArn=params.topic_arn, Message=body, MessageAttributes=attributes)
    return {"messageId": sent["MessageId"]}
