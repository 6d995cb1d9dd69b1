"""Must-show 4 (limiter): client-side rpm / tpm buckets space calls, block up to a bound, then raise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.resilience.limiter import RateLimiter
from pepperpy.testing import FakeProviderServer


def test_the_limiter_spaces_calls(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    client = make_client(rate_limits={"local": {"rpm": 60}})
    for i in range(4):
        client.complete(f"q{i}", model="local-chat")
    assert clock.sleeps == [1.0, 1.0, 1.0]  # one a second after the first
    assert len(server.requests) == 4


def test_limits_from_the_catalog(local_catalog: Path, server: FakeProviderServer, clock: Any,
                                 write_provider_file: Any) -> None:
    write_provider_file(local_catalog, "slow", "openai", server.base_url("openai"),
                        "- {id: slow-chat, mode: chat, context_window: 100, max_output_tokens: 10, "
                        "source: https://example.com/s}\n", extra="limits: {rpm: 120}\n")
    with pepperpy.Client(catalog=local_catalog, env_file=None, retry_policy=clock.policy()) as client:
        for i in range(4):
            client.complete(f"q{i}", model="slow-chat")
        client.complete("not limited", model="local-chat")
    assert clock.sleeps == [0.5, 0.5]  # a burst of 2 (one second's worth), then one every 0.5 s


def test_client_option_beats_the_catalog(make_client: Any, clock: Any) -> None:
    client = make_client(providers={"local": {"limits": {"rpm": 6000}}}, rate_limits={"local": {"rpm": 30}})
    client.complete("a", model="local-chat")
    client.complete("b", model="local-chat")
    assert clock.sleeps == [2.0]


def test_blocks_up_to_the_bound_then_raises(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    client = make_client(rate_limits={"local": {"rpm": 6}}, rate_limit_wait=5)
    client.complete("a", model="local-chat")
    with pytest.raises(pepperpy.RateLimitError, match="client-side rate limit of local") as info:
        client.complete("b", model="local-chat")
    assert info.value.retry_after == pytest.approx(10.0) and info.value.status_code is None
    assert len(server.requests) == 1 and clock.sleeps == []  # no request, no sleep
    clock.advance(10)
    client.complete("c", model="local-chat")  # the refused call reserved nothing
    assert clock.sleeps == []


def test_streams_and_embeds_take_a_slot_too(make_client: Any, clock: Any) -> None:
    client = make_client(rate_limits={"local": {"rpm": 60}})
    list(client.stream("a", model="local-chat"))
    client.embed("b", model="local-embed")
    assert clock.sleeps == [1.0]


def test_tokens_per_minute_bucket(clock: Any) -> None:
    limiter = RateLimiter("p", rpm=None, tpm=600, max_wait=60, clock=clock.monotonic, sleep=clock.sleep)
    limiter.acquire(600)      # a full minute's worth is there at first
    limiter.acquire(300)      # 10 tokens a second: 30 s away
    assert clock.sleeps == [30.0]
    limiter.settle(estimated=300, actual=100)  # the call used less than estimated: 200 come back
    limiter.acquire(200)
    assert clock.sleeps == [30.0]
    small = RateLimiter("p", None, 600, max_wait=1, clock=clock.monotonic, sleep=clock.sleep)
    small.acquire(5000)  # more than a minute's worth goes when the bucket is full (it costs the whole bucket)
    with pytest.raises(pepperpy.RateLimitError) as info:
        small.acquire(5000)
    assert info.value.retry_after == pytest.approx(60.0)  # capped at one bucket: never "forever"


def test_tpm_through_the_client_settles_with_real_usage(make_client: Any, clock: Any) -> None:
    client = make_client(rate_limits={"local": {"tpm": 120}}, rate_limit_wait=120)
    first = client.complete("x " * 100, model="local-chat")  # estimated from the body: about 55 tokens
    assert first.usage.total_tokens > 120  # the fake server counts words: the call really used ~200
    client.complete("y", model="local-chat")  # so the bucket is in debt, and this one waits it out
    assert len(clock.sleeps) == 1 and 40 < clock.sleeps[0] < 60


def test_bad_limits(make_client: Any) -> None:
    with pytest.raises(pepperpy.ConfigurationError):
        make_client(rate_limits={"local": {"rps": 3}})
    with pytest.raises(pepperpy.ConfigurationError):
        make_client(rate_limit_wait=-1)
    with pytest.raises(pepperpy.ConfigurationError):
        RateLimiter("p", rpm=0, tpm=None)


def test_the_limiter_does_not_wait_past_total_timeout(make_client: Any, server: FakeProviderServer,
                                                      clock: Any) -> None:
    client = make_client(rate_limits={"local": {"rpm": 12}}, total_timeout=1.0)  # a slot every 5 s
    client.complete("a", model="local-chat")
    with pytest.raises(pepperpy.RateLimitError, match="past the call's total_timeout") as info:
        client.complete("b", model="local-chat")  # 5 s < rate_limit_wait=10, but past the 1 s deadline
    assert info.value.retry_after == pytest.approx(5.0)
    assert clock.sleeps == [] and len(server.requests) == 1  # no sleep, no request
    clock.advance(5)
    client.complete("c", model="local-chat")  # the refused call reserved nothing


def test_the_limiter_wait_counts_against_total_timeout(make_client: Any, server: FakeProviderServer,
                                                       clock: Any) -> None:
    client = make_client(rate_limits={"local": {"rpm": 60}}, total_timeout=2.0, max_retries=3)
    client.complete("a", model="local-chat")
    server.fail(503, times=3)
    with pytest.raises(pepperpy.ProviderUnavailableError):
        client.complete("b", model="local-chat")
    # 1.0 s in the limiter, then 0.5 s of backoff; the next 1.0 s wait would end past the 2.0 s deadline
    assert clock.sleeps == [1.0, 0.5] and len(server.requests) == 3  # a, then b twice


def test_limiter_deadline_unit(clock: Any) -> None:
    limiter = RateLimiter("p", rpm=60, tpm=None, clock=clock.monotonic, sleep=clock.sleep)
    limiter.acquire(deadline=clock.now + 0.1)  # a free slot needs no time
    limiter.acquire(deadline=clock.now + 1.0)  # due in exactly 1.0 s: still inside
    with pytest.raises(pepperpy.RateLimitError):
        limiter.acquire(deadline=clock.now + 0.9)
    assert clock.sleeps == [1.0]
