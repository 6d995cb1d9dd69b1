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
coroutines run on that provider's own event loop (``pepperpy.providers._faces``). ``pepperpy.aio.create_provider``
lives in ``pepperpy.providers.catalog`` (``create_provider_async``), beside the blocking one.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload

from ..pipeline._bridge import AsyncStream, Submit
from ..pipeline._bridge import call as call_in_worker
from ._config import ProviderConfig

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from ..pipeline._async_bridge import AsyncBridge

__all__ = ["AsyncProvider", "BlockingProvider", "RelayedPieces", "next_piece", "written_async"]

T = TypeVar("T")


class BlockingProvider(Protocol):
    """What AsyncProvider needs of the blocking provider under it (``pepperpy.providers.Provider`` has it all;
    named here so that this module needs no import of ``base``, which makes the twins)."""

    config: ProviderConfig

    @property
    def provider_type(self) -> str: ...

    def initialize(self) -> Any: ...

    def complete(self, prompt: str, **kwargs: Any) -> Any: ...

    def embed(self, text: Any, **kwargs: Any) -> Any: ...

    def cleanup(self) -> Any: ...

    def _worker_submit(self) -> Submit | None: ...

    def _coroutine_face(self) -> tuple[Any, AsyncBridge] | None: ...


def written_async(provider: object, method: str) -> bool:
    """Whether ``provider``'s ``method`` is a coroutine function or an async generator function."""
    import inspect

    fn = getattr(type(provider), method, None)
    return inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)


async def next_piece(pieces: AsyncIterator[Any]) -> tuple[bool, Any]:
    """(True, the next item) or (False, None) at the end: StopAsyncIteration never crosses a Future."""
    try:
        return True, await pieces.__anext__()
    except StopAsyncIteration:
        return False, None


class RelayedPieces(AsyncIterator[Any]):
    """A custom provider's async iterator of text pieces, read from another event loop (the caller's): each item
    comes from the provider's own loop; cancelling the reading task cancels the read there."""

    def __init__(self, pieces: AsyncIterator[Any], bridge: AsyncBridge) -> None:
        self.pieces = pieces
        self.bridge = bridge

    def __aiter__(self) -> RelayedPieces:
        return self

    async def __anext__(self) -> Any:
        more, item = await self.bridge.arun(next_piece(self.pieces))
        if not more:
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        aclose = getattr(self.pieces, "aclose", None)
        if aclose is not None:
            await self.bridge.arun(aclose())


class AsyncProvider:
    """The seed's async provider: a blocking :class:`pepperpy.providers.Provider` whose calls run in worker
    threads (the pool of its Client for catalog providers). Build it with :func:`create_provider`."""

    def __init__(self, provider: BlockingProvider) -> None:
        self.sync = provider  # the blocking Provider underneath
        self._own_pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        # a custom provider written with coroutines: they are awaited on its own loop, with no thread per call
        self._coroutines = provider._coroutine_face()

    @property
    def config(self) -> ProviderConfig:
        return self.sync.config

    @property
    def provider_type(self) -> str:
        return self.sync.provider_type

    async def initialize(self) -> None:
        """Acquire resources; :func:`create_provider` has already done it."""
        face = self._coroutines
        if face is not None and written_async(face[0], "initialize"):
            await face[1].arun(face[0].initialize())
            self.sync._initialized = True  # type: ignore[attr-defined]
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
        face = self._coroutines
        if face is not None and written_async(face[0], "complete"):
            value = await self._awaited(face[0].complete(prompt, stream=stream, **given, **kwargs))
            return RelayedPieces(value, face[1]) if hasattr(value, "__anext__") else value
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
        face = self._coroutines
        if face is not None and written_async(face[0], "embed"):
            vectors: list[float] | list[list[float]] = await self._awaited(face[0].embed(text, **kwargs))
            return vectors
        vectors = await call_in_worker(self._submit, functools.partial(self.sync.embed, text, **kwargs))
        return vectors

    async def cleanup(self) -> None:
        """Release resources; the provider cannot be used afterwards."""
        import asyncio

        face = self._coroutines
        if face is not None and written_async(face[0], "cleanup"):
            try:
                await face[1].arun(face[0].cleanup())
            finally:  # the face is cleaned up and the provider's loop stopped, its cleanup done above
                self.sync._initialized = False  # type: ignore[attr-defined]
                await asyncio.to_thread(face[1].close)
        else:
            await asyncio.to_thread(self.sync.cleanup)
        with self._lock:
            pool, self._own_pool = self._own_pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    async def _awaited(self, value: Any) -> Any:
        """A custom provider's result, awaited on its own loop when it is awaitable."""
        import inspect

        assert self._coroutines is not None
        return await self._coroutines[1].arun(value) if inspect.isawaitable(value) else value

    def _submit(self, job: Callable[[], T]) -> Future[T]:
        submit = self.sync._worker_submit()  # a catalog provider's Client workers; raises once cleaned up
        if submit is not None:
            future: Future[T] = submit(job)
            return future
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
