"""The shared cache: JSON values only, digest keys, TTL and maxsize kept by Redis, poisoned entries are misses."""

from __future__ import annotations

import json
import pickle
import time
from typing import Any

import pytest

from pepperpy import Completion, Embeddings, ToolCall, Usage
from pepperpy.http.transport import Request
from pepperpy.resilience.cache import CacheConfig, CacheInfo, ResponseCache
from pepperpy.shared import SharedState
from pepperpy.shared.cache import SharedCache, decode, encode
from tests.shared.redis_server import TIMEOUT, RedisServer

ANSWER = Completion("Hi there", "m", "p", "stop", Usage(3, 2, 5, 1, 0), 0.25, {"id": "x", "choices": [1, 2]},
                    tool_calls=(ToolCall("c1", "f", {"a": [1, 2], "b": None}),), request_id="req-1")
VECTORS = Embeddings([[0.1, 0.2], [0.3, -1e-9]], "e", "p", Usage(4, 0), None, {"data": []})


def cache(url: str, namespace: str, **config: Any) -> SharedCache:
    state = SharedState(url, namespace=namespace, timeout=TIMEOUT)
    return SharedCache(state, CacheConfig(**config) if config else None)


def key(prompt: str) -> str:
    return ResponseCache.key("p", "m", Request("POST", "/chat", {"messages": [{"role": "user", "content": prompt}]}))


def test_round_trips_completions_and_embeddings() -> None:
    from dataclasses import replace

    for value in (ANSWER, VECTORS, Completion("", "m", "p")):
        text = encode(value)
        assert text is not None
        assert decode(text) == replace(value, cached=True)
    assert encode(Completion("x", "m", "p", raw={"bytes": b"no json"})) is None  # not cached, never pickled
    assert encode("a string") is None


def test_an_answer_stored_by_one_worker_is_a_hit_in_another(redis_server: RedisServer, namespace: str) -> None:
    a, b = cache(redis_server.url, namespace), cache(redis_server.url, namespace)
    assert b.get(key("hi")) is None
    a.put(key("hi"), ANSWER)
    hit = b.get(key("hi"))
    assert hit is not None and hit.cached and hit.text == "Hi there" and hit.tool_calls == ANSWER.tool_calls
    hit.raw["id"] = "changed"  # a caller's change is never seen by the next hit
    assert b.get(key("hi")).raw["id"] == "x"
    assert a.info() == b.info() == CacheInfo(hits=2, misses=1, size=1, maxsize=1024)


def test_keys_are_digests_under_the_namespace_and_values_json(redis_server: RedisServer, redis_client: Any,
                                                             namespace: str) -> None:
    a = cache(redis_server.url, namespace)
    a.put(key("my secret prompt"), ANSWER)
    keys = [k.decode() for k in redis_client.scan_iter(f"{namespace}:*")]
    assert sorted(keys) == sorted([f"{namespace}:cache:{key('my secret prompt')}", f"{namespace}:cache-index"])
    assert not any("secret" in k for k in keys)
    stored = redis_client.get(f"{namespace}:cache:{key('my secret prompt')}")
    assert json.loads(stored)["text"] == "Hi there"


class Boom:
    def __reduce__(self) -> Any:
        return (exec, ("raise SystemExit('pickle ran')",))


@pytest.mark.parametrize("poison", [
    pickle.dumps(Boom()),
    b"\x80\x04not json",
    b"[1, 2, 3]",
    json.dumps({"format": 1, "type": "completion", "text": 5, "model": "m", "provider": "p"}).encode(),
    json.dumps({"format": 1, "type": "embeddings", "vectors": [["x"]], "model": "m", "provider": "p",
                "usage": [0, 0, 0, 0, 0], "cost": None, "raw": None}).encode(),
    json.dumps({"format": 1, "type": "completion", "text": "t", "model": "m", "provider": "p", "finish_reason": None,
                "usage": [1, 2, 3, True, 0], "cost": None, "raw": None, "request_id": None,
                "tool_calls": []}).encode(),
    json.dumps({"format": 1, "type": "completion", "text": "t", "model": "m", "provider": "p", "finish_reason": None,
                "usage": [1, 2, 3, 0, 0], "cost": "free", "raw": None, "request_id": None,
                "tool_calls": []}).encode(),
    json.dumps({"format": 2, "type": "completion"}).encode(),
    b"[" * 100_000,
])
def test_a_poisoned_or_malformed_entry_is_a_miss_and_is_dropped(redis_server: RedisServer, redis_client: Any,
                                                                namespace: str, poison: bytes) -> None:
    a = cache(redis_server.url, namespace)
    a.put(key("hi"), ANSWER)
    redis_client.set(f"{namespace}:cache:{key('hi')}", poison)
    assert a.get(key("hi")) is None
    assert redis_client.exists(f"{namespace}:cache:{key('hi')}") == 0
    assert a.info() == CacheInfo(hits=0, misses=1, size=0, maxsize=1024)


def test_entries_expire_after_ttl(redis_server: RedisServer, namespace: str) -> None:
    a = cache(redis_server.url, namespace, ttl=0.15)
    a.put(key("hi"), ANSWER)
    assert a.get(key("hi")) is not None
    time.sleep(0.2)
    assert a.get(key("hi")) is None and a.info().size == 0


def test_maxsize_drops_the_least_recently_used(redis_server: RedisServer, redis_client: Any,
                                               namespace: str) -> None:
    a = cache(redis_server.url, namespace, maxsize=3)
    for name in ("one", "two", "three"):
        a.put(key(name), ANSWER)
    assert a.get(key("one")) is not None  # used: "two" is now the least recently used
    a.put(key("four"), ANSWER)
    assert [a.get(key(n)) is not None for n in ("one", "two", "three", "four")] == [True, False, True, True]
    assert a.info().size == 3 and len(list(redis_client.scan_iter(f"{namespace}:cache:*"))) == 3


def test_clear_drops_every_entry(redis_server: RedisServer, redis_client: Any, namespace: str) -> None:
    a = cache(redis_server.url, namespace)
    a.put(key("one"), ANSWER)
    a.put(key("two"), VECTORS)
    a.clear()
    assert a.info() == CacheInfo(0, 0, 0, 1024)
    assert list(redis_client.scan_iter(f"{namespace}:*")) == []


def test_redis_down_falls_back_to_the_local_cache(own_redis: RedisServer, namespace: str) -> None:
    a = cache(own_redis.url, namespace)
    a.put(key("shared"), ANSWER)
    own_redis.kill()
    assert a.get(key("shared")) is None  # only in Redis
    a.put(key("local"), VECTORS)
    assert a.get(key("local")).vectors == VECTORS.vectors
    assert a.info() == CacheInfo(hits=1, misses=1, size=1, maxsize=1024)
