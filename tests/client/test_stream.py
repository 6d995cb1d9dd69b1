"""Streams against the loopback server: accumulation, early close, cuts and mid-stream errors."""

from __future__ import annotations

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer, Fault, Reply


def test_stream_accumulates_the_completion(client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=["Hel", "lo", " world"], usage=(3, 3)))
    stream = client.stream("hi", model="local-chat")
    assert [c.text for c in stream if c.text] == ["Hel", "lo", " world"]
    done = stream.completion
    assert done.text == "Hello world" and done.usage.input_tokens == 3 and done.usage.output_tokens == 3
    assert done.cost == pytest.approx((3 * 1.0 + 3 * 2.0) / 1e6)
    body = server.requests[-1].json
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_completion_drains_the_rest(client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=["a", "b", "c"]))
    stream = client.stream("hi", model="local-chat")
    next(stream)
    assert stream.completion.text == "abc"


def test_early_close_releases_the_response(client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=[f"w{i} " for i in range(200)], chunk_delay=0.001))
    with client.stream("hi", model="local-chat") as stream:
        first = next(stream)
        assert first.text
    assert repr(stream).endswith("closed>")
    with pytest.raises(pepperpy.StreamError, match="closed before it finished"):
        _ = stream.completion
    assert list(stream) == []
    # the client still works on the same pool afterwards
    assert client.complete("again", model="local-chat").text == "echo: again"


def test_cut_stream_raises_stream_error(client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.fault(Fault.CUT_STREAM)
    with pytest.raises(pepperpy.StreamError, match=r"terminator|broke"):
        for _ in client.stream("hi", model="local-chat"):
            pass


def test_error_event_mid_stream_raises_typed_error(client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.fault(Fault.STREAM_ERROR)
    received = []
    with pytest.raises(pepperpy.ProviderError) as info:
        for chunk in client.stream("hi", model="local-chat"):
            received.append(chunk)
    assert not isinstance(info.value, pepperpy.StreamError) or "mid-stream" in str(info.value)


def test_http_error_before_the_stream(client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.fail(401)
    with pytest.raises(pepperpy.AuthenticationError):
        client.stream("hi", model="local-chat")


def test_module_level_functions_use_a_default_client(server: FakeProviderServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL", server.base_url("openai"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-default-client-1")
    assert pepperpy.complete("hey", model="gpt-4o-mini").text == "echo: hey"
    assert "".join(c.text for c in pepperpy.stream("yo", model="gpt-4o-mini")) == "echo: yo"
    assert len(pepperpy.embed("x", model="text-embedding-3-small").vectors) == 1
    assert server.requests[0].headers["authorization"] == "Bearer sk-test-default-client-1"
    assert pepperpy.default_client() is pepperpy.default_client()


def test_error_events_never_carry_the_key(server: FakeProviderServer, local_catalog: object) -> None:
    secret = "my-local-secret-123"
    with pepperpy.Client(catalog=local_catalog, env_file=None, api_keys={"local": secret}, max_retries=0) as c:
        server.fault(Fault.stream_error(1, message=f"bad key {secret}"))
        with pytest.raises(pepperpy.ProviderError) as info:
            list(c.stream("hi", model="local-chat"))
        assert secret not in str(info.value) and secret not in repr(info.value)
        assert secret not in str(info.value.details)


def test_unexpected_answer_shapes_are_typed(client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.fail(200, body=["not", "an", "object"])
    with pytest.raises(pepperpy.ProviderAPIError, match="shape"):
        client.complete("hi", model="local-chat")


def test_abort_from_another_thread_wakes_a_blocked_reader(client: pepperpy.Client,
                                                          server: FakeProviderServer) -> None:
    import threading
    import time

    server.reply(Reply(chunks=["a ", "b"], chunk_delay=5.0))  # the first text comes after 5 s
    stream = client.stream("hi", model="local-chat")
    threading.Timer(0.1, stream.abort).start()
    started = time.perf_counter()
    with pytest.raises(pepperpy.StreamError, match=r"stopped by Stream\.abort"):
        for _ in stream:
            pass
    assert time.perf_counter() - started < 1.0
    assert repr(stream).endswith("closed>")
