"""What an action is: the typed definitions of every action type (pydantic, no I/O, cheap to import).

A workflow's actions are parsed from JSON once at the edge (PUT workflow) and once at the store
boundary (a step's stored action); everything in between passes these objects around. Performing
an action lives in the type's own module (`send_message`, `http_request`), imported only by the
engine when it runs one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, TypeAdapter, field_validator, model_validator

from execution_monitor.api_model import HTTP_URL_PATTERN, IDENTIFIER_PATTERN, ApiModel

MAX_BACKOFF_SECONDS = 3600
MAX_DELAY_SECONDS = 86400
DEFAULT_TIMEOUT_SECONDS = 60  # an action's own time limit when its definition sets none
# `{{input.a.b}}` / `{{steps.<actionId>.output.a.b}}` (resolved by engine.templates).
REFERENCE = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")


class RetryPolicy(ApiModel):
    """How often a failing action is tried in all: maxAttempts counts the first try too."""

    max_attempts: int = Field(default=3, ge=1, le=20)
    interval_seconds: float = Field(default=1, ge=0, le=3600)
    backoff_rate: float = Field(default=2, ge=1, le=10)

    def wait_before(self, next_attempt: int) -> int:
        """Seconds to wait before `next_attempt` (2 = the first retry): whole seconds, at most an hour."""
        seconds = self.interval_seconds * self.backoff_rate ** max(0, next_attempt - 2)
        return min(MAX_BACKOFF_SECONDS, max(0, int(-(-seconds // 1))))


class ActionBase(ApiModel):
    id: str = Field(pattern=IDENTIFIER_PATTERN)
    name: str | None = Field(default=None, max_length=200)
    retry: RetryPolicy | None = None
    timeout_seconds: int | None = Field(default=None, ge=1, le=300)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @property
    def max_attempts(self) -> int:
        return self.retry.max_attempts if self.retry else 1

    @property
    def time_limit_seconds(self) -> int:
        """How long one attempt may take before the engine gives up on it."""
        return self.timeout_seconds or DEFAULT_TIMEOUT_SECONDS

    def referenced_steps(self) -> set[str]:
        """Action ids whose outputs this action's params reference (`{{steps.<id>.output…}}`)."""
        found: set[str] = set()
        for text in _strings(self.to_json_dict().get("params")):
            for match in REFERENCE.finditer(text):
                parts = match.group(1).split(".")
                if parts[0] == "steps" and len(parts) > 1:
                    found.add(parts[1])
        return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


# -- delay: a native Wait state; no Lambda time is spent waiting -----------------------------------


class DelayParams(ApiModel):
    seconds: int = Field(ge=0, le=MAX_DELAY_SECONDS)


class DelayAction(ActionBase):
    type: Literal["delay"]
    params: DelayParams


# -- http_request: one HTTP call, guarded against SSRF when performed ------------------------------


class HttpRequestParams(ApiModel):
    # What the validator accepts: an absolute http(s) URL, or one with {{references}} in it.
    url: str = Field(max_length=2048, pattern=rf"{HTTP_URL_PATTERN}|\{{\{{")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    headers: dict[str, str] | None = None
    body: Any = None
    timeout_seconds: float = Field(default=10, gt=0, le=60)
    expected_status: list[int] | None = Field(default=None, min_length=1, max_length=50)

    @field_validator("url")
    @classmethod
    def absolute_http_url(cls, url: str) -> str:
        if "{{" in url:
            return url  # checked again once its references are resolved
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an absolute http(s) URL")
        return url

    @field_validator("expected_status")
    @classmethod
    def real_status_codes(cls, codes: list[int] | None) -> list[int] | None:
        if codes and any(not 100 <= code <= 599 for code in codes):
            raise ValueError("status codes are between 100 and 599")
        return codes


class HttpRequestAction(ActionBase):
    type: Literal["http_request"]
    params: HttpRequestParams


# -- send_message: a message on an SQS queue or an SNS topic ---------------------------------------


class SendMessageParams(ApiModel):
    # The validator's rule in the schema too, so clients (and fuzzers) know a target is required.
    model_config = ConfigDict(
        **ApiModel.model_config,
        json_schema_extra={
            "oneOf": [
                {"required": [name], "properties": {name: {"type": "string"}}}
                for name in ("queueUrl", "topicArn")
            ]
        },
    )
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


ActionDefinition = Annotated[
    SendMessageAction | HttpRequestAction | DelayAction,
    Field(discriminator="type"),
]
ACTION_MODELS = (SendMessageAction, HttpRequestAction, DelayAction)
# The discriminator tags pydantic inserts into error locations (api.py strips them).
ACTION_TYPES = frozenset(model.model_fields["type"].annotation.__args__[0] for model in ACTION_MODELS)  # type: ignore[union-attr]


@cache
def _adapter() -> TypeAdapter[ActionDefinition]:
    # Built on first use: a TypeAdapter costs milliseconds, and most cold starts never need one.
    return TypeAdapter(ActionDefinition)


def parse_action(text: str) -> ActionDefinition:
    """A stored action (the JSON its `to_json_dict` gave) back as its typed definition."""
    return _adapter().validate_json(text)


def action_json(action: ActionDefinition) -> str:
    return json.dumps(action.to_json_dict(), separators=(",", ":"), sort_keys=True)
