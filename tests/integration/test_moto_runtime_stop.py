"""The local runtime's stop is bounded: a cleanup that hangs cannot hold the process open."""

from __future__ import annotations

import threading

from infrastructure.local.runtime import LocalRuntime


def test_given_a_cleanup_that_hangs_then_stop_gives_up_after_its_bound_and_says_so() -> None:
    runtime = LocalRuntime(gateway_url="http://127.0.0.1:9")
    release = threading.Event()
    ran: list[str] = []
    runtime.on_stop(lambda: ran.append("moto"))  # registered first: stops last

    def hang() -> None:
        release.wait(30)

    runtime.on_stop(hang)
    runtime.on_stop(lambda: ran.append("poller"))

    finished = runtime.stop(timeout=0.2)

    assert finished is False
    assert ran == ["poller"]  # newest first; the hanging one is still running
    release.set()


def test_given_cleanups_that_finish_then_stop_runs_them_all_newest_first() -> None:
    runtime = LocalRuntime(gateway_url="http://127.0.0.1:9")
    ran: list[str] = []
    for name in ("moto", "engine", "poller"):
        runtime.on_stop(lambda name=name: ran.append(name))  # type: ignore[misc]

    assert runtime.stop(timeout=10) is True
    assert ran == ["poller", "engine", "moto"]
