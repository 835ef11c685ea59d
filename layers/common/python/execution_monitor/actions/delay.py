"""`delay`: a native Wait state in the state machine; no Lambda time is spent waiting."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from execution_monitor.actions.base import ActionBase
from execution_monitor.api_model import ApiModel

MAX_DELAY_SECONDS = 86400


class DelayParams(ApiModel):
    seconds: int = Field(ge=0, le=MAX_DELAY_SECONDS)


class DelayAction(ActionBase):
    type: Literal["delay"]
    params: DelayParams
