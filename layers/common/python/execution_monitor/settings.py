"""Environment configuration: one small settings model per concern, validated at cold start.

Each function loads (and so validates) the settings it needs when its module is initialised, so a
missing variable fails the init with the variable's name instead of a request later. Parsing the
environment is not I/O; models are cached per process and tests reset them with `reset_settings()`.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Self, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_MAX_REQUEST_BYTES = 256 * 1024


class Settings(BaseModel):
    """Settings from environment variables named by the fields' aliases (pydantic-settings would
    cost every cold start ~70 ms of imports for what is a dictionary lookup)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    @classmethod
    def load(cls) -> Self:
        return cast(Self, _load(cls))

    @classmethod
    def from_environment(cls) -> Self:
        names = {field.alias or name for name, field in cls.model_fields.items()}
        return cls.model_validate({name: os.environ[name] for name in names if name in os.environ})


@cache
def _load(kind: type[Settings]) -> Settings:
    return kind.from_environment()


def reset_settings() -> None:
    _load.cache_clear()


class TableSettings(Settings):
    """Every function that reads or writes the single table."""

    table_name: str = Field(alias="TABLE_NAME", min_length=1)


class EngineSettings(Settings):
    """Functions that start or stop state-machine runs."""

    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", min_length=1)


class AuthSettings(Settings):
    """The authorizer: where the signing keys are and what the tokens must say."""

    jwt_jwks_url: str = Field(alias="JWT_JWKS_URL", min_length=1)
    jwt_issuer: str = Field(default="", alias="JWT_ISSUER")
    jwt_audience: str = Field(default="", alias="JWT_AUDIENCE")  # app client ids, comma-separated

    @property
    def audiences(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.jwt_audience.split(",") if part.strip())


class ApiSettings(Settings):
    max_request_bytes: int = Field(default=DEFAULT_MAX_REQUEST_BYTES, gt=0, alias="MAX_REQUEST_BYTES")


class CorsSettings(Settings):
    """Browser origins that may call the API from another origin (DESIGN "CORS"): ALLOWED_ORIGINS,
    comma-separated (`https://a.example, http://localhost:3000`); empty or unset allows none."""

    allowed_origins: frozenset[str] = Field(default=frozenset(), alias="ALLOWED_ORIGINS")

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        # An origin has no path: a trailing slash, copied from an address bar, must still match.
        return frozenset(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())


class ActionSettings(Settings):
    """Where http_request may go: private CIDRs allowed (comma-separated), and host:port endpoints
    refused even inside them (the local runtime's own unauthenticated services)."""

    http_action_allowed_networks: str = Field(default="", alias="HTTP_ACTION_ALLOWED_NETWORKS")
    http_action_denied_endpoints: str = Field(default="", alias="HTTP_ACTION_DENIED_ENDPOINTS")


class EventSettings(Settings):
    """Where events go: the EventBridge bus, and the queue of webhook deliveries."""

    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    webhook_queue_url: str = Field(alias="WEBHOOK_QUEUE_URL", min_length=1)


class WebhookSettings(Settings):
    """The delivery queue (to delay a retry on it) and its dead-letter queue (for given-up ones)."""

    webhook_queue_url: str = Field(alias="WEBHOOK_QUEUE_URL", min_length=1)
    webhook_dlq_url: str = Field(alias="WEBHOOK_DLQ_URL", min_length=1)
