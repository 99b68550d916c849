"""lib.throttle: answers computed once per key while fresh, and a fixed-window rate limit."""

from __future__ import annotations

import threading
import time

import pytest

from lib import throttle


@pytest.fixture(autouse=True)
def local_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


def test_an_answer_is_computed_once_while_fresh_and_failures_are_not_kept():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert [throttle.cached("k", compute, ttl=60) for _ in range(5)] == [1] * 5
    assert throttle.cached("other", compute, ttl=60) == 2
    assert throttle.cached("bad", compute, ttl=60, keep=lambda v: False) == 3
    assert throttle.cached("bad", compute, ttl=60, keep=lambda v: False) == 4


def test_callers_asking_the_same_at_once_wait_for_one_answer():
    calls = []
    start = threading.Barrier(8)
    answers = []

    def compute():
        calls.append(1)
        time.sleep(0.3)
        return "answer"

    def ask():
        start.wait()
        answers.append(throttle.cached("same", compute, ttl=60))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["answer"] * 8
    assert len(calls) == 1


def test_the_limit_counts_per_caller_and_window():
    at = 1_000_000_040  # 20 s into a 60 s window
    for _ in range(3):
        throttle.spend("s", "ann", limit=3, window=60, now=at)
    with pytest.raises(throttle.LimitExceeded) as refused:
        throttle.spend("s", "ann", limit=3, window=60, now=at + 5)
    assert refused.value.retry_after == 35
    throttle.spend("s", "bob", limit=3, window=60, now=at + 5)  # someone else
    throttle.spend("s", "ann", limit=3, window=60, now=at + 40)  # the next window


def test_a_refused_read_computes_nothing():
    def refuse():
        raise throttle.LimitExceeded(1, 60, 10)

    with pytest.raises(throttle.LimitExceeded):
        throttle.cached("k", lambda: pytest.fail("asked"), ttl=60, before_compute=refuse)
    # Nothing was left computing: the next caller does not wait.
    assert throttle.cached("k", lambda: "fine", ttl=60) == "fine"
