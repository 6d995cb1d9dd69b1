"""Must-show 4 (cache): a hit skips the network and the breaker; LRU, TTL, opt-in, per-call opt-out."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

import pepperpy
from pepperpy.http.transport import Request
from pepperpy.resilience.cache import CacheConfig, CacheInfo, ResponseCache
from pepperpy.testing import FakeProviderServer


def test_a_hit_skips_the_network(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(cache=True)
    first = client.complete("hi", model="local-chat", temperature=0.2)
    second = client.complete("hi", model="local-chat", temperature=0.2)
    assert not first.cached and second.cached
    assert second.text == first.text and second.usage == first.usage
    assert len(server.requests) == 1
    assert client.cache_info() == CacheInfo(hits=1, misses=1, size=1, maxsize=1024)


def test_the_key_is_the_whole_request(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(cache=True)
    client.complete("hi", model="local-chat")
    client.complete("hi", model="local-chat", temperature=0.5)
    client.complete("hi", model="local-chat", system="be brief")
    client.complete("hi", model="backup-chat")
    assert len(server.requests) == 3 and client.cache_info().size == 4


def test_per_call_cache_false_neither_reads_nor_writes(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(cache=True)
    client.complete("hi", model="local-chat")
    assert not client.complete("hi", model="local-chat", cache=False).cached
    assert "cache" not in server.requests[-1].json
    assert len(server.requests) == 2 and client.cache_info().hits == 0


def test_a_hit_does_not_touch_the_breaker(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(cache=True, max_retries=0, breaker={"fail_max": 1, "reset_timeout": 60})
    client.complete("cached", model="local-chat")
    server.fail(500)
    with pytest.raises(pepperpy.ProviderUnavailableError):
        client.complete("other", model="local-chat")
    assert client.breaker_state("local") == "open"
    assert client.complete("cached", model="local-chat").cached  # served while the circuit is open
    assert len(server.requests) == 2


def test_embeddings_are_cached_streams_are_not(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(cache=True)
    a = client.embed(["x", "y"], model="local-embed")
    b = client.embed(["x", "y"], model="local-embed")
    assert b.cached and not a.cached and b.vectors == a.vectors
    for _ in range(2):
        assert "".join(c.text for c in client.stream("s", model="local-chat", cache=True)) == "echo: s"
    assert len(server.requests) == 3


def test_ttl_expiry_on_the_client_clock(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    client = make_client(cache=CacheConfig(ttl=10))
    client.complete("hi", model="local-chat")
    clock.advance(9)
    assert client.complete("hi", model="local-chat").cached
    clock.advance(2)
    assert not client.complete("hi", model="local-chat").cached
    assert len(server.requests) == 2


def test_lru_eviction(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(cache={"maxsize": 2, "ttl": 60})
    for prompt in ("a", "b", "a", "c"):  # "b" is the least recently used when "c" arrives
        client.complete(prompt, model="local-chat")
    assert client.complete("a", model="local-chat").cached
    assert not client.complete("b", model="local-chat").cached
    assert client.cache_info().size == 2


def test_cache_is_off_by_default(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client()
    client.complete("hi", model="local-chat")
    assert not client.complete("hi", model="local-chat").cached
    assert client.cache_info() == CacheInfo(0, 0, 0, 0)


def test_bad_cache_options(make_client: Any) -> None:
    for bad in ("yes", 3, {"size": 3}, {"maxsize": 0}, {"ttl": -1}):
        with pytest.raises(pepperpy.ConfigurationError):
            make_client(cache=bad)


def test_key_is_canonical() -> None:
    one = Request("POST", "/chat", json={"a": 1, "b": [1, 2]})
    two = Request("POST", "/chat", json={"b": [1, 2], "a": 1})
    assert ResponseCache.key("p", "m", one) == ResponseCache.key("p", "m", two)
    assert ResponseCache.key("p", "m", one) != ResponseCache.key("q", "m", one)


def test_pybreaker_and_cachetools_load_on_first_use_only() -> None:
    code = (
        "import sys, pepperpy\n"
        "c = pepperpy.Client(env_file=None)\n"
        "print([m for m in ('pybreaker', 'cachetools') if m in sys.modules])\n"
        "pepperpy.Client(env_file=None, cache=True)\n"
        "print([m for m in ('pybreaker', 'cachetools') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["[]", "['cachetools']"]


def test_callers_mutating_an_answer_never_change_the_cache(make_client: Any, server: FakeProviderServer) -> None:
    """Each hit is a private copy: scaling vectors in place or editing raw changes nothing for the next caller."""
    client = make_client(cache=True)
    first = client.embed(["hello", "world"], model="local-embed")
    original = [list(v) for v in first.vectors]
    first.vectors[0][:] = [x * 10 for x in first.vectors[0]]  # the first caller normalises in place
    first.raw["data"].clear()
    second = client.embed(["hello", "world"], model="local-embed")
    assert second.cached and second.vectors == original and len(second.raw["data"]) == 2
    second.vectors[1].append(99.0)
    second.vectors.pop()
    third = client.embed(["hello", "world"], model="local-embed")
    assert third.vectors == original and third.vectors is not second.vectors
    assert third.vectors[0] is third.raw["data"][0]["embedding"]  # the sharing inside one answer is kept

    answer = client.complete("hi", model="local-chat")
    answer.raw["choices"][0]["message"]["content"] = "tampered"
    hit = client.complete("hi", model="local-chat")
    assert hit.cached and hit.raw["choices"][0]["message"]["content"] == "echo: hi"
    hit.raw.clear()
    assert client.complete("hi", model="local-chat").raw["choices"][0]["message"]["content"] == "echo: hi"
    assert len(server.requests) == 2


def test_tool_call_arguments_are_copied_too() -> None:
    from pepperpy.types import Completion, ToolCall, Usage

    cache = ResponseCache()
    stored = Completion("", "m", "p", "tool_calls", Usage(1, 1), raw={"a": [1]},
                        tool_calls=(ToolCall("c1", "lookup", {"city": "Lima", "tags": ["x"]}),))
    cache.put("k", stored)
    stored.tool_calls[0].arguments["tags"].append("mutated after the store")  # type: ignore[index]
    hit = cache.get("k")
    assert hit.cached and hit.tool_calls[0].arguments == {"city": "Lima", "tags": ["x"]}
    hit.tool_calls[0].arguments["city"] = "Quito"
    assert cache.get("k").tool_calls[0].arguments["city"] == "Lima"
    again = cache.get("k")
    assert (again.raw, again.finish_reason, again.usage) == ({"a": [1]}, "tool_calls", Usage(1, 1))


def test_an_answer_that_cannot_be_copied_is_not_cached() -> None:
    from pepperpy.types import Completion

    cache = ResponseCache()
    cache.put("k", Completion("t", "m", "p", raw={"lock": threading.Lock()}))
    assert cache.get("k") is None and cache.info().size == 0
    cache.put("k", Completion("t", "m", "p"))  # nothing mutable: stored and handed out as is
    assert cache.get("k") == Completion("t", "m", "p", cached=True)
