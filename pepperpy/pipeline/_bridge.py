"""AsyncStream: an async iterator over a blocking iterator, read in worker threads (see ``pepperpy.aio``)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from ..errors import StreamError
from ..http._cancel import CancelScope

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ..types import Completion

T = TypeVar("T")
Submit = Callable[[Callable[[], Any]], "Future[Any]"]
__all__ = ["AsyncStream", "BackgroundLoop", "Submit", "call", "wait"]

_DONE: Any = object()  # what a worker returns at the end of a blocking iterator (StopIteration cannot cross)


async def wait(future: Future[T], scope: CancelScope | None = None) -> T:
    """Await a worker's Future from the event loop.

    Cancelling the awaiting task cancels the job if it has not started; a job already running in ``scope``
    is aborted: the scope shuts its request's socket down and the job stops at once (no retry, no fallback),
    its result dropped. Without a scope a running job finishes in its thread.
    """
    import asyncio

    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        if scope is not None and not future.done():
            scope.cancel()
        raise


async def call(submit: Submit, fn: Callable[[], T]) -> T:
    """``fn()`` in a worker (``submit``), awaited; cancelling the awaiting task aborts its request in flight."""
    scope = CancelScope()
    return await wait(submit(functools.partial(scope.run, fn)), scope)


class BackgroundLoop:
    """An event loop in a daemon thread of its own, started on first use: where ``client.map`` runs its items,
    so that its connections stay pooled from one batch to the next. ``close()`` stops it (the next use starts a
    new one); a forked child forgets it (the thread is the parent's)."""

    def __init__(self, name: str = "pepperpy-map") -> None:
        import threading

        self.name = name
        self._loop: Any = None
        self._lock = threading.Lock()

    def loop(self) -> Any:
        """The running loop, started if need be."""
        import asyncio
        import threading

        with self._lock:
            loop = self._loop
            if loop is None or loop.is_closed():
                loop = self._loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()
                    loop.run_until_complete(loop.shutdown_asyncgens())
                    loop.close()

                threading.Thread(target=run, name=self.name, daemon=True).start()
                ready.wait()
            return loop

    def close(self, before: Callable[[], Any] | None = None) -> None:
        """Stop the loop (after running ``before`` on it, e.g. closing its connections)."""
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            def stop() -> None:
                try:
                    if before is not None:
                        before()
                finally:
                    loop.stop()

            try:
                loop.call_soon_threadsafe(stop)
            except RuntimeError:  # closed meanwhile
                pass

    def after_fork(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._loop = None


class AsyncStream(AsyncIterator[T]):
    """An async iterator over a blocking stream: it is opened, and each next item read, in a worker thread.

    ``aclose()``, leaving ``async with``, or cancelling the task that iterates it closes the blocking stream,
    and so its HTTP response. A read already under way in a worker is interrupted with ``Stream.abort()``
    (a socket shutdown, which is thread-safe where closing under the reader is not); the response is then
    closed as soon as that read returns, which is at once.
    """

    def __init__(self, open: Callable[[], Iterator[T]], submit: Submit) -> None:
        self._open = open
        self._submit = submit
        self._opened: Iterator[T] | None = None   # kept for .completion
        self._iterator: Iterator[T] | None = None  # cleared once released
        self._pending: Future[Any] | None = None
        self._closed = False
        self._finished = False
        self._scope = CancelScope()  # the opening request, aborted if the stream is left while it opens

    def __aiter__(self) -> AsyncStream[T]:
        return self

    async def __anext__(self) -> T:
        if self._closed:
            raise StopAsyncIteration
        if self._opened is None:
            await self._run(self._start)
        item = await self._run(self._pull)
        if item is _DONE:
            self._closed = self._finished = True  # the blocking stream closed itself at its end
            self._iterator = None
            raise StopAsyncIteration
        return item  # type: ignore[no-any-return]

    async def start(self) -> AsyncStream[T]:
        """Send the request now, so that HTTP errors are raised here rather than by the first ``__anext__``."""
        if self._opened is None and not self._closed:
            await self._run(self._start)
        return self

    def _start(self) -> None:  # in a worker
        self._opened = self._iterator = iter(self._scope.run(self._open))

    def _pull(self) -> Any:  # in a worker
        iterator = self._iterator
        return _DONE if iterator is None else next(iterator, _DONE)

    async def _run(self, job: Callable[[], Any]) -> Any:
        if self._pending is not None:
            raise RuntimeError("another task is already reading this AsyncStream")
        future = self._pending = self._submit(job)
        try:
            return await wait(future)
        except BaseException:  # cancelled, or the read failed (the blocking stream has then closed itself)
            self._abandon()
            raise
        finally:
            if self._pending is future:
                self._pending = None

    def _abandon(self) -> None:
        """Close now, or right after the job under way in a worker returns (never under its feet)."""
        self._closed = True
        pending, self._pending = self._pending, None
        if self._opened is None:
            self._scope.cancel()  # still opening: abort the request (a no-op when nothing is in flight)
        if pending is not None and not pending.cancel():
            abort = getattr(self._opened, "abort", None)
            if abort is not None:  # wake the worker blocked on the socket instead of waiting for a chunk
                abort()
            pending.add_done_callback(lambda _: self._release())  # runs at once if the job is done
        else:
            self._release()

    def _release(self) -> None:
        iterator, self._iterator = self._iterator, None
        close = getattr(iterator, "close", None)
        if close is not None:
            close()

    async def aclose(self) -> None:
        """Stop reading and close the HTTP response. Safe to call twice."""
        self._abandon()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._abandon()

    @property
    def completion(self) -> Completion:
        """The whole answer, once ``async for`` has read the stream to its end."""
        from ..types import Stream

        if not self._finished or not isinstance(self._opened, Stream):
            raise StreamError("the stream has not been read to its end; iterate it with `async for` first "
                              "(completion is only available for client.astream())")
        return self._opened.completion  # finished: no I/O happens here

    @property
    def text(self) -> str:
        """The text received so far."""
        from ..types import Stream

        return self._opened.text if isinstance(self._opened, Stream) else ""

    def __iter__(self) -> NoReturn:
        raise TypeError("AsyncStream is an async iterator: use `async for chunk in ...`, "
                        "or client.stream() in blocking code")

    def __repr__(self) -> str:
        state = "done" if self._finished else ("closed" if self._closed else
                                               "open" if self._opened is not None else "not started")
        return f"<AsyncStream {state}>"
