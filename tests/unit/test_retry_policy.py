from execution_monitor.actions.definitions import RetryPolicy


def test_given_backoff_then_waits_grow_geometrically_from_the_interval() -> None:
    policy = RetryPolicy(max_attempts=4, interval_seconds=2, backoff_rate=3)
    assert [policy.wait_before(attempt) for attempt in (2, 3, 4)] == [2, 6, 18]


def test_given_a_fractional_interval_then_the_wait_rounds_up_to_whole_seconds() -> None:
    assert RetryPolicy(interval_seconds=0.2).wait_before(2) == 1
    assert RetryPolicy(interval_seconds=0).wait_before(2) == 0


def test_given_a_steep_backoff_then_a_wait_never_exceeds_an_hour() -> None:
    assert RetryPolicy(max_attempts=20, interval_seconds=3600, backoff_rate=10).wait_before(20) == 3600
