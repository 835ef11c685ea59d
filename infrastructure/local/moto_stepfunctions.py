"""moto's Step Functions keeps less of a finished run (moto 5.2.5, pinned).

moto keeps each run's whole interpreter after the run ends (parsed program, states, context and
a history whose events carry every state's input and output), and appends every run's thread to a
module-level list. In a long `make dev` that is most of what still grows. `install()` wraps the
end of a run: the execution keeps its status, output and error (what DescribeExecution answers)
and a skeleton of its history, pickled (each event's id, type, time and previous id, so
GetExecutionHistory still answers and counts states), and finished threads leave the list.
Nothing of the runtime reads a finished run's details (the reconciler describes runs; it never
reads their history).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser import utils
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

SKELETON_FIELDS = ("timestamp", "type", "id", "previousEventId")


class _NoCallbacks:
    """A finished run waits for no task token (moto asks every run when one is sent)."""

    def heartbeat(self, callback_id: str) -> bool:
        return False

    def notify(self, callback_id: str, outcome: Any) -> bool:
        return False


class _NoMapRuns:
    def get(self, map_run_arn: str) -> None:
        return None

    def get_all(self) -> list[Any]:
        return []


class _History:
    """The skeleton, pickled: one bytes object rather than a dict per event (~5 KB a run, not ~35)."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self._events = pickle.dumps(events, protocol=pickle.HIGHEST_PROTOCOL)

    def get_event_history(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = pickle.loads(self._events)  # noqa: S301 (pickled above)
        return events


class _EndedEnvironment:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.event_manager = _History(events)
        self.callback_pool_manager = _NoCallbacks()
        self.map_run_record_pool_manager = _NoMapRuns()


class EndedWorker:
    """Stands in for a finished run's ExecutionWorker."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.env = _EndedEnvironment(events)

    def stop(self, **_: Any) -> None:
        """Stopping a finished run changes nothing (moto checks its status first)."""


def skeleton(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{name: event[name] for name in SKELETON_FIELDS if name in event} for event in events]


_original_terminated = BaseExecutionWorkerCommunication.terminated


def _terminated_and_released(self: BaseExecutionWorkerCommunication) -> None:
    _original_terminated(self)  # the status, output and error, read from the interpreter
    execution = self.execution
    if execution.exec_worker is not None and execution.exec_worker.env is not None:
        events = execution.exec_worker.env.event_manager.get_event_history()
        execution.exec_worker = EndedWorker(skeleton(events))  # type: ignore[assignment,arg-type]
    utils.TMP_THREADS[:] = [thread for thread in utils.TMP_THREADS if thread.is_alive()]


def install() -> Callable[[], None]:
    """Applies the patch; returns a function that restores moto's own behaviour."""
    BaseExecutionWorkerCommunication.terminated = _terminated_and_released  # type: ignore[method-assign]

    def restore() -> None:
        BaseExecutionWorkerCommunication.terminated = _original_terminated  # type: ignore[method-assign]

    return restore
