"""moto's DynamoDB is serialized for the threads that share it (the engine, pollers, API calls)."""

import threading
from typing import Any

import boto3
from moto.dynamodb.responses import DynamoHandler

from infrastructure.local import moto_threads


def test_given_the_lock_is_installed_then_no_two_dynamodb_requests_overlap(
    aws: None, monkeypatch: Any
) -> None:
    inside = 0
    overlaps = 0
    entered = 0
    original = moto_threads._LOCK

    class Watching:
        def __enter__(self) -> None:
            nonlocal inside, overlaps, entered
            original.acquire()
            entered += 1
            inside += 1
            overlaps += inside > 1

        def __exit__(self, *_: object) -> None:
            nonlocal inside
            inside -= 1
            original.release()

    monkeypatch.setattr(moto_threads, "_LOCK", Watching())
    assert getattr(DynamoHandler.call_action, "serialized", False)
    client = boto3.client("dynamodb")
    threads = [threading.Thread(target=lambda: [client.list_tables() for _ in range(20)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert entered == 80  # every request went through the lock
    assert overlaps == 0
