"""The seed's async provider API: ``async with await create_provider(...) as p: await p.complete(...)``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from aio_helpers import established_to, linux_only

import pepperpy
from pepperpy.aio import AsyncProvider, create_provider
from pepperpy.providers import Provider, ProviderEngine
from pepperpy.providers.domain import ProviderAPIError, ProviderError, ProviderRateLimitError
from pepperpy.testing import FakeProviderServer, Reply
from tests.conftest import wait_until


def _openai(server: FakeProviderServer, **kw: Any) -> dict[str, Any]:
    return dict(api_key="sk-test-seed-async-1", model="gpt-4o-mini",
                extra_config={"base_url": server.base_url("openai")}, **kw)


def test_the_documented_shape_works(server: FakeProviderServer) -> None:
    server.reply(Reply("Quantum bits", usage=(5, 2)))
    server.reply(Reply(chunks=["Once ", "upon ", "a time"]))

    async def main() -> tuple[str, list[str], list[float], str]:
        async with await create_provider("openai", **_openai(server)) as provider:
            assert isinstance(provider, AsyncProvider) and provider.provider_type == "openai"
            response = await provider.complete("Explain quantum computing", temperature=0.7, max_tokens=200)
            pieces = [chunk async for chunk in await provider.complete("Tell me a story...", stream=True)]
            vector = await provider.embed("Text to embed")
            return response, pieces, vector, repr(provider)

    response, pieces, vector, text = asyncio.run(main())
    assert response == "Quantum bits"
    assert pieces == ["Once ", "upon ", "a time"]
    assert isinstance(vector, list) and all(isinstance(x, float) for x in vector)
    assert text == "<AsyncProvider openai model='gpt-4o-mini'>"
    chat = server.requests[0]
    assert chat.json["model"] == "gpt-4o-mini" and chat.json["temperature"] == 0.7
    assert chat.headers["authorization"] == "Bearer sk-test-seed-async-1"


def test_config_dict_and_environment(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from pepperpy.providers import ProviderConfig

    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_API_KEY", "sk-test-from-env-2")
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_MODEL", "gpt-4o")
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL", server.base_url("openai"))

    async def main() -> tuple[str, str]:
        provider = await create_provider("openai")
        try:
            from_env = await provider.complete("Hello!")
        finally:
            await provider.cleanup()
        config = ProviderConfig(provider_type="openai", api_key="sk-test-config-3", model="gpt-4o-mini",
                                extra_config={"base_url": server.base_url("openai")})
        async with await create_provider(**config.dict()) as provider:
            return from_env, await provider.complete("Hi")

    assert asyncio.run(main()) == ("echo: Hello!", "echo: Hi")
    assert server.requests[0].json["model"] == "gpt-4o"
    assert server.requests[1].headers["authorization"] == "Bearer sk-test-config-3"


def test_errors_are_the_seed_domain_errors(server: FakeProviderServer) -> None:
    server.fail(429, headers={"retry-after": "0"}, times=10)

    async def main() -> None:
        async with await create_provider("openai", **_openai(server, max_retries=0)) as provider:
            with pytest.raises(ProviderRateLimitError) as info:
                await provider.complete("Hello!")
            assert isinstance(info.value, ProviderAPIError) and isinstance(info.value, ProviderError)
            assert info.value.provider_type == "openai"
            with pytest.raises(ProviderRateLimitError):
                await provider.complete("stream please", stream=True)  # the await sends the request
        with pytest.raises(pepperpy.ConfigurationError, match="cleaned up"):
            await provider.complete("after cleanup")

    asyncio.run(main())


def test_a_registered_blocking_provider_runs_in_threads() -> None:
    class Upper(Provider):
        def complete(self, prompt: str, *, temperature: float | None = None, max_tokens: int | None = None,
                     stream: bool = False, **kwargs: Any) -> str | Iterator[str]:
            self._check_initialized()
            return iter(prompt.upper().split()) if stream else prompt.upper()

        def embed(self, text: str, **kwargs: Any) -> list[float]:
            return [float(len(text))]

    ProviderEngine.register_provider("upper-test", Upper)
    try:
        async def main() -> tuple[str, list[str], list[float]]:
            async with await create_provider("upper-test") as provider:
                return (await provider.complete("a b"),
                        [p async for p in await provider.complete("c d", stream=True)],
                        await provider.embed("xyz"))

        assert asyncio.run(main()) == ("A B", ["C", "D"], [3.0])
    finally:
        ProviderEngine.unregister_provider("upper-test")


@linux_only
def test_leaving_a_stream_early_closes_its_connection(server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=[f"w{i} " for i in range(500)], chunk_delay=0.02))

    async def main() -> tuple[int, bool]:
        async with await create_provider("openai", **_openai(server)) as provider:
            async with await provider.complete("long story", stream=True) as pieces:
                await pieces.__anext__()
                during = established_to(server.port)
            closed = await asyncio.to_thread(wait_until, lambda: established_to(server.port) == 0, 2.0)
            return during, closed

    assert asyncio.run(main()) == (1, True)


@linux_only
def test_cancelling_during_a_stalled_read_frees_the_worker_at_once(server: FakeProviderServer) -> None:
    """The provider stalls before the first piece (the stream is opened up to its first chunk with content, so
    that a break before it can be retried): cancelling the awaiting task aborts the read in the worker thread."""
    server.reply(Reply(chunks=["first ", "second"], chunk_delay=4.0))

    async def main() -> float:
        async with await create_provider("openai", **_openai(server)) as provider:
            task = asyncio.create_task(provider.complete("hi", stream=True))  # the first piece is 4 s away
            await asyncio.sleep(0.3)                         # the worker is now blocked on the socket
            assert established_to(server.port) == 1
            started = asyncio.get_running_loop().time()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            closed = await asyncio.to_thread(wait_until, lambda: established_to(server.port) == 0, 2.0)
            assert closed
            return asyncio.get_running_loop().time() - started

    assert asyncio.run(main()) < 1.0
    assert len(server.requests) == 1  # the aborted read was not retried


def test_stream_pieces_are_a_plain_iterator_that_keeps_close_and_abort(server: FakeProviderServer) -> None:
    from pepperpy.providers import create_provider as create_blocking
    from pepperpy.providers.base import TextPieces

    server.reply(Reply(chunks=["a ", "", "b"]))
    with create_blocking("openai", **_openai(server)) as provider:
        pieces = provider.complete("hi", stream=True)
        assert isinstance(pieces, TextPieces) and iter(pieces) is pieces
        assert list(pieces) == ["a ", "b"]  # empty chunks skipped, as before
        server.reply(Reply(chunks=["x ", "y"], chunk_delay=0.05))
        pieces = provider.complete("hi", stream=True)
        assert next(pieces) == "x "
        pieces.abort()  # from any thread; the blocked (or next) read breaks
        pieces.close()
        pieces.close()
        assert list(pieces) == [] and repr(pieces).startswith("<TextPieces of <Stream openai/gpt-4o-mini")
