"""Custom providers registered on ProviderEngine work through both faces (blocking, and ``await provider``),
whether their methods are coroutines (the seed documents' form) or plain functions; and every seed-API provider
is awaitable, giving its async twin."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import pepperpy
from pepperpy.providers import Provider, ProviderConfig, ProviderEngine, create_provider
from pepperpy.providers.aio import AsyncProvider
from pepperpy.testing import FakeProviderServer


class AsyncEcho(Provider):
    """Written as seed 001 writes one: coroutines, a resource made in initialize, super() awaited."""

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    async def initialize(self) -> None:
        self.loop = asyncio.get_running_loop()  # like an aiohttp session: bound to this loop
        await super().initialize()

    def _same_loop(self) -> None:
        self._check_initialized()
        assert asyncio.get_running_loop() is self.loop, "called on another event loop than initialize's"

    async def complete(self, prompt: str, *, temperature: float = 0.7, max_tokens: int | None = None,
                       stream: bool = False, **kwargs: Any) -> str | AsyncIterator[str]:
        self._same_loop()
        if stream:
            return self._pieces(prompt)
        return f"{prompt} (t={temperature}, n={max_tokens})"

    async def _pieces(self, prompt: str) -> AsyncIterator[str]:
        for word in prompt.split():
            await asyncio.sleep(0)
            self._same_loop()
            yield word

    async def embed(self, text: str | list[str], **kwargs: Any) -> list[float] | list[list[float]]:
        self._same_loop()
        return [float(len(text))] if isinstance(text, str) else [[float(len(t))] for t in text]

    async def cleanup(self) -> None:
        self._same_loop()
        self.closed = True
        await super().cleanup()


class PlainEcho(Provider):
    def complete(self, prompt: str, *, temperature: float | None = None, max_tokens: int | None = None,
                 stream: bool = False, **kwargs: Any) -> str | Iterator[str]:
        self._check_initialized()
        return iter(prompt.split()) if stream else f"{prompt} (t={temperature})"

    def embed(self, text: str | list[str], **kwargs: Any) -> Any:
        return [1.0] if isinstance(text, str) else [[1.0] for _ in text]


@pytest.fixture
def registered() -> Iterator[None]:
    ProviderEngine.register_provider("async-echo", AsyncEcho)
    ProviderEngine.register_provider("plain-echo", PlainEcho)
    yield
    ProviderEngine.unregister_provider("async-echo")
    ProviderEngine.unregister_provider("plain-echo")


def test_a_coroutine_provider_through_the_blocking_face(registered: None) -> None:
    with create_provider("async-echo", api_key="k") as provider:
        assert provider.complete("hi", max_tokens=5) == "hi (t=0.7, n=5)"  # its own default temperature holds
        assert list(provider.complete("a b c", stream=True)) == ["a", "b", "c"]
        assert provider.embed("abcd") == [4.0] and provider.embed(["a", "bb"]) == [[1.0], [2.0]]
        assert isinstance(provider.inner, AsyncEcho) and provider.loop is provider.inner.loop  # its attributes
        assert repr(provider) == "<AsyncEcho async-echo model=None>"
    assert provider.inner.closed
    with pytest.raises(pepperpy.ConfigurationError, match="not initialized"):
        provider.complete("after cleanup")


def test_a_coroutine_provider_through_the_async_face_on_its_own_loop(registered: None) -> None:
    async def main() -> tuple[Any, ...]:
        async with await create_provider("async-echo", api_key="k") as provider:  # the seed's form
            assert isinstance(provider, AsyncProvider)
            text = await provider.complete("hi", temperature=0.1)
            pieces = [piece async for piece in await provider.complete("x y", stream=True)]
            vectors = await provider.embed(["a", "bcd"])
            inner = provider.sync.inner
            assert inner.loop is not asyncio.get_running_loop()  # the provider's loop, not the caller's
        return text, pieces, vectors, inner.closed

    assert asyncio.run(main()) == ("hi (t=0.1, n=None)", ["x", "y"], [[1.0], [3.0]], True)


def test_a_plain_provider_through_both_faces(registered: None) -> None:
    provider = create_provider("plain-echo")
    assert isinstance(provider, PlainEcho)  # plain methods: the provider itself, as before
    assert provider.complete("hi") == "hi (t=None)" and list(provider.complete("a b", stream=True)) == ["a", "b"]

    async def main() -> tuple[Any, ...]:
        twin = await provider
        assert twin is provider.aio and (await provider) is twin  # one twin per provider
        return (await twin.complete("hi", temperature=0.5), [p async for p in await twin.complete("c d", stream=True)],
                await twin.embed(["a", "b"]))

    assert asyncio.run(main()) == ("hi (t=0.5)", ["c", "d"], [[1.0], [1.0]])
    provider.cleanup()


def test_cancelling_an_awaited_coroutine_provider_call_cancels_it_on_its_loop(registered: None) -> None:
    started, unwound = threading.Event(), threading.Event()

    class Slow(AsyncEcho):
        async def complete(self, prompt: str, **kwargs: Any) -> str:  # type: ignore[override]
            started.set()
            try:
                await asyncio.sleep(30)
            finally:
                unwound.set()
            return prompt

    ProviderEngine.register_provider("slow", Slow)
    try:
        async def main() -> None:
            provider = await create_provider("slow")
            task = asyncio.ensure_future(provider.complete("never"))
            while not started.is_set():
                await asyncio.sleep(0.005)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await provider.cleanup()

        asyncio.run(main())
        assert unwound.wait(2)
    finally:
        ProviderEngine.unregister_provider("slow")


def test_a_catalog_provider_is_awaitable_and_embeds_lists(server: FakeProviderServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL", server.base_url("openai"))
    provider = create_provider("openai", api_key="sk-await-test-0001", model="gpt-4.1")
    assert provider.complete("blocking") == "echo: blocking"  # the blocking face is unchanged
    one, many = provider.embed("a"), provider.embed(["a", "b", "c"])
    assert isinstance(one[0], float) and len(many) == 3 and all(isinstance(v, list) for v in many)
    assert many[0] == one  # the same text, the same vector

    async def main() -> tuple[str, list[list[float]]]:
        twin = await provider
        assert twin.sync is provider and twin.config.model == "gpt-4.1"
        return await twin.complete("awaited"), await twin.embed(["x", "y"])

    text, vectors = asyncio.run(main())
    assert text == "echo: awaited" and len(vectors) == 2
    assert server.requests[-1].json["input"] == ["x", "y"]
    provider.cleanup()
