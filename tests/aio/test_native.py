"""acomplete / aembed on the event loop (``_apipeline`` over ``_aio_http``): the same behaviour as the blocking
calls (retries, fallbacks, cache, budget, usage, hooks, errors), the HTTP/1.1 details, and the fallback to a
worker thread where the loop cannot send."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from raw_server import RawServer, chat_answer

import pepperpy
from pepperpy.resilience.retry import RetryPolicy
from pepperpy.testing import FakeAdapter, FakeProviderServer

Call = Callable[..., Any]


class FakeClock:
    def __init__(self) -> None:
        self.now, self.sleeps = 1000.0, []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["blocking", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(mode: str, client: pepperpy.Client, method: str, *args: Any, **kwargs: Any) -> Any:
    if mode == "blocking":
        return getattr(client, method)(*args, **kwargs)
    return asyncio.run(getattr(client, "a" + method)(*args, **kwargs))


def make(local_catalog: Path, clock: FakeClock | None = None, **kw: Any) -> pepperpy.Client:
    clock = clock or FakeClock()
    policy = RetryPolicy(sleep=clock.sleep, clock=clock.monotonic, random=lambda: 0.0,
                         max_retries=kw.pop("max_retries", 2))
    return pepperpy.Client(catalog=local_catalog, env_file=None, retry_policy=policy, **kw)


def test_the_same_answers_usage_and_events(mode: str, local_catalog: Path, server: FakeProviderServer) -> None:
    clock = FakeClock()
    client = make(local_catalog, clock, cache=True)
    seen: list[str] = []
    for name in pepperpy.events.EVENTS:
        client.on(name, lambda e, name=name: seen.append(name))  # type: ignore[arg-type]
    server.fail(503)
    server.reply("hello", usage=(4, 2))
    r = run(mode, client, "complete", "hi", model="lc", max_tokens=10)
    assert (r.text, r.usage.input_tokens, r.usage.output_tokens, r.provider) == ("hello", 4, 2, "local")
    assert clock.sleeps == [0.5]  # one retry after the 503, on the policy's clock
    assert run(mode, client, "complete", "hi", model="lc", max_tokens=10).cached
    e = run(mode, client, "embed", ["a", "b"], model="local-embed")
    assert len(e.vectors) == 2
    assert seen == ["request", "retry", "request", "response", "cache_hit", "response", "request", "response"]
    usage = client.usage()
    assert usage["local/local-chat"].calls == 2 and usage["local/local-chat"].cache_hits == 1
    assert usage["local/local-embed"].calls == 1
    sent = server.requests[0].json
    assert sent.get("max_tokens", sent.get("max_completion_tokens")) == 10


def test_the_same_errors(mode: str, local_catalog: Path, server: FakeProviderServer, closed_port: int,
                         tmp_path: Path) -> None:
    client = make(local_catalog, max_retries=0)
    server.fail(400, message="bad thing")
    with pytest.raises(pepperpy.InvalidRequestError, match="bad thing") as caught:
        run(mode, client, "complete", "hi", model="local-chat")
    assert caught.value.status_code == 400 and caught.value.provider == "local"
    server.fail(429, headers={"retry-after": "7"})
    with pytest.raises(pepperpy.RateLimitError) as limited:
        run(mode, client, "complete", "hi", model="local-chat")
    assert limited.value.retry_after == 7
    nowhere = pepperpy.Client(catalog=local_catalog, env_file=None, max_retries=0,
                              providers={"local": {"base_url": f"http://127.0.0.1:{closed_port}/v1"}})
    with pytest.raises(pepperpy.ProviderConnectionError, match=f"could not reach local at http://127.0.0.1:"
                                                               f"{closed_port}/v1/chat/completions"):
        run(mode, nowhere, "complete", "hi", model="local-chat")
    slow = pepperpy.Client(catalog=local_catalog, env_file=None, max_retries=0, timeout=0.2)
    server.reply("late", delay=1.0)
    with pytest.raises(pepperpy.ProviderTimeoutError, match="did not answer in time"):
        run(mode, slow, "complete", "hi", model="local-chat")


def test_fallbacks_and_the_budget(mode: str, local_catalog: Path, server: FakeProviderServer) -> None:
    with FakeProviderServer() as backup:
        (local_catalog / "backup.yaml").write_text(
            f"provider: backup\ndialect: openai\nbase_url: {backup.base_url('openai')}\nrequires_api_key: false\n"
            "models:\n  - id: backup-chat\n    mode: chat\n    context_window: 8192\n    max_output_tokens: 512\n"
            "    pricing: {input: 1.0, output: 2.0}\n    source: https://example.com\n", encoding="utf-8")
        client = make(local_catalog, max_retries=0, budget=0.0015)
        server.fail(500)
        r = run(mode, client, "complete", "hi", model="local-chat", fallbacks=["backup-chat"], max_tokens=500)
        assert r.provider == "backup" and len(backup.requests) == 1
        with pytest.raises(pepperpy.BudgetExceededError):
            run(mode, client, "complete", "hi", model="local-chat", max_tokens=1000)
        assert len(server.requests) == 1


def test_a_custom_transport_runs_in_a_worker(local_catalog: Path) -> None:
    adapter = FakeAdapter()
    adapter.reply("from the fake")
    client = pepperpy.Client(catalog=local_catalog, env_file=None, transport=adapter)
    names: list[str] = []
    client.on("request", lambda e: names.append(threading.current_thread().name))
    assert asyncio.run(client.acomplete("hi", model="local-chat")).text == "from the fake"
    assert names and names[0].startswith("pepperpy-aio")


def test_a_proxy_sends_through_requests(local_catalog: Path, server: FakeProviderServer,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.url)  # the fake answers proxied requests as a proxy would relay them
    client = pepperpy.Client(catalog=local_catalog, env_file=None)
    names: list[str] = []
    client.on("request", lambda e: names.append(threading.current_thread().name))
    try:
        asyncio.run(client.acomplete("hi", model="local-chat"))
    except pepperpy.PepperpyError:
        pass  # what the proxy answers does not matter here: who sent it does
    assert names and names[0].startswith("pepperpy-aio")


def raw_client(local_catalog: Path, url: str) -> pepperpy.Client:
    return pepperpy.Client(catalog=local_catalog, env_file=None, max_retries=0, providers={"local": {"base_url": url}})


def test_chunked_gzip_and_keep_alive(local_catalog: Path, raw: Callable[..., RawServer]) -> None:
    body = gzip.compress(chat_answer("zipped"))
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:])) + b"0\r\n\r\n"
    server = raw([b"HTTP/1.1 100 Continue\r\n\r\n" + b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks,
                  b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                  % (len(chat_answer("plain")), chat_answer("plain"))])
    client = raw_client(local_catalog, server.url)

    async def main() -> list[str]:
        first = await client.acomplete("a", model="local-chat")
        second = await client.acomplete("b", model="local-chat")
        return [first.text, second.text]

    assert asyncio.run(main()) == ["zipped", "plain"]
    assert server.connections == 1  # the second call reused the first one's connection
    head = server.requests[0].split(b"\r\n\r\n")[0].decode().lower()
    assert "host: 127.0.0.1:" in head and "accept-encoding: gzip, deflate" in head
    assert "content-type: application/json" in head and "user-agent: pepperpy/" in head


def test_a_connection_the_server_closed_while_idle_is_replaced(local_catalog: Path,
                                                              raw: Callable[..., RawServer]) -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(chat_answer("ok")), chat_answer("ok"))
    server = raw([ok, ok], close_after_first=True)
    client = raw_client(local_catalog, server.url)

    async def main() -> list[str]:
        first = await client.acomplete("a", model="local-chat")
        await asyncio.sleep(0.2)  # the server closes the kept connection meanwhile
        second = await client.acomplete("b", model="local-chat")
        return [first.text, second.text]

    assert asyncio.run(main()) == ["ok", "ok"]
    assert server.connections == 2


def test_a_body_cut_short_is_a_stream_error(mode: str, local_catalog: Path, raw: Callable[..., RawServer]) -> None:
    """As requests reports it (ChunkedEncodingError, tests/test_errors.py): the answer began and broke off."""
    server = raw([b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"id\""],
                 close_after_first=True)
    client = raw_client(local_catalog, server.url)
    with pytest.raises(pepperpy.StreamError, match="broke off: the connection closed before the answer was "
                                                   "complete") as caught:
        run(mode, client, "complete", "a", model="local-chat")
    assert not caught.value.retryable


def test_telemetry_spans_of_async_calls(local_catalog: Path, server: FakeProviderServer) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    client = pepperpy.Client(catalog=local_catalog, env_file=None, telemetry=True)

    async def main() -> None:
        await asyncio.gather(client.acomplete("a", model="local-chat"), client.aembed("b", model="local-embed"))

    asyncio.run(main())
    names = sorted(span.name for span in exporter.get_finished_spans())
    assert names == ["chat local-chat", "embeddings local-embed"]
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert spans["chat local-chat"].attributes["gen_ai.usage.output_tokens"] > 0
    assert spans["chat local-chat"].parent is None and spans["embeddings local-embed"].parent is None


def test_rate_limits_hold_on_the_event_loop(local_catalog: Path, server: FakeProviderServer) -> None:
    """rpm=60: one call a second after the first (a bucket of one): of five concurrent awaits, four wait for
    their slots in the limiter (on the fake clock, in workers, off the loop), the last 4 s after the first."""
    clock = FakeClock()
    client = make(local_catalog, clock, rate_limits={"local": {"rpm": 60}}, rate_limit_wait=10)

    async def main() -> list[str]:
        results = await asyncio.gather(*(client.acomplete(f"q{i}", model="local-chat") for i in range(5)))
        return [r.text for r in results]

    assert asyncio.run(main()) == [f"echo: q{i}" for i in range(5)]
    assert len(clock.sleeps) == 4 and clock.now - 1000.0 >= 4.0
    assert len(server.requests) == 5
