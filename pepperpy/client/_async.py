"""The async half of a Client: ``acomplete`` / ``astream`` / ``aembed`` / ``arun`` (and the media twins
``agenerate_image`` / ``asynthesize`` / ``atranscribe``), as the ``AsyncMethods`` face over ``AsyncCalls``.

``acomplete`` and ``aembed`` run the Client's pipeline on the event loop itself (``pepperpy.pipeline._async``, over
the event loop's HTTP client in ``pepperpy.http``): no thread per call, so a thousand calls can be in flight at
once (``max_concurrency``, 1,024 by default, bounds them per loop). ``astream``, ``arun``, the media calls, calls
with shared state and the hops the loop cannot send (a custom ``transport=``, a proxy, token auth) run the blocking
methods in a worker thread of the Client's ``WorkerPool`` (as many threads as ``max_concurrency``), where retries,
breakers and caching behave exactly as in blocking calls. Cancelling the awaiting task aborts the request in flight
either way. ``asyncio`` and ``concurrent.futures`` are imported on first use: importing them with pepperpy would
triple the cost of ``import pepperpy`` for the many programs that never await anything.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from ..http._upload import UploadSource
    from ..media import Images, Speech, Transcription
    from ..pipeline._async import AsyncPipeline
    from ..pipeline._blocking import Pipeline
    from ..pipeline._bridge import AsyncStream
    from ..realtime import AsyncRealtimeSession, Sessions
    from ..types import Chunk, Completion, Embeddings, Stream
    from ._prepare import Preparer

__all__ = ["DEFAULT_MAX_CONCURRENCY", "AsyncCalls", "AsyncMethods", "WorkerPool"]

DEFAULT_MAX_CONCURRENCY = 1024
"""Calls one Client has in flight at once (per event loop for the async calls; ``map``'s default too)."""

T = TypeVar("T")
_C = TypeVar("_C", bound="AsyncMethods")


class WorkerPool:
    """The worker threads of a Client's async methods: ``max_workers`` of them (so each can hold a pooled
    connection), made on first use, shut down by ``shutdown()`` (a later ``submit`` makes new ones), and
    forgotten in a forked child, where the parent's threads do not exist."""

    def __init__(self, max_workers: int, name: str = "pepperpy-aio") -> None:
        self.max_workers = max_workers
        self.name = name
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], T]) -> Future[T]:
        """Run ``job`` in a worker (with the caller's contextvars), creating the pool on first use."""
        import contextvars
        from concurrent.futures import ThreadPoolExecutor

        context = contextvars.copy_context()
        with self._lock:  # held for the submit only, so shutdown() cannot stop the pool in between
            executor = self._executor
            if executor is None:
                executor = self._executor = ThreadPoolExecutor(max_workers=self.max_workers,
                                                               thread_name_prefix=self.name)
            return executor.submit(context.run, job)

    def shutdown(self) -> None:
        """Stop the pool without waiting: running jobs finish in their threads."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)  # wait=True would deadlock when close() runs inside a worker

    def after_fork(self) -> None:
        """In a forked child: a job queued for the parent's workers would wait forever (so would the lock,
        if one of the parent's threads held it at the fork)."""
        self._lock = threading.Lock()
        self._executor = None

    def __repr__(self) -> str:
        return f"<WorkerPool {self.name} max_workers={self.max_workers} {'running' if self._executor else 'idle'}>"


class AsyncCalls:
    """Where each awaited call of one Client runs: ``acomplete`` / ``aembed`` on the event loop through the async
    pipeline, unless the call needs what only the blocking road has (shared state's round trips, the rounds of a
    structured answer): then, like every other async method, the blocking method in one of the Client's
    ``workers``."""

    def __init__(self, preparer: Preparer, pipeline: Pipeline, max_concurrency: int, workers: WorkerPool) -> None:
        self.preparer = preparer
        self.pipeline = pipeline
        self.max_concurrency = max_concurrency
        self.workers = workers
        self._apipeline: AsyncPipeline | None = None
        self._lock = threading.Lock()

    @property
    def apipeline(self) -> AsyncPipeline:
        """The pipeline on the event loop, made at the first awaited call (asyncio and the event loop's HTTP
        client are never imported by a program that only makes blocking calls); one per Client, whichever
        threads' loops await first."""
        made = self._apipeline
        if made is None:
            with self._lock:
                made = self._apipeline
                if made is None:
                    from ..pipeline._async import AsyncPipeline

                    made = self._apipeline = AsyncPipeline(self.pipeline, self.max_concurrency, self.workers.submit)
        return made

    def after_fork(self) -> None:
        """In a forked child: a parent thread may have held the lock at the fork."""
        self._lock = threading.Lock()

    def complete(self, blocking: Callable[..., Completion], prompt: str | None, model: str | None,
                 kwargs: dict[str, Any]) -> Awaitable[Completion]:
        """The call to await: the async pipeline's, or the blocking method's in a worker (``acomplete`` awaits
        it: one coroutine less per call than awaiting it here)."""
        plan = None if self.pipeline.shared is not None else self.preparer.complete_plan(prompt, model=model,
                                                                                        **kwargs)
        if plan is None:  # the shared state's round trips block, and so do the rounds of a structured answer
            return self.in_worker(functools.partial(blocking, prompt, model=model, **kwargs))
        found: Awaitable[Completion] = self.apipeline.call(*plan)
        return found

    async def embed(self, blocking: Callable[..., Embeddings], input: str | Sequence[str], model: str | None,
                    kwargs: dict[str, Any]) -> Embeddings:
        if self.pipeline.shared is not None:
            return await self.in_worker(functools.partial(blocking, input, model=model, **kwargs))
        result: Embeddings = await self.apipeline.call(*self.preparer.embed_plan(input, model=model, **kwargs))
        return result

    async def in_worker(self, job: Callable[[], T]) -> T:
        """A blocking call run in a worker thread; cancelling the awaiting task aborts its request."""
        from ..pipeline._bridge import call

        return await call(self.workers.submit, job)


