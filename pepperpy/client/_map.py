"""Many completions at once: ``Client.map`` runs them together and keeps the input order.

>>> results = client.map(["Capital of France?", "Capital of Peru?"], model="gpt-4o-mini")   # doctest: +SKIP
>>> [r.text for r in results]                                                               # doctest: +SKIP

A pepperpy Client's items run as ``acomplete`` calls on the Client's background event loop (one thread): all of them
in flight at once by default (up to ``max_concurrency``), without a thread each (a thousand threads cannot fan
out on a small machine: see docs/performance.md, "Fan-out"). Anything else with a blocking ``complete`` (and a
Client with shared state, whose Redis round trips block) runs on a thread pool of ``max_workers`` threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, Literal, Protocol, overload

from ..errors import ValidationError
from ..http._async_limits import concurrency_limit
from ..http._cancel import CancelScope
from ..observe.progress import ProgressBar, progress_bar
from ..types import Completion

__all__ = ["DEFAULT_MAX_WORKERS", "Prompt", "map_completions"]

DEFAULT_MAX_WORKERS = 8
"""Threads of one ``map`` call: enough to hide network latency, few enough for most rate limits."""

_WAKE_INTERVAL = 0.05  # seconds between two looks at Ctrl-C while the calling thread waits for the items

Prompt = str | Sequence[Mapping[str, Any]]
"""One item of a batch: a prompt string, or a list of chat messages (``[{"role": "user", ...}]``)."""


class Client(Protocol):
    """What ``map`` needs of a Client: its blocking ``complete``."""

    def complete(self, prompt: str | None = None, *, model: str, **kwargs: Any) -> Completion: ...


def _on_event_loop(client: Any) -> bool:
    """Whether ``client`` can run a batch as ``acomplete`` calls on an event loop (see the module docstring)."""
    pipeline = getattr(client, "_pipeline", None)
    return hasattr(client, "_map_loop") and pipeline is not None and pipeline.shared is None


@overload
def map_completions(client: Client, prompts: Iterable[Prompt], *, model: str, max_workers: int | None = ...,
                    progress: bool | None = ..., return_exceptions: Literal[False] = ...,
                    **kwargs: Any) -> list[Completion]: ...


@overload
def map_completions(client: Client, prompts: Iterable[Prompt], *, model: str, max_workers: int | None = ...,
                    progress: bool | None = ..., return_exceptions: bool,
                    **kwargs: Any) -> list[Completion | Exception]: ...


def map_completions(client: Client, prompts: Iterable[Prompt], *, model: str,
                    max_workers: int | None = None, progress: bool | None = None,
                    return_exceptions: bool = False, **kwargs: Any) -> list[Completion] | list[Completion | Exception]:
    """Complete every prompt with ``client.complete(..., model=model, **kwargs)``; results in input order.

    ``progress``: None shows a tqdm bar when tqdm is installed and stderr is a terminal; True always shows
    one (and needs tqdm: ``pip install 'pepperpy[progress]'``); False never does.
    ``return_exceptions``: False raises the first error; True puts each failure's exception in its place and
    keeps going. Ctrl-C (KeyboardInterrupt) is raised at once either way. Whenever ``map`` stops early (an
    error, Ctrl-C) the calls not yet started never start and the requests in flight are aborted: their
    connections are closed (the provider sees the client go), no retry or fallback follows, and their threads
    end at once, so the process can exit instead of waiting for answers it would be billed for and never read.

    >>> map_completions(client, ["a", "b"], model="gpt-4o-mini", max_tokens=50)   # doctest: +SKIP
    """
    if max_workers is not None and (isinstance(max_workers, bool) or not isinstance(max_workers, int)
                                    or max_workers < 1):
        raise ValidationError(f"max_workers must be a whole number of at least 1, got {max_workers!r}",
                              param="max_workers", value=max_workers)
    if isinstance(prompts, (str, bytes)):
        raise ValidationError("map() takes a list of prompts; for one prompt use complete()", param="prompts",
                              value=type(prompts).__name__)
    items = list(prompts)
    bar = progress_bar(progress, len(items), model)
    try:
        if not items:
            return []
        call = _caller(client, model, kwargs)
        if _on_event_loop(client):
            limit = max_workers or min(len(items), getattr(client, "max_concurrency", DEFAULT_MAX_WORKERS))
            return _run_on_loop(client, items, model, kwargs, concurrency_limit(limit), return_exceptions, bar)
        if max_workers is None:
            max_workers = min(len(items), getattr(client, "max_concurrency", DEFAULT_MAX_WORKERS))
        scope = CancelScope()  # every item's requests, to abort when map stops early
        pool = ThreadPoolExecutor(max_workers=min(max_workers, len(items)), thread_name_prefix="pepperpy-map")
        try:
            futures = [pool.submit(scope.run, partial(call, item)) for item in items]
            if bar is not None:
                for future in futures:
                    future.add_done_callback(lambda _: bar.update(1))
            _wait(futures, first_exception=not return_exceptions)
            if return_exceptions:
                results = [_result_or_exception(f) for f in futures]
            else:
                for future in futures:  # in input order: the first failed item's error is raised
                    error = future.exception() if future.done() else None
                    if error is not None:
                        raise error
                results = [f.result() for f in futures]
        except BaseException:
            # An item's error, Ctrl-C, SystemExit: queued items never start, and this thread does not wait
            # for them (a `with` block would). Calls already running are aborted: their sockets shut down,
            # they raise Cancelled in their threads at once, and their results are dropped.
            pool.shutdown(wait=False, cancel_futures=True)
            scope.cancel()
            raise
        pool.shutdown()
        return results
    finally:
        if bar is not None:
            bar.close()


def _run_on_loop(client: Any, items: list[Prompt], model: str, kwargs: dict[str, Any], limit: int,
                 return_exceptions: bool, bar: ProgressBar | None) -> list[Any]:
    """The items as ``acomplete`` calls, ``limit`` at a time, on the Client's background event loop (with the
    caller's context variables; its connections stay pooled for the next batch). The calling thread waits,
    waking for Ctrl-C; when ``map`` stops early the batch's tasks are cancelled, which closes the connections
    of the requests in flight."""
    import asyncio
    import contextvars

    async def one(item: Prompt, slots: asyncio.Semaphore) -> Completion:
        async with slots:
            try:
                if isinstance(item, str):
                    result: Completion = await client.acomplete(item, model=model, **kwargs)
                else:
                    result = await client.acomplete(model=model, messages=item, **kwargs)
                return result
            finally:
                if bar is not None:
                    bar.update(1)

    running: list[asyncio.Task[Any]] = []  # the batch's own task, once it runs on the loop

    async def batch() -> list[asyncio.Task[Completion]]:
        running.extend(task for task in (asyncio.current_task(),) if task is not None)
        slots = asyncio.Semaphore(limit)
        tasks = [asyncio.ensure_future(one(item, slots)) for item in items]
        try:
            _, pending = await asyncio.wait(tasks, return_when=asyncio.ALL_COMPLETED if return_exceptions
                                            else asyncio.FIRST_EXCEPTION)
        except BaseException:  # cancelled (Ctrl-C in the caller): every call stops, its connection closed
            pending = {task for task in tasks if not task.done()}
            for task in pending:
                task.cancel()
            await asyncio.wait(pending)
            raise
        for task in pending:  # an item failed: the others stop, their connections closed
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        return tasks

    loop = client._map_loop.loop()
    future = contextvars.copy_context().run(asyncio.run_coroutine_threadsafe, batch(), loop)
    finished = threading.Event()
    future.add_done_callback(lambda _: finished.set())
    try:
        while not finished.wait(_WAKE_INTERVAL):
            pass
    except BaseException:  # Ctrl-C, SystemExit: cancel the batch; in-flight requests close their connections
        # Cancelled on the loop, not through ``future.cancel()``: that marks the future done at once, so this
        # thread would go on (and a close() right after stop the loop) while the requests were still open
        def cancel() -> None:
            if running:
                running[0].cancel()
            else:  # not started yet: nothing in flight
                future.cancel()

        try:
            loop.call_soon_threadsafe(cancel)
            future.exception(timeout=5)  # returns once the batch has stopped: its connections are closed
        except BaseException:
            pass
        raise
    tasks: list[asyncio.Task[Completion]] = future.result()
    if return_exceptions:
        return [task.exception() or task.result() for task in tasks]
    for task in tasks:  # in input order: the first failed item's error is raised
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    return [task.result() for task in tasks]


def _wait(futures: Sequence[Future[Completion]], *, first_exception: bool) -> None:
    """Block until every future is done (or, with ``first_exception``, one failed), waking every
    ``_WAKE_INTERVAL`` so that Ctrl-C is raised at once: a lock wait without a timeout is not interrupted by
    it on Windows, nor by ``_thread.interrupt_main()``. One event, so a wake-up costs the same for 10 items
    as for 10,000 (``concurrent.futures.wait`` with a timeout would hook every future each time)."""
    left = len(futures)
    if not left:
        return
    finished = threading.Event()
    lock = threading.Lock()

    def on_done(future: Future[Completion]) -> None:
        nonlocal left
        with lock:
            left -= 1
            last = left == 0
        if last or (first_exception and not future.cancelled() and future.exception() is not None):
            finished.set()

    for future in futures:
        future.add_done_callback(on_done)
    while not finished.wait(_WAKE_INTERVAL):
        pass


def _caller(client: Client, model: str, kwargs: dict[str, Any]) -> Callable[[Prompt], Completion]:
    if "messages" in kwargs or "prompt" in kwargs:
        raise ValidationError("map() takes the prompts (or message lists) as its first argument; do not pass "
                              "prompt= or messages= too", param="prompts")

    def call(item: Prompt) -> Completion:
        if isinstance(item, str):
            return client.complete(item, model=model, **kwargs)
        return client.complete(model=model, messages=item, **kwargs)

    return call


def _result_or_exception(future: Future[Completion]) -> Completion | Exception:
    error = future.exception()
    if error is None:
        return future.result()
    if not isinstance(error, Exception):  # KeyboardInterrupt, SystemExit: never swallowed
        raise error
    return error
