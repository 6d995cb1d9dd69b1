"""client.on(event, fn): typed events for requests, responses, retries, fallbacks, breakers and cache hits;
client.breaker_stats(provider)."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

import pepperpy
from pepperpy.observe import events
from pepperpy.testing import FakeProviderServer


def test_request_and_response_events_of_a_call(make_client: Any, recorder: Any, server: FakeProviderServer) -> None:
    client = make_client()
    seen = recorder(client)
    server.reply("Hello there", usage=(10, 5))
    r = client.complete("hi", model="lc")
    assert seen.names() == ["request", "response"]
    (request,) = seen.of("request")
    assert isinstance(request, events.RequestEvent)
    assert (request.op, request.provider, request.model, request.attempt) == ("complete", "local", "local-chat", 1)
    assert request.url == server.base_url("openai") + "/chat/completions"
    (response,) = seen.of("response")
    assert isinstance(response, events.ResponseEvent)
    assert (response.status, response.provider, response.model, response.hop, response.cached) == (
        "ok", "local", "local-chat", 0, False)
    assert response.usage == r.usage and response.cost == r.cost == pytest.approx((10 * 1.0 + 5 * 2.0) / 1e6)
    assert response.attempts == 1 and response.request_id == r.request_id and 0 < response.latency < 5
    assert response.error is None


def test_retry_events_carry_the_error_and_the_wait(make_client: Any, recorder: Any,
                                                   server: FakeProviderServer) -> None:
    client = make_client(max_retries=2)
    seen = recorder(client)
    server.fail(503, times=2)
    client.complete("hi", model="local-chat")
    assert seen.names() == ["request", "retry", "request", "retry", "request", "response"]
    assert [e.attempt for e in seen.of("request")] == [1, 2, 3]
    first, second = seen.of("retry")
    assert isinstance(first.error, pepperpy.ProviderUnavailableError) and first.error.status_code == 503
    assert (first.attempt, first.wait, second.attempt, second.wait) == (1, 0.5, 2, 1.0)  # the fake clock's backoff
    assert seen.of("response")[0].attempts == 3


def test_fallback_events_name_both_models(make_client: Any, recorder: Any, server: FakeProviderServer,
                                          backup_server: FakeProviderServer) -> None:
    client = make_client(max_retries=0)
    seen = recorder(client)
    server.fail(500)
    r = client.complete("hi", model="local-chat", fallbacks=["backup-chat"])
    (fallback,) = seen.of("fallback")
    assert (fallback.from_model, fallback.to_model) == ("local/local-chat", "backup-chat")
    assert isinstance(fallback.error, pepperpy.ProviderUnavailableError)
    (response,) = seen.of("response")
    assert (response.provider, response.model, response.hop, response.cost) == ("backup", "backup-chat", 1, r.cost)


def test_a_failed_call_ends_with_a_response_event_holding_the_error(make_client: Any, recorder: Any,
                                                                    server: FakeProviderServer) -> None:
    client = make_client(max_retries=0)
    seen = recorder(client)
    server.fail(400)
    with pytest.raises(pepperpy.InvalidRequestError) as caught:
        client.complete("hi", model="local-chat")
    (response,) = seen.of("response")
    assert response.status == "InvalidRequestError" and response.error is caught.value and response.usage is None


def test_cache_hit_events(make_client: Any, recorder: Any, server: FakeProviderServer) -> None:
    client = make_client(cache=True)
    seen = recorder(client)
    client.complete("hi", model="local-chat")
    client.complete("hi", model="local-chat")
    assert seen.names() == ["request", "response", "cache_hit", "response"]
    (hit,) = seen.of("cache_hit")
    assert (hit.op, hit.provider, hit.model) == ("complete", "local", "local-chat")
    assert seen.of("response")[1].cached is True and len(server.requests) == 1


def test_breaker_events_and_stats(make_client: Any, recorder: Any, server: FakeProviderServer,
                                  clock: Any) -> None:
    client = make_client(max_retries=0, breaker={"fail_max": 2, "reset_timeout": 30})
    seen = recorder(client)
    assert client.breaker_stats("local") == pepperpy.resilience.BreakerStats("local", "closed")
    server.fail(503, times=2)
    before = time.time()
    for _ in range(2):
        with pytest.raises(pepperpy.ProviderUnavailableError):
            client.complete("hi", model="local-chat")
    (opened,) = seen.of("breaker")
    assert (opened.provider, opened.old_state, opened.new_state) == ("local", "closed", "open")
    stats = client.breaker_stats("local")
    assert (stats.state, stats.failures, stats.times_opened) == ("open", 2, 1)
    assert stats.last_failure is not None and stats.last_failure.startswith("ProviderUnavailableError: ")
    assert stats.opened_at is not None and before <= stats.opened_at <= time.time()
    assert stats.last_failure_at is not None and before <= stats.last_failure_at <= time.time()
    with pytest.raises(pepperpy.CircuitOpenError):
        client.complete("hi", model="local-chat")
    clock.now += 31  # the trial call closes the circuit again
    client.complete("hi", model="local-chat")
    assert [(e.old_state, e.new_state) for e in seen.of("breaker")] == [
        ("closed", "open"), ("open", "half-open"), ("half-open", "closed")]
    stats = client.breaker_stats("local")
    assert (stats.state, stats.failures, stats.times_opened) == ("closed", 0, 1)
    assert make_client(breaker=False).breaker_stats("local").state == "disabled"


def test_a_hook_that_raises_is_logged_and_the_call_goes_on(make_client: Any, server: FakeProviderServer,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    client = make_client()
    later: list[str] = []

    def broken(event: Any) -> None:
        raise RuntimeError("hook bug")

    client.on("response", broken)
    client.on("response", lambda e: later.append(e.status))
    with caplog.at_level(logging.ERROR, logger="pepperpy.events"):
        assert client.complete("hi", model="local-chat").text == "echo: hi"
    assert later == ["ok"]  # the next hook still ran
    (record,) = [r for r in caplog.records if r.name == "pepperpy.events"]
    assert "ResponseEvent hook raised" in record.getMessage() and record.exc_info is not None


def test_events_never_carry_the_api_key(tmp_path: Any, server: FakeProviderServer, recorder: Any) -> None:
    key = "sk-secret-abcdefghijklmnop"
    client = pepperpy.Client(env_file=None, api_keys={"openai": key}, max_retries=1,
                             providers={"openai": {"base_url": server.base_url("openai")}})
    seen = recorder(client)
    server.fail(429, headers={"retry-after": "0"})
    client.complete("hi", model="gpt-4o-mini")
    server.fail(401, message=f"Incorrect API key provided: {key}")
    with pytest.raises(pepperpy.AuthenticationError):
        client.complete("hi", model="gpt-4o-mini")
    assert {"request", "retry", "response"} <= set(seen.names())
    for _, event in seen.seen:
        assert key not in repr(event) and key not in str(getattr(event, "error", ""))


def test_nothing_is_built_when_nobody_listens(make_client: Any, server: FakeProviderServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an event object was built with no hook registered")

    for name in ("RequestEvent", "ResponseEvent", "RetryEvent", "FallbackEvent", "CacheHitEvent", "BreakerEvent"):
        monkeypatch.setattr(events, name, refuse)
    client = make_client(max_retries=1, cache=True)
    server.fail(503)
    client.complete("hi", model="local-chat")
    client.complete("hi", model="local-chat")  # a cache hit
    client.on("cache_hit", lambda e: None)
    with pytest.raises(AssertionError, match="event object was built"):
        client.complete("hi", model="local-chat")


def test_on_checks_its_arguments_and_off_removes(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client()
    with pytest.raises(pepperpy.ConfigurationError, match="did you mean 'response'"):
        client.on("responses", print)  # type: ignore[arg-type]
    with pytest.raises(pepperpy.ConfigurationError, match="must be callable"):
        client.on("response", "print")
    seen: list[Any] = []
    hook = seen.append
    assert client.on("response", hook) is hook
    client.complete("hi", model="local-chat")
    assert client.off("response", hook) and not client.off("response", hook)
    client.complete("hi", model="local-chat")
    assert len(seen) == 1
