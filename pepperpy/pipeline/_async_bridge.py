"""AsyncBridge: coroutines run from blocking code, on an event loop of the bridge's own (public as
``pepperpy.aio.AsyncBridge``).

``asyncio.run`` cannot run inside a running loop (a Jupyter cell, an async view); the bridge can, because the
coroutine runs on the bridge's loop, in a thread of its own (``BackgroundLoop``), while the caller's thread
waits. A ``timeout`` cancels the coroutine on that loop and waits (up to ``cancel_grace`` seconds) for it to
unwind its ``finally`` blocks before raising ``BridgeTimeoutError``. ``stats`` counts the calls, the timeouts,
the failures and the calls still in flight. One bridge serves any number of threads at once.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import BridgeTimeoutError, ConfigurationError
from ._bridge import BackgroundLoop

if TYPE_CHECKING:
    import asyncio
    from concurrent.futures import Future

__all__ = ["DEFAULT_CANCEL_GRACE", "AsyncBridge", "BridgeStats"]

T = TypeVar("T")
DEFAULT_CANCEL_GRACE = 5.0
"""Seconds ``run`` waits, after a timeout, for the cancelled coroutine to finish unwinding."""


@dataclass(frozen=True, slots=True)
class BridgeStats:
    """What an AsyncBridge has done: ``calls`` started, ``in_flight`` not finished yet, ``timeouts`` (cancelled
    by ``timeout=``), ``failures`` (finished by raising, timeouts included)."""

    calls: int = 0
    in_flight: int = 0
    timeouts: int = 0
    failures: int = 0


class _Call:
    """One coroutine on the bridge's loop: its task once started, and the event set when it has finished."""

    __slots__ = ("finished", "future", "task")

    def __init__(self, future: Future[Any]) -> None:
        self.future = future
        self.task: asyncio.Task[Any] | None = None
        self.finished = threading.Event()


