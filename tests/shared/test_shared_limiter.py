"""The shared rate limiter: RateLimiter's buckets, one budget for every worker, taken atomically in Redis."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import pepperpy
from pepperpy.shared import SharedState
from pepperpy.shared.limiter import SharedRateLimiter
from tests.shared.redis_server import TIMEOUT, RedisServer


class Time:
    """One fake time for the scripts and the sleeps of every limiter of a test."""

    def __init__(self) -> None:
        self.now = 5_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def limiter(url: str, namespace: str, t: Time | None = None, **kw: Any) -> SharedRateLimiter:
    state = SharedState(url, namespace=namespace, clock=t, timeout=TIMEOUT)
    if t is not None:
        kw.setdefault("clock", t)
        kw.setdefault("sleep", t.sleep)
    return SharedRateLimiter(state, "p", kw.pop("rpm", None), kw.pop("tpm", None), **kw)


def test_two_workers_share_one_request_budget(redis_server: RedisServer, namespace: str) -> None:
    t = Time()
    a, b = (limiter(redis_server.url, namespace, t, rpm=120) for _ in range(2))
    for worker in (a, b, a, b, a, b):
        worker.acquire()
    # a burst of one second's worth (2), then one slot every 0.5 s, whoever asks
    assert t.sleeps == [0.5, 0.5, 0.5, 0.5]


def test_a_slot_further_than_max_wait_is_refused_and_nothing_taken(redis_server: RedisServer,
                                                                    namespace: str) -> None:
    t = Time()
    a = limiter(redis_server.url, namespace, t, rpm=60, max_wait=0.5)
    a.acquire()
    with pytest.raises(pepperpy.RateLimitError) as info:
        a.acquire()
    assert info.value.retry_after == pytest.approx(1.0) and "shared by every worker" in str(info.value)
    t.now += 1.0
    a.acquire()  # the refused call took nothing: the next slot is due now
    assert t.sleeps == []


def test_a_slot_past_the_deadline_is_refused(redis_server: RedisServer, namespace: str) -> None:
    t = Time()
    a = limiter(redis_server.url, namespace, t, rpm=60)
    a.acquire()
    with pytest.raises(pepperpy.RateLimitError, match="total_timeout"):
        a.acquire(deadline=t.now + 0.5)
    a.acquire(deadline=t.now + 2.0)
    assert t.sleeps == [1.0]


def test_tokens_per_minute_are_shared_and_settled(redis_server: RedisServer, namespace: str) -> None:
    t = Time()
    a, b = (limiter(redis_server.url, namespace, t, tpm=600) for _ in range(2))
    a.acquire(500)
    b.acquire(100)  # 600 taken: the bucket is empty
    a.settle(500, 200)  # a's call used 200: 300 come back, with a's next acquire (no round trip of its own)
    a.acquire(300)
    assert t.sleeps == []
    b.acquire(100)  # 10 tokens per second
    assert t.sleeps == [10.0]
    b.settle(100, 150)  # used more than estimated
    b.flush()
    a.acquire(0)  # the bucket owes b's 50 extra tokens: 5 s before it is back at zero
    a.acquire(50)
    assert t.sleeps == [10.0, 5.0, 5.0]


def test_a_cost_above_the_whole_bucket_waits_for_a_full_one(redis_server: RedisServer, namespace: str) -> None:
    t = Time()
    a = limiter(redis_server.url, namespace, t, tpm=60, max_wait=120)
    a.acquire(1000)  # clipped to the bucket (60): a single huge request is not refused forever
    a.acquire(60)
    assert t.sleeps == [60.0]


def test_threads_of_several_workers_never_exceed_the_budget(redis_server: RedisServer, namespace: str) -> None:
    # real time: 4 workers x 4 threads hammer rpm=600 (10 per second, burst 10) for about 0.6 s
    limiters = [limiter(redis_server.url, namespace, rpm=600, max_wait=5.0) for _ in range(4)]
    stamps: list[float] = []
    lock = threading.Lock()
    end = time.monotonic() + 0.6

    def loop(lim: SharedRateLimiter) -> None:
        while time.monotonic() < end:
            lim.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=loop, args=(limiters[i % 4],)) for i in range(16)]
    start = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    inside = [s for s in stamps if s <= start + 1.0]
    assert len(inside) <= 10 + 10 + 1  # the burst, one second's refill, one of rounding
    assert len(stamps) >= 14  # and the budget is used, not starved


def test_limits_are_checked_as_locally() -> None:
    with pytest.raises(pepperpy.ConfigurationError, match="rpm and tpm"):
        SharedRateLimiter(SharedState("redis://127.0.0.1:1/0"), "p", rpm=0, tpm=None)


def test_redis_down_falls_back_to_the_local_bucket(own_redis: RedisServer, namespace: str) -> None:
    t = Time()
    a = limiter(own_redis.url, namespace, t, rpm=60)
    a.acquire()
    own_redis.kill()
    a.acquire()  # the local bucket is full: this process alone now enforces the whole budget
    a.acquire()
    assert t.sleeps == [1.0]
