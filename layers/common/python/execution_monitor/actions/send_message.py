"""`send_message`: put a message on an SQS queue or publish it to an SNS topic."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, model_validator

from execution_monitor.actions.base import ActionBase
from execution_monitor.api_model import ApiModel
from execution_monitor.aws import client


class SendMessageParams(ApiModel):
    queue_url: str | None = Field(default=None, max_length=2048)
    topic_arn: str | None = Field(default=None, max_length=2048)
    message: str | dict[str, Any]
    attributes: dict[str, str] | None = None

    @model_validator(mode="after")
    def exactly_one_target(self) -> SendMessageParams:
        if (self.queue_url is None) == (self.topic_arn is None):
            raise ValueError("give exactly one of queueUrl or topicArn")
        return self


class SendMessageAction(ActionBase):
    type: Literal["send_message"]
    params: SendMessageParams


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
