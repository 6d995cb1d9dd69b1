"""Must-show 1: every fault against the loopback server, retried or not, typed and bounded (fake time)."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.resilience.retry import RETRY_STATUSES, RetryPolicy
from pepperpy.testing import FakeProviderServer, Fault, Reply


def test_5xx_then_success_is_retried_after_backoff(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    server.fail(503)
    server.fail(500)
    r = make_client().complete("hi", model="local-chat")
    assert r.text == "echo: hi"
    assert len(server.requests) == 3
    assert clock.sleeps == [0.5, 1.0]  # 0.5 s doubling (jitter off)


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
def test_each_retryable_status_is_retried(make_client: Any, server: FakeProviderServer, status: int) -> None:
    server.fail(status)
    assert make_client().complete("hi", model="local-chat").text == "echo: hi"
    assert len(server.requests) == 2


@pytest.mark.parametrize("status, error", [
    (400, pepperpy.InvalidRequestError), (401, pepperpy.AuthenticationError), (403, pepperpy.AuthenticationError),
    (404, pepperpy.InvalidRequestError), (422, pepperpy.InvalidRequestError), (501, pepperpy.ProviderUnavailableError),
])
def test_other_statuses_are_not_retried(make_client: Any, server: FakeProviderServer, clock: Any, status: int,
                                        error: type[Exception]) -> None:
    server.fail(status, times=3)
    with pytest.raises(error):
        make_client().complete("hi", model="local-chat")
    assert len(server.requests) == 1 and clock.sleeps == []


def test_retries_run_out_and_raise_the_last_error(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    server.fail(502, times=5)
    with pytest.raises(pepperpy.ProviderUnavailableError) as info:
        make_client(max_retries=3).complete("hi", model="local-chat")
    assert info.value.status_code == 502
    assert len(server.requests) == 4 and clock.sleeps == [0.5, 1.0, 2.0]


def test_quota_exhausted_429_is_not_retried(make_client: Any, server: FakeProviderServer) -> None:
    server.fail(429, body={"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                                     "code": "insufficient_quota"}})
    with pytest.raises(pepperpy.RateLimitError):
        make_client().complete("hi", model="local-chat")
    assert len(server.requests) == 1


@pytest.mark.parametrize("headers, expected", [
    ({"retry-after": "2"}, 2.0),
    ({"retry-after": "0.25"}, 0.25),
    ({"retry-after-ms": "1500"}, 1.5),
    ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),  # the precise header wins, as in the SDKs
])
def test_retry_after_headers_set_the_wait(make_client: Any, server: FakeProviderServer, clock: Any,
                                          headers: dict[str, str], expected: float) -> None:
    server.fail(429, headers=headers)
    assert make_client().complete("hi", model="local-chat").text == "echo: hi"
    assert clock.sleeps == [expected]


def test_retry_after_as_an_http_date(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    server.fail(503, headers={"retry-after": email.utils.formatdate(time.time() + 5, usegmt=True)})
    make_client().complete("hi", model="local-chat")
    assert len(clock.sleeps) == 1 and 3.0 < clock.sleeps[0] <= 5.0


def test_gemini_retry_delay_in_the_body(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    server.fail(429)  # the fake Gemini 429 carries RetryInfo.retryDelay "12s" and no header
    assert make_client().complete("hi", model="gem-chat").text
    assert clock.sleeps == [12.0]


def test_a_one_hour_retry_after_raises_at_once(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    server.fail(429, headers={"retry-after": "3600"}, times=3)
    started = time.perf_counter()
    with pytest.raises(pepperpy.RateLimitError) as info:
        make_client().complete("hi", model="local-chat")
    assert info.value.retry_after == 3600.0
    assert clock.sleeps == [] and len(server.requests) == 1
    assert time.perf_counter() - started < 1.0


def test_max_retry_wait_is_a_client_option(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    server.fail(503, headers={"retry-after": "5"})
    with pytest.raises(pepperpy.ProviderUnavailableError) as info:
        make_client(max_retry_wait=4).complete("hi", model="local-chat")
    assert info.value.retry_after == 5.0 and clock.sleeps == []


def test_max_retries_zero_sends_once(make_client: Any, server: FakeProviderServer) -> None:
    server.fail(503)
    with pytest.raises(pepperpy.ProviderUnavailableError):
        make_client(max_retries=0).complete("hi", model="local-chat")
    assert len(server.requests) == 1


# --------------------------------------------------------------------------- timeouts

def test_timeout_is_typed_and_bounded(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    server.fault(Fault.hang(2.0), times=2)
    client = make_client(timeout=0.15, max_retries=1)
    started = time.perf_counter()
    with pytest.raises(pepperpy.ProviderTimeoutError) as info:
        client.complete("hi", model="local-chat")
    elapsed = time.perf_counter() - started
    assert info.value.retryable and len(server.requests) == 2 and clock.sleeps == [0.5]
    assert elapsed < 2 * 0.15 + 0.35  # two read timeouts; never the 2 s hang


def test_total_timeout_bounds_the_whole_call(server: FakeProviderServer, local_catalog: Path) -> None:
    server.fault(Fault.hang(2.0), times=5)
    client = pepperpy.Client(catalog=local_catalog, env_file=None, timeout=1.0,
                             retry_policy=RetryPolicy(max_retries=5, total_timeout=0.3, backoff_base=0.01))
    started = time.perf_counter()
    with pytest.raises(pepperpy.ProviderTimeoutError):
        client.complete("hi", model="local-chat")
    assert time.perf_counter() - started < 0.7  # the 1 s read timeout was clipped to the deadline
    client.close()


def test_timeout_tuple_and_catalog_timeout(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(timeout=(0.5, 0.1), max_retries=0)
    server.fault(Fault.hang(1.0))
    with pytest.raises(pepperpy.ProviderTimeoutError):
        client.complete("hi", model="local-chat")
    client = make_client(providers={"local": {"timeout": 0.1}}, max_retries=0)
    server.fault(Fault.hang(1.0))
    with pytest.raises(pepperpy.ProviderTimeoutError):
        client.complete("hi", model="local-chat")


# --------------------------------------------------------------------------- connections

def test_connection_refused_is_typed_and_retried(make_client: Any, closed_port: int, clock: Any) -> None:
    client = make_client(providers={"local": {"base_url": f"http://127.0.0.1:{closed_port}/v1"}})
    with pytest.raises(pepperpy.ProviderConnectionError) as info:
        client.complete("hi", model="local-chat")
    assert "could not reach local" in str(info.value)
    assert clock.sleeps == [0.5, 1.0]


def test_connection_reset_is_retried(make_client: Any, server: FakeProviderServer) -> None:
    server.fault(Fault.RESET)
    assert make_client().complete("hi", model="local-chat").text == "echo: hi"
    assert len(server.requests) == 2


def test_connection_reset_without_retries_is_typed(make_client: Any, server: FakeProviderServer) -> None:
    server.fault(Fault.RESET)
    with pytest.raises(pepperpy.ProviderConnectionError):
        make_client(max_retries=0).complete("hi", model="local-chat")


def test_embed_is_retried_too(make_client: Any, server: FakeProviderServer) -> None:
    server.fail(500)
    assert len(make_client().embed(["a", "b"], model="local-embed").vectors) == 2
    assert len(server.requests) == 2


# --------------------------------------------------------------------------- streams

def test_stream_is_retried_while_opening(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    server.fail(503)
    server.reply(Reply(chunks=["a", "b"]))
    assert "".join(c.text for c in make_client().stream("hi", model="local-chat")) == "ab"
    assert len(server.requests) == 2 and clock.sleeps == [0.5]


def test_stream_cut_before_its_terminator_is_a_stream_error_never_retried(
        make_client: Any, server: FakeProviderServer) -> None:
    server.fault(Fault.cut_stream(2))
    received = []
    with pytest.raises(pepperpy.StreamError):
        for chunk in make_client().stream("one two three four", model="local-chat"):
            received.append(chunk.text)
    assert received and len(server.requests) == 1


def test_stream_cut_cleanly_is_a_stream_error(make_client: Any, server: FakeProviderServer) -> None:
    server.fault(Fault.cut_stream(1, clean=True))
    with pytest.raises(pepperpy.StreamError, match="terminator"):
        list(make_client().stream("one two", model="local-chat"))
    assert len(server.requests) == 1


def test_error_event_mid_stream_is_typed_and_not_retried(make_client: Any, server: FakeProviderServer) -> None:
    server.fault(Fault.stream_error(1, message="Provider disconnected"))
    stream = make_client().stream("one two three", model="local-chat")
    first = next(stream)
    with pytest.raises(pepperpy.ProviderError, match="Provider disconnected") as info:
        list(stream)
    assert first.text and type(info.value) is not pepperpy.ProviderError
    assert len(server.requests) == 1


def test_x_should_retry_header_overrides_the_status_rules(make_client: Any, server: FakeProviderServer) -> None:
    server.fail(503, headers={"x-should-retry": "false"})
    with pytest.raises(pepperpy.ProviderUnavailableError):
        make_client().complete("hi", model="local-chat")
    assert len(server.requests) == 1
    server.fail(400, headers={"x-should-retry": "true"})
    assert make_client().complete("again", model="local-chat").text == "echo: again"
    assert len(server.requests) == 3
