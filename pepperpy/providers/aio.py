"""The seed's async provider API: ``await create_provider(...)`` and ``AsyncProvider``.

Both ``pepperpy.providers.create_provider`` (blocking; the Provider it returns is awaitable, giving its twin) and
``pepperpy.aio.create_provider`` (a coroutine, which builds the provider in a worker thread) give an
AsyncProvider:

>>> async with await create_provider("openai", api_key="...", model="gpt-4o") as p:  # doctest: +SKIP
...     print(await p.complete("Explain quantum computing", temperature=0.7, max_tokens=200))
...     async for chunk in await p.complete("Tell me a story", stream=True):
...         print(chunk, end="")
...     vector = await p.embed("Text to embed")
...     vectors = await p.embed(["first", "second"])       # one vector per text

A catalog provider's calls, and a custom provider's plain methods, run in worker threads; a custom provider's
coroutines run on that provider's own event loop (``pepperpy.providers._faces``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from ..pipeline._bridge import AsyncStream
from ..pipeline._bridge import call as call_in_worker
from ._faces import BridgedProvider, RelayedPieces, written_async

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from .base import Provider, ProviderConfig

__all__ = ["AsyncProvider", "create_provider"]

T = TypeVar("T")


class AsyncProvider:
    """The seed's async provider: a blocking :class:`pepperpy.providers.Provider` whose calls run in worker
    threads (the pool of its Client for catalog providers). Build it with :func:`create_provider`."""

    def __init__(self, provider: Provider) -> None:
        self.sync = provider  # the blocking Provider underneath
        self._own_pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        # a custom provider written with coroutines: they are awaited on its own loop, with no thread per call
        self._bridged = provider if isinstance(provider, BridgedProvider) else None

    @property
    def config(self) -> ProviderConfig:
        return self.sync.config

    @property
    def provider_type(self) -> str:
        return self.sync.provider_type

    async def initialize(self) -> None:
        """Acquire resources; :func:`create_provider` has already done it."""
        bridged = self._bridged
        if bridged is not None and written_async(bridged.inner, "initialize"):
            await bridged.bridge.arun(bridged.inner.initialize())
            bridged.initialize_face()
            return
        import asyncio

        await asyncio.to_thread(self.sync.initialize)  # builds a Client: reads the catalog files

    @overload
    async def complete(self, prompt: str, *, temperature: float | None = None, max_tokens: int | None = None,
                       stream: Literal[False] = False, **kwargs: Any) -> str: ...

    @overload
    async def complete(self, prompt: str, *, temperature: float | None = None, max_tokens: int | None = None,
                       stream: Literal[True], **kwargs: Any) -> AsyncIterator[str]: ...

    async def complete(self, prompt: str, *, temperature: float | None = None, max_tokens: int | None = None,
                       stream: bool = False, **kwargs: Any) -> str | AsyncIterator[str]:
        """The answer text, or with ``stream=True`` an async iterator of text pieces (the request is sent
        by the ``await``, so HTTP errors are raised there)."""
        # only the settings given: a custom provider's own defaults (temperature=0.7) must hold
        given: dict[str, Any] = {k: v for k, v in (("temperature", temperature), ("max_tokens", max_tokens))
                                 if v is not None}
        bridged = self._bridged
        if bridged is not None and written_async(bridged.inner, "complete"):
            value = await self._awaited(bridged.inner.complete(prompt, stream=stream, **given, **kwargs))
            return RelayedPieces(value, bridged.bridge) if hasattr(value, "__anext__") else value
        call = functools.partial(self.sync.complete, prompt, **given, **kwargs)
        if stream:
            pieces = AsyncStream(functools.partial(_text_pieces, call), self._submit)
            return await pieces.start()
        text = await call_in_worker(self._submit, functools.partial(call, stream=False))
        if not isinstance(text, str):
            raise TypeError(f"{type(self.sync).__name__}.complete(stream=False) returned {type(text).__name__}, "
                            f"not str")
        return text

    @overload
    async def embed(self, text: str, **kwargs: Any) -> list[float]: ...

    @overload
    async def embed(self, text: Sequence[str], **kwargs: Any) -> list[list[float]]: ...

    async def embed(self, text: str | Sequence[str], **kwargs: Any) -> list[float] | list[list[float]]:
        """The vector of one text, or one vector per text of a list, in order."""
        bridged = self._bridged
        if bridged is not None and written_async(bridged.inner, "embed"):
            vectors: list[float] | list[list[float]] = await self._awaited(bridged.inner.embed(text, **kwargs))
            return vectors
        vectors = await call_in_worker(self._submit, functools.partial(self.sync.embed, text, **kwargs))
        return vectors

    async def cleanup(self) -> None:
        """Release resources; the provider cannot be used afterwards."""
        import asyncio

        bridged = self._bridged
        if bridged is not None and written_async(bridged.inner, "cleanup"):
            try:
                await bridged.bridge.arun(bridged.inner.cleanup())
            finally:
                await asyncio.to_thread(bridged.cleanup_face)
        else:
            await asyncio.to_thread(self.sync.cleanup)
        with self._lock:
            pool, self._own_pool = self._own_pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    async def _awaited(self, value: Any) -> Any:
        """A custom provider's result, awaited on its own loop when it is awaitable."""
        import inspect

        assert self._bridged is not None
        return await self._bridged.bridge.arun(value) if inspect.isawaitable(value) else value

    def _submit(self, job: Callable[[], T]) -> Future[T]:
        from .catalog import CatalogProvider

        if isinstance(self.sync, CatalogProvider):
            return self.sync.client.workers.submit(job)  # raises if cleaned up, before any thread is used
        import contextvars
        from concurrent.futures import ThreadPoolExecutor

        with self._lock:  # a custom provider has no Client: it gets a pool of its own
            if self._own_pool is None:
                self._own_pool = ThreadPoolExecutor(thread_name_prefix=f"pepperpy-{self.provider_type}")
            return self._own_pool.submit(contextvars.copy_context().run, job)

    async def __aenter__(self) -> AsyncProvider:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.cleanup()

    def __repr__(self) -> str:
        return f"<AsyncProvider {self.provider_type} model={self.config.model!r}>"


def _text_pieces(call: Callable[..., str | Iterator[str]]) -> Iterator[str]:
    # The iterator is returned as it is, never wrapped in a generator: AsyncStream calls its abort() (to wake
    # a worker stalled on the socket when the consumer is cancelled) and close(), which a catalog
    # provider's TextPieces forwards to its Stream.
    pieces = call(stream=True)
    if isinstance(pieces, str):
        raise TypeError("Provider.complete(stream=True) returned a str, not an iterator of str")
    return pieces


async def create_provider(provider_type: str, api_key: str | None = None, model: str | None = None,
                          timeout: float | None = None, max_retries: int | None = None,
                          extra_config: dict[str, Any] | None = None, **kwargs: Any) -> AsyncProvider:
    """The seed's ``await create_provider(...)``: :func:`pepperpy.providers.create_provider`, built in a
    worker thread (it reads the catalog) and wrapped in an :class:`AsyncProvider`.

    >>> async with await create_provider("openai", api_key="...", model="gpt-4o") as p:   # doctest: +SKIP
    ...     print(await p.complete("Hello!"))
    """
    import asyncio

    from .catalog import create_provider as create_blocking  # builds a Client: requests loads here, not at import

    provider = await asyncio.to_thread(create_blocking, provider_type, api_key, model, timeout, max_retries,
                                       extra_config, **kwargs)
    return AsyncProvider(provider)
