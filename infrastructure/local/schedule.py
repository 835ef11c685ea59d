"""A local stand-in for an EventBridge schedule: calls a function every few seconds in a thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("infrastructure.local.schedule")


class Every:
    def __init__(self, seconds: float, call: Callable[[], object], name: str) -> None:
        self.seconds = seconds
        self.call = call
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Every:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.call()
            except Exception:
                log.exception("%s failed; it runs again on schedule", self._thread.name)