class AsyncMethods:
    """The async twins of :class:`pepperpy.Client`'s methods: same arguments, results and errors, without
    blocking the event loop. A face: each method hands its call to ``AsyncCalls`` (docs/adr/0008)."""

    if TYPE_CHECKING:
        _async: AsyncCalls

        def complete(self, prompt: str | None = None, *, model: str | None = None, **kwargs: Any) -> Completion: ...

        def stream(self, prompt: str | None = None, *, model: str | None = None, **kwargs: Any) -> Stream: ...

        def embed(self, input: str | Sequence[str], *, model: str | None = None, **kwargs: Any) -> Embeddings: ...

        def run(self, prompt: str | None = None, *, model: str | None = None, tools: Sequence[Any], **kwargs: Any
                ) -> Completion: ...

        def generate_image(self, prompt: str, *, model: str | None = None, **kwargs: Any) -> Images: ...

        def synthesize(self, text: str, *, model: str | None = None, **kwargs: Any) -> Speech: ...

        def transcribe(self, audio: UploadSource, *, model: str | None = None, **kwargs: Any) -> Transcription: ...

        def close(self) -> None: ...

        def _sessions(self) -> Sessions: ...

    async def acomplete(self, prompt: str | None = None, *, model: str | None = None, **kwargs: Any) -> Completion:
        """``complete()`` without blocking the event loop: same arguments, result and errors.

        >>> r = await client.acomplete("Say hi", model="gpt-4o-mini", max_tokens=20)   # doctest: +SKIP
        """
        return await self._async.complete(self.complete, prompt, model, kwargs)

    def astream(self, prompt: str | None = None, *, model: str | None = None, **kwargs: Any) -> AsyncStream[Chunk]:
        """``stream()`` as an async iterator of Chunks; the request is sent on the first ``__anext__``.

        Leaving ``async with``, ``aclose()`` or cancelling the consuming task closes the HTTP response.

        >>> async with client.astream("Tell a story", model="gpt-4o-mini") as s:   # doctest: +SKIP
        ...     async for chunk in s:
        ...         print(chunk.text, end="")
        >>> s.completion.usage                                                       # doctest: +SKIP
        """
        from ..pipeline._bridge import AsyncStream

        return AsyncStream(functools.partial(self.stream, prompt, model=model, **kwargs), self._async.workers.submit)

    async def arun(self, prompt: str | None = None, *, model: str | None = None, tools: Sequence[Any], **kwargs: Any
                   ) -> Completion:
        """``run()`` without blocking the event loop: the tool loop runs in a worker thread (its tools too).

        >>> r = await client.arun("Weather in Paris?", model="gpt-4o-mini", tools=[get_weather])   # doctest: +SKIP
        """
        return await self._async.in_worker(functools.partial(self.run, prompt, model=model, tools=tools, **kwargs))

    async def aembed(self, input: str | Sequence[str], *, model: str | None = None, **kwargs: Any) -> Embeddings:
        """``embed()`` without blocking the event loop.

        >>> (await client.aembed(["a", "b"], model="text-embedding-3-small")).vectors   # doctest: +SKIP
        """
        return await self._async.embed(self.embed, input, model, kwargs)

    async def agenerate_image(self, prompt: str, *, model: str | None = None, **kwargs: Any) -> Images:
        """``generate_image()`` without blocking the event loop.

        >>> r = await client.agenerate_image("a kite", model="gpt-image-2.6-flare")   # doctest: +SKIP
        >>> r.images[0].save("kite.png")                                              # doctest: +SKIP
        """
        return await self._async.in_worker(functools.partial(self.generate_image, prompt, model=model, **kwargs))

    async def asynthesize(self, text: str, *, model: str | None = None, **kwargs: Any) -> Speech:
        """``synthesize()`` without blocking the event loop.

        >>> (await client.asynthesize("Hi!", model="gpt-4o-mini-tts", voice="alloy")).save("hi.mp3")   # doctest: +SKIP
        """
        return await self._async.in_worker(functools.partial(self.synthesize, text, model=model, **kwargs))

    async def atranscribe(self, audio: UploadSource, *, model: str | None = None, **kwargs: Any) -> Transcription:
        """``transcribe()`` without blocking the event loop (the upload is read in a worker thread).

        >>> (await client.atranscribe("note.m4a", model="gpt-4o-mini-transcribe")).text   # doctest: +SKIP
        """
        return await self._async.in_worker(functools.partial(self.transcribe, audio, model=model, **kwargs))

    def arealtime(self, model: str | None = None, *, instructions: str | None = None, output: str = "text",
                  voice: str | None = None, tools: Sequence[Any] | None = None, turn_detection: Any = None,
                  **params: Any) -> AsyncRealtimeSession:
        """``realtime``'s async twin, opened by ``async with`` (or ``await``); the arguments are checked now.

        >>> async with client.arealtime("gpt-realtime-2") as s:   # doctest: +SKIP
        ...     print((await s.ask("Say hello")).text)
        """
        return self._sessions().open_async(self._async.preparer.model_for(model, "realtime"),
                                           instructions=instructions, output=output, voice=voice,
                                           tools=tools, turn_detection=turn_detection, params=params)

    async def aclose(self) -> None:
        """``close()`` from a coroutine."""
        self.close()  # drops pooled sockets and stops idle workers; nothing here waits on the network

    async def __aenter__(self: _C) -> _C:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
