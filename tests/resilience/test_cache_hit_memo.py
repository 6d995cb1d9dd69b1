"""A cached Client prepares a plain chat call once (``Preparer._remembered``): a repeat is checked, built and keyed
by what was done the first time, and nothing that could make another request or another refusal is remembered
past its cause: values by type, another catalog, another transport."""

from __future__ import annotations

from typing import Any

import pytest

import pepperpy
from pepperpy.resilience import cache as cache_module
from pepperpy.resilience.cache import CacheConfig
from pepperpy.testing import FakeAdapter, FakeProviderServer


def test_a_repeated_call_is_keyed_once(make_client: Any, server: FakeProviderServer,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(cache=True)
    keys = []
    real = cache_module.ResponseCache.key
    monkeypatch.setattr(cache_module.ResponseCache, "key",
                        staticmethod(lambda *a, **kw: keys.append(a) or real(*a, **kw)))
    answers = [client.complete("hi", model="local-chat", temperature=0.2) for _ in range(5)]
    assert [a.cached for a in answers] == [False, True, True, True, True]
    assert len(keys) == 1 and len(server.requests) == 1
    assert client.cache_info().hits == 4


@pytest.mark.parametrize(("first", "then"), [(1.0, 1), (1, 1.0), (0.0, -0.0)])
def test_equal_values_of_other_types_are_other_requests(make_client: Any, server: FakeProviderServer,
                                                        first: Any, then: Any) -> None:
    client = make_client(cache=True)
    client.complete("hi", model="local-chat", temperature=first)
    client.complete("hi", model="local-chat", temperature=then)
    assert len(server.requests) == 2  # 1 == 1.0 and 0.0 == -0.0, yet each is its own JSON on the wire
    assert [repr(r.json["temperature"]) for r in server.requests] == [repr(first), repr(then)]


def test_a_refusal_is_not_skipped_for_a_value_equal_to_one_accepted(make_client: Any,
                                                                     server: FakeProviderServer) -> None:
    client = make_client(cache=True)
    client.complete("hi", model="local-chat", max_tokens=1)
    with pytest.raises(pepperpy.ValidationError, match="max_tokens"):
        client.complete("hi", model="local-chat", max_tokens=True)  # True == 1, but not a token count
    assert len(server.requests) == 1


def test_another_catalog_is_checked_again(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(cache=True)
    client.complete("hi", model="local-chat", temperature=0.9)
    narrow = client.catalog.with_overrides({"local": {"models": [{
        "id": "local-chat", "mode": "chat", "context_window": 8192, "params": {"temperature": {"min": 0, "max": 0.5}},
        "source": "https://example.com/local"}]}})
    client.catalog = narrow
    with pytest.raises(pepperpy.ValidationError, match="temperature"):
        client.complete("hi", model="local-chat", temperature=0.9)


def test_another_transport_gets_the_next_request(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    client = make_client(cache=CacheConfig(ttl=10))
    client.complete("hi", model="local-chat")
    clock.advance(11)  # expired: the next call is sent
    fake = FakeAdapter()
    client.use_transport(fake)
    assert not client.complete("hi", model="local-chat").cached
    assert len(server.requests) == 1 and len(fake.requests) == 1  # not the first runtime's closed session


def test_calls_with_lists_or_messages_are_prepared_each_time(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(cache=True)
    stop = ["x"]
    client.complete("hi", model="local-chat", stop=stop)
    stop.append("y")  # a list the caller changed: another request
    client.complete("hi", model="local-chat", stop=stop)
    assert [r.json.get("stop") for r in server.requests] == [["x"], ["x", "y"]]
    client.complete("hi", model="local-chat")
    turns = [{"role": "user", "content": "hi"}]
    assert client.complete(messages=turns, model="local-chat").cached  # the same request as the prompt's
    turns[0]["content"] = "bye"
    assert not client.complete(messages=turns, model="local-chat").cached
    assert server.requests[-1].json["messages"][-1]["content"] == "bye"
    assert len(server.requests) == 4


def test_long_prompts_are_not_kept_by_the_memo(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(cache=True)
    long = "word " * 4000
    assert not client.complete(long, model="local-chat").cached
    assert client.complete(long, model="local-chat").cached  # still a hit, keyed from the request each time
    assert not client._prep._memo
    client.complete("short", model="local-chat")
    assert len(client._prep._memo) == 1


def test_without_a_cache_nothing_is_remembered(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client()
    for _ in range(3):
        client.complete("hi", model="local-chat")
    assert len(server.requests) == 3
    assert not client._prep._memo
