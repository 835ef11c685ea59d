"""Environment configuration, parsed lazily (never at import time) and cached per process."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MAX_REQUEST_BYTES = 256 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    table_name: str = Field(default="", alias="TABLE_NAME")
    state_machine_arn: str = Field(default="", alias="STATE_MACHINE_ARN")
    jwt_jwks_url: str = Field(default="", alias="JWT_JWKS_URL")
    jwt_issuer: str = Field(default="", alias="JWT_ISSUER")
    jwt_audience: str = Field(default="", alias="JWT_AUDIENCE")
    http_action_allowed_networks: str = Field(default="", alias="HTTP_ACTION_ALLOWED_NETWORKS")
    max_request_bytes: int = Field(default=DEFAULT_MAX_REQUEST_BYTES, alias="MAX_REQUEST_BYTES")

    def require_table(self) -> str:
        if not self.table_name:
            raise RuntimeError("TABLE_NAME is not set")
        return self.table_name


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
