"""Async use of the blocking core, without blocking the event loop.

``await client.acomplete(...)``, ``async for chunk in client.astream(...)`` and ``await client.aembed(...)``
call the Client's public blocking methods in worker threads from a pool the Client owns (as many workers
as its ``pool_maxsize``, so each can hold its own pooled connection; ``close()`` shuts the pool down).
The loop only awaits: concurrent awaits run concurrently, and retries, breakers and caching behave exactly
as in the blocking calls. The seed's async provider API lives here too:

>>> async with await pepperpy.aio.create_provider("openai", api_key="...", model="gpt-4o") as p:  # doctest: +SKIP
...     print(await p.complete("Explain quantum computing", temperature=0.7, max_tokens=200))
...     async for chunk in await p.complete("Tell me a story", stream=True):
...         print(chunk, end="")
...     vector = await p.embed("Text to embed")

``asyncio`` and ``concurrent.futures`` are imported on first use: importing them with pepperpy would
triple the cost of ``import pepperpy`` for the many programs that never await anything.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Coroutine, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from ._aio_stream import AsyncStream, _wait
from .errors import ConfigurationError

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from .providers.base import Provider, ProviderConfig
    from .types import Chunk, Completion, Embeddings, Stream

__all__ = ["AsyncClientMixin", "AsyncProvider", "AsyncStream", "create_provider", "run"]

T = TypeVar("T")
_C = TypeVar("_C", bound="AsyncClientMixin")


class AsyncClientMixin:
    """``acomplete`` / ``astream`` / ``aembed`` for :class:`pepperpy.Client`: its blocking methods, run in
    a bounded worker pool the Client owns, created on first use and shut down by ``close()``."""

    _aio_executor: ThreadPoolExecutor | None = None

    if TYPE_CHECKING:
        pool_maxsize: int

        def complete(self, prompt: str | None = None, *, model: str, **kwargs: Any) -> Completion: ...

        def stream(self, prompt: str | None = None, *, model: str, **kwargs: Any) -> Stream: ...

        def embed(self, input: str | Sequence[str], *, model: str, **kwargs: Any) -> Embeddings: ...

        def close(self) -> None: ...

    async def acomplete(self, prompt: str | None = None, *, model: str, **kwargs: Any) -> Completion:
        """``complete()`` without blocking the event loop: same arguments, result and errors.

        >>> r = await client.acomplete("Say hi", model="gpt-4o-mini", max_tokens=20)   # doctest: +SKIP
        """
        return await _wait(self._aio_submit(functools.partial(self.complete, prompt, model=model, **kwargs)))

    def astream(self, prompt: str | None = None, *, model: str, **kwargs: Any) -> AsyncStream[Chunk]:
        """``stream()`` as an async iterator of Chunks; the request is sent on the first ``__anext__``.

        Leaving ``async with``, ``aclose()`` or cancelling the consuming task closes the HTTP response.

        >>> async with client.astream("Tell a story", model="gpt-4o-mini") as s:   # doctest: +SKIP
        ...     async for chunk in s:
        ...         print(chunk.text, end="")
        >>> s.completion.usage                                                       # doctest: +SKIP
        """
        return AsyncStream(functools.partial(self.stream, prompt, model=model, **kwargs), self._aio_submit)

    async def aembed(self, input: str | Sequence[str], *, model: str, **kwargs: Any) -> Embeddings:
        """``embed()`` without blocking the event loop.

        >>> (await client.aembed(["a", "b"], model="text-embedding-3-small")).vectors   # doctest: +SKIP
        """
        return await _wait(self._aio_submit(functools.partial(self.embed, input, model=model, **kwargs)))

    async def aclose(self) -> None:
        """``close()`` from a coroutine."""
        self.close()  # drops pooled sockets and stops idle workers; nothing here waits on the network

    async def __aenter__(self: _C) -> _C:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ the worker pool

    def _aio_lock(self) -> threading.Lock:
        # Client.__init__ knows nothing of the mixin, so the lock is made on first use; dict.setdefault is
        # atomic, so racing threads all get the same one.
        pid = os.getpid()
        if self.__dict__.get("_aio_pid", pid) != pid:
            # A forked child: the parent's workers do not exist here, and a job queued for them would wait
            # forever (so would the lock, if one of the parent's threads held it at the fork).
            self.__dict__.update(_aio_mutex=threading.Lock(), _aio_executor=None, _aio_pid=pid)
        lock: threading.Lock | None = self.__dict__.get("_aio_mutex")
        if lock is None:
            lock = self.__dict__.setdefault("_aio_mutex", threading.Lock())
        return lock

    def _aio_submit(self, job: Callable[[], T]) -> Future[T]:
        """Run ``job`` in the pool (with the caller's contextvars), creating the pool on first use."""
        import contextvars
        from concurrent.futures import ThreadPoolExecutor

        context = contextvars.copy_context()
        with self._aio_lock():  # held for the submit only, so close() cannot shut the pool in between
            executor = self._aio_executor
            if executor is None:
                executor = self._aio_executor = ThreadPoolExecutor(
                    max_workers=self.pool_maxsize, thread_name_prefix="pepperpy-aio")
                self.__dict__["_aio_pid"] = os.getpid()
            return executor.submit(context.run, job)

    def _aio_shutdown(self) -> None:
        """Stop the pool without waiting: running jobs finish in their threads; a later call makes a new one."""
        with self._aio_lock():
            executor, self._aio_executor = self._aio_executor, None
        if executor is not None:
            executor.shutdown(wait=False)  # wait=True would deadlock when close() runs inside a worker


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from blocking code (a script, a sync view, a worker thread).

    Inside a running event loop (Jupyter, an async view, a coroutine) it raises ConfigurationError at once
    instead of stalling that loop: ``await`` the coroutine there, or call the blocking method.

    >>> completion = pepperpy.aio.run(client.acomplete("Say hi", model="gpt-4o-mini"))   # doctest: +SKIP
    """
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main)
    main.close()  # never started; closing it avoids a "was never awaited" warning
    raise ConfigurationError(
        "pepperpy.aio.run() was called inside a running event loop (Jupyter, an async view, a coroutine), "
        "where waiting for the answer would stall that loop. Use `await client.acomplete(...)` there, or the "
        "blocking `client.complete(...)`, which works anywhere but holds up the loop while it waits.")


# ---------------------------------------------------------------------- the seed's async provider API

class AsyncProvider:
    """The seed's async provider: a blocking :class:`pepperpy.providers.Provider` whose calls run in worker
    threads (the pool of its Client for catalog providers). Build it with :func:`create_provider`."""

    def __init__(self, provider: Provider) -> None:
        self.sync = provider  # the blocking Provider underneath
        self._own_pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def config(self) -> ProviderConfig:
        return self.sync.config

    @property
    def provider_type(self) -> str:
        return self.sync.provider_type

    async def initialize(self) -> None:
        """Acquire resources; :func:`create_provider` has already done it."""
        import asyncio

        await asyncio.to_thread(self.sync.initialize)  # builds a Client: reads the catalog files

    @overload
    async def complete(self, prompt: str, *, temperature: float | None = None, max_tokens: int | None = None,
                       stream: Literal[False] = False, **kwargs: Any) -> str: ...

    @overload
    async def complete(self, prompt: str, *, temperature: float | None = None, max_tokens: int | None = None,
                       stream: Literal[True], **kwargs: Any) -> AsyncStream[str]: ...

    async def complete(self, prompt: str, *, temperature: float | None = None, max_tokens: int | None = None,
                       stream: bool = False, **kwargs: Any) -> str | AsyncStream[str]:
        """The answer text, or with ``stream=True`` an async iterator of text pieces (the request is sent
        by the ``await``, so HTTP errors are raised there)."""
        call = functools.partial(self.sync.complete, prompt, temperature=temperature, max_tokens=max_tokens,
                                 **kwargs)
        if stream:
            pieces = AsyncStream(functools.partial(_text_pieces, call), self._submit)
            return await pieces.start()
        text = await _wait(self._submit(functools.partial(call, stream=False)))
        if not isinstance(text, str):
            raise TypeError(f"{type(self.sync).__name__}.complete(stream=False) returned {type(text).__name__}, "
                            f"not str")
        return text

    async def embed(self, text: str, **kwargs: Any) -> list[float]:
        """The vector of one text."""
        return await _wait(self._submit(functools.partial(self.sync.embed, text, **kwargs)))

    async def cleanup(self) -> None:
        """Release resources; the provider cannot be used afterwards."""
        import asyncio

        await asyncio.to_thread(self.sync.cleanup)
        with self._lock:
            pool, self._own_pool = self._own_pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    def _submit(self, job: Callable[[], T]) -> Future[T]:
        from .providers.base import CatalogProvider

        if isinstance(self.sync, CatalogProvider):
            return self.sync.client._aio_submit(job)  # raises if cleaned up, before any thread is used
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
                          timeout: float | None = 30.0, max_retries: int = 3,
                          extra_config: dict[str, Any] | None = None, **kwargs: Any) -> AsyncProvider:
    """The seed's ``await create_provider(...)``: :func:`pepperpy.providers.create_provider`, built in a
    worker thread (it reads the catalog) and wrapped in an :class:`AsyncProvider`.

    >>> async with await create_provider("openai", api_key="...", model="gpt-4o") as p:   # doctest: +SKIP
    ...     print(await p.complete("Hello!"))
    """
    import asyncio

    from .providers.base import create_provider as create_blocking

    provider = await asyncio.to_thread(create_blocking, provider_type, api_key, model, timeout, max_retries,
                                       extra_config, **kwargs)
    return AsyncProvider(provider)