class AsyncBridge:
    """Run coroutines to completion from any thread, with or without a running event loop in it.

    >>> with pepperpy.aio.AsyncBridge() as bridge:                                         # doctest: +SKIP
    ...     completion = bridge.run(client.acomplete("Say hi", model="gpt-4o-mini"), timeout=30)
    ...     bridge.stats                   # BridgeStats(calls=1, in_flight=0, timeouts=0, failures=0)
    """

    def __init__(self, *, name: str = "pepperpy-bridge", cancel_grace: float = DEFAULT_CANCEL_GRACE) -> None:
        self.cancel_grace = cancel_grace
        self._loop = BackgroundLoop(name)
        self._lock = threading.Lock()
        self._stats = BridgeStats()
        self._calls: set[_Call] = set()

    @property
    def stats(self) -> BridgeStats:
        """The counters as they are now (a snapshot)."""
        return self._stats

    def run(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        """Run ``coro`` on the bridge's loop and return its result (or raise its exception) here.

        ``timeout`` (seconds): past it, the coroutine is cancelled and ``BridgeTimeoutError`` raised once it has
        unwound (``.cancelled`` False when it was still running after ``cancel_grace`` seconds). Ctrl-C in the
        waiting thread cancels it too. Works in a thread whose own loop is running (Jupyter), which waits.
        """
        import concurrent.futures

        timeout = _checked_timeout(timeout, coro)
        call = self._submit(coro)
        try:
            return call.future.result(timeout)  # type: ignore[no-any-return]
        except concurrent.futures.TimeoutError:
            if call.future.done():  # the coroutine's own TimeoutError, not the bridge's
                raise
            raise self._timed_out(call, timeout) from None
        except BaseException:
            if not call.future.done():  # KeyboardInterrupt while waiting: the coroutine goes too
                self._cancel(call)
            raise

    async def arun(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        """``run`` from a coroutine of another loop: awaits without blocking it; cancelling the awaiting task
        cancels ``coro`` on the bridge's loop."""
        import asyncio

        timeout = _checked_timeout(timeout, coro)
        call = self._submit(coro)
        outcome = asyncio.wrap_future(call.future)
        outcome.add_done_callback(_retrieve)  # read even when nobody awaits it any more (after a timeout)
        try:
            return await asyncio.wait_for(asyncio.shield(outcome), timeout)
        except asyncio.TimeoutError:
            if call.future.done():
                raise
            self._cancel(call)
            with self._lock:
                self._count(timeouts=1)
            raise BridgeTimeoutError(_timeout_text(timeout), timeout=timeout or 0.0) from None
        except asyncio.CancelledError:
            self._cancel(call)
            raise

    def close(self) -> None:
        """Cancel what is still running (waiting up to ``cancel_grace`` seconds for it to unwind) and stop the
        loop. A later ``run`` starts a new one."""
        with self._lock:
            running = list(self._calls)
        for call in running:
            self._cancel(call)
        for call in running:
            call.finished.wait(self.cancel_grace)
        self._loop.close()

    def __enter__(self) -> AsyncBridge:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        stats = self._stats
        return f"<AsyncBridge calls={stats.calls} in_flight={stats.in_flight} timeouts={stats.timeouts}>"

    # ------------------------------------------------------------------ the loop side

    def _submit(self, coro: Awaitable[Any]) -> _Call:
        import asyncio
        import inspect
        from concurrent.futures import Future

        if not inspect.isawaitable(coro):
            raise TypeError(f"AsyncBridge.run takes a coroutine (or another awaitable), not {type(coro).__name__}; "
                            f"call the async function: bridge.run(main()), not bridge.run(main)")
        loop = self._loop.loop()
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            if isinstance(coro, Coroutine):
                coro.close()
            raise ConfigurationError("AsyncBridge.run was called from a coroutine running on the bridge's own loop, "
                                     "where waiting would wait forever; await the coroutine there instead")
        call = _Call(Future())
        with self._lock:
            self._calls.add(call)
            self._count(calls=1, in_flight=1)

        def start() -> None:  # on the bridge's loop
            if not call.future.set_running_or_notify_cancel():
                if isinstance(coro, Coroutine):
                    coro.close()
                self._finished(call, failed=True)
                return
            call.task = asyncio.ensure_future(coro)
            call.task.add_done_callback(lambda task: self._settle(call, task))

        loop.call_soon_threadsafe(start)
        return call

    def _settle(self, call: _Call, task: asyncio.Task[Any]) -> None:
        import asyncio

        if task.cancelled():
            call.future.set_exception(asyncio.CancelledError())
        elif task.exception() is not None:
            call.future.set_exception(task.exception())
        else:
            call.future.set_result(task.result())
        self._finished(call, failed=task.cancelled() or task.exception() is not None)

    def _finished(self, call: _Call, *, failed: bool) -> None:
        with self._lock:
            if call in self._calls:
                self._calls.discard(call)
                self._count(in_flight=-1, failures=int(failed))
        call.finished.set()

    def _cancel(self, call: _Call) -> None:
        """Cancel the call on the loop (before it starts, or its task); returns at once."""
        if call.future.cancel():  # not started: start() sees it and closes the coroutine
            return

        def cancel() -> None:
            if call.task is not None:
                call.task.cancel()

        try:
            self._loop.loop().call_soon_threadsafe(cancel)
        except RuntimeError:  # the loop is closing
            pass

    def _timed_out(self, call: _Call, timeout: float | None) -> BridgeTimeoutError:
        self._cancel(call)
        unwound = call.finished.wait(self.cancel_grace)
        with self._lock:
            self._count(timeouts=1)
        text = _timeout_text(timeout) + ("" if unwound else f"; it was still running {self.cancel_grace:g} s after "
                                                            f"the cancellation (it ignores CancelledError?)")
        return BridgeTimeoutError(text, timeout=timeout or 0.0, cancelled=unwound)

    def _count(self, **deltas: int) -> None:  # under self._lock
        stats = self._stats
        self._stats = BridgeStats(**{name: getattr(stats, name) + deltas.get(name, 0)
                                     for name in ("calls", "in_flight", "timeouts", "failures")})


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _checked_timeout(timeout: float | None, coro: object) -> float | None:
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        if isinstance(coro, Coroutine):
            coro.close()  # never started: no "was never awaited" warning
        raise ConfigurationError(f"timeout takes seconds above 0 (or None to wait as long as it takes), not "
                                 f"{timeout!r}")
    return timeout


def _timeout_text(timeout: float | None) -> str:
    return f"the coroutine was still running after the {timeout:g} s timeout, so it was cancelled"
