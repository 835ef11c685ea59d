"""Stops moto from keeping every model object it ever made (moto 5.2.5, pinned).

`moto.core.common_models.BaseModel.__new__` appends each instance to its class's
`instances_tracked` list, for moto's dashboard (`/moto-api/data.json`) and test resets. In a long
`make dev` that list holds every DynamoDB stream record, shard iterator (one per GetRecords call)
and item version ever made: memory grows without bound. The local runtime uses no dashboard, so
`install()` makes new instances untracked; objects then live as long as moto's state refers to them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.common_models import BaseModel

_original_new = BaseModel.__dict__["__new__"]


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


def install() -> Callable[[], None]:
    """Applies the patch; returns a function that restores moto's tracking."""
    BaseModel.__new__ = staticmethod(_untracked_new)  # type: ignore[method-assign]

    def restore() -> None:
        BaseModel.__new__ = _original_new  # type: ignore[method-assign]

    return restore
