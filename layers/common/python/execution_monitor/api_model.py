"""Base of every wire model: camelCase JSON, snake_case Python, unknown fields rejected."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# An absolute http(s) URL with a host, as the URL validators accept it (documented in the schema).
HTTP_URL_PATTERN = r"^https?://[A-Za-z0-9._~-]+(:[0-9]*)?([/?#].*)?$"
_NUMBERS: tuple[Any, ...] = (int, float, int | None, float | None)


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_boolean_for_a_number(cls, data: Any) -> Any:
        # pydantic reads `false` as 0 for a number field; the schema says number, JSON says boolean.
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                if field.annotation in _NUMBERS and isinstance(data.get(field.alias or name), bool):
                    raise ValueError(f"{field.alias or name}: expected a number, not a boolean")
        return data

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=False)
