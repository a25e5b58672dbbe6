"""The one backoff: the server's Retry-After, else jittered exponential waits; bounded when asked."""

from __future__ import annotations

from failbrief.lib.http import backoff_seconds


def test_waits_grow_exponentially_between_half_and_all_of_the_step_up_to_the_cap() -> None:
    expected = [(1, 2), (2, 4), (4, 8), (5, 10), (5, 10)]  # base 2 s, cap 10 s
    for attempt, (low, high) in enumerate(expected):
        waits = [backoff_seconds(attempt, base=2.0, cap=10.0) for _ in range(200)]
        assert all(low <= wait <= high for wait in waits), (attempt, min(waits), max(waits))
        assert len(set(waits)) > 1  # jittered, so many callers do not retry in step


def test_retry_after_is_the_wait_even_past_the_cap() -> None:
    assert backoff_seconds(0, 30.0, base=1.0, cap=10.0) == 30.0
    assert backoff_seconds(5, 0.7, base=1.0, cap=10.0) == 0.7


def test_a_retry_after_of_zero_still_waits_half_the_base_so_no_busy_loop() -> None:
    assert backoff_seconds(3, 0.0, base=2.0, cap=60.0) == 1.0


def test_longest_bounds_the_wait_retry_after_included() -> None:
    assert backoff_seconds(0, 30.0, base=1.0, cap=2.0, longest=2.0) == 2.0
    assert backoff_seconds(0, 1.5, base=0.2, cap=2.0, longest=2.0) == 1.5
