"""Per-invocation state of Powertools' resolver kept per thread, as separate Lambda environments
would keep it (aws-lambda-powertools 3, pinned).

Lambda runs one invocation per execution environment at a time; the local runtime runs every
function in one process, invocations on worker threads. Powertools' REST resolver keeps the
request being resolved on the class (`BaseRouter.current_event`, `BaseRouter.lambda_context`:
shared by every resolver of the process) and its per-request context on the resolver
(`resolver.context`). Two requests at once, to one function or to two, then read each other's
event: routing, parameters and validation of one request done on another's (a 500 `KeyError:
'_route'` was the visible case, under the soak's 8 clients). `install()` makes the three per
thread, so each worker thread sees only the invocation it runs. tests/unit/test_lambda_isolation.py.
"""

from __future__ import annotations

import threading
from abc import ABCMeta
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, BaseRouter

_invocation = threading.local()
_PER_INVOCATION = ("current_event", "lambda_context")


class _PerThread:
    """An attribute whose value belongs to the current thread (and to the object it is read on)."""

    def __init__(self, name: str, per_object: bool = False) -> None:
        self.name = name
        self.per_object = per_object

    def _slot(self, owner: object) -> str:
        return f"{self.name}:{id(owner)}" if self.per_object else self.name

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        try:
            return getattr(_invocation, self._slot(obj))
        except AttributeError:
            raise AttributeError(self.name) from None

    def __set__(self, obj: object, value: Any) -> None:
        setattr(_invocation, self._slot(obj), value)


class _PerThreadContext(_PerThread):
    """resolver.context: a dict per resolver and thread (Powertools expects one to exist)."""

    def __set__(self, obj: object, value: Any) -> None:
        super().__set__(obj, value)
        vars(obj)[self.name] = value  # what a resolver made now still has once the patch is removed

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return self
        slot = self._slot(obj)
        if not hasattr(_invocation, slot):
            setattr(_invocation, slot, {})
        return getattr(_invocation, slot)


class _RouterMeta(ABCMeta):
    """BaseRouter's metaclass: `BaseRouter.current_event = ...` (how Powertools sets it) per thread."""

    current_event = _PerThread("current_event")
    lambda_context = _PerThread("lambda_context")


def install() -> Callable[[], None]:
    """Applies the patch (idempotent); returns a function that restores Powertools' classes."""
    original_meta = type(BaseRouter)
    if original_meta is _RouterMeta:
        return lambda: None
    saved = {name: BaseRouter.__dict__[name] for name in _PER_INVOCATION if name in BaseRouter.__dict__}
    for name in _PER_INVOCATION:
        # Read on resolvers (self.current_event); set before the metaclass below takes class writes.
        setattr(BaseRouter, name, _PerThread(name))
    BaseRouter.__class__ = _RouterMeta  # type: ignore[method-assign,assignment]
    ApiGatewayResolver.context = _PerThreadContext("context", per_object=True)  # type: ignore[assignment]

    def restore() -> None:
        delattr(ApiGatewayResolver, "context")
        BaseRouter.__class__ = original_meta  # type: ignore[method-assign,assignment]
        for name in _PER_INVOCATION:
            delattr(BaseRouter, name)
        for name, value in saved.items():
            setattr(BaseRouter, name, value)

    return restore
