"""The counter under future budgets: "add unless past the limit" is atomic across workers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pepperpy.shared import SharedState
from pepperpy.shared.counter import SharedCounter
from tests.shared.redis_server import TIMEOUT, RedisServer


def test_never_passes_the_limit_under_concurrent_adds(redis_server: RedisServer, namespace: str) -> None:
    counters = [SharedCounter(SharedState(redis_server.url, namespace=namespace, timeout=TIMEOUT), "budget")
                for _ in range(4)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: counters[i % 4].try_add(0.3, limit=5.0), range(40)))
    added = [r for r in results if r is not None and r[0]]
    assert len(added) == 16  # 16 x 0.3 = 4.8; a 17th would pass 5.0
    assert counters[0].add(-0.8) == 4.0
    assert counters[1].try_add(1.0, limit=5.0) == (True, 5.0)


def test_a_period_expires(redis_server: RedisServer, redis_client: object, namespace: str) -> None:
    counter = SharedCounter(SharedState(redis_server.url, namespace=namespace, timeout=TIMEOUT), "day-1", ttl=60)
    assert counter.try_add(2.5) == (True, 2.5)
    assert 0 < redis_client.pttl(counter.key) <= 60_000  # type: ignore[attr-defined]


def test_down_is_none(own_redis: RedisServer, namespace: str) -> None:
    counter = SharedCounter(SharedState(own_redis.url, namespace=namespace, timeout=TIMEOUT), "x")
    own_redis.kill()
    assert counter.try_add(1.0, limit=2.0) is None and counter.add(1.0) is None
