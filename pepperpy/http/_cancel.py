"""Cancel scopes: stop the requests a batch or an awaited call has in flight, at once.

``client.map`` runs its items in one ``CancelScope``; each ``acomplete`` / ``aembed`` run in a worker thread has
its own. The transport registers every HTTP connection a call in a scope uses while it uses it (the scope is a
context variable, so it follows the call into the pipeline without being passed around). ``cancel()`` then
shuts those sockets down (safe from any thread, unlike closing them under their readers), and every later step
of those calls (another attempt, a retry or rate-limit wait, a fallback hop) raises ``Cancelled`` at once
instead of going on. So Ctrl-C during ``map``, or cancelling the task that awaits ``acomplete``, closes the
connections (the provider sees the client go, and stops generating) and frees the threads, and the process can
exit without waiting for answers it would be billed for and never read.
"""

from __future__ import annotations

import contextvars
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["CancelScope", "Cancelled", "current", "sleep"]

T = TypeVar("T")

_current: contextvars.ContextVar[CancelScope | None] = contextvars.ContextVar("pepperpy_cancel_scope",
                                                                              default=None)


class Cancelled(BaseException):
    """The call's scope was cancelled (Ctrl-C in ``map``, a cancelled ``await``): it stops with no retry and no
    fallback. A BaseException, like KeyboardInterrupt, so ``except Exception`` blocks let it through."""


class CancelScope:
    """The HTTP connections in use by the calls of one batch or one awaited call, and whether to stop them."""

    __slots__ = ("_connections", "_event", "_lock")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[Any] = set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def run(self, fn: Callable[[], T]) -> T:
        """Call ``fn()`` inside this scope (in the current thread)."""
        token = _current.set(self)
        try:
            return fn()
        finally:
            _current.reset(token)

    def cancel(self) -> None:
        """Stop every call of the scope: shut their sockets down now; their next step raises Cancelled."""
        self._event.set()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            shutdown(connection)

    def track(self, connection: Any) -> None:
        """A call of this scope is about to use ``connection`` (Cancelled if the scope is already cancelled)."""
        with self._lock:
            if self._event.is_set():
                raise Cancelled
            self._connections.add(connection)

    def untrack(self, connection: Any) -> None:
        with self._lock:
            self._connections.discard(connection)

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled

    def sleep(self, seconds: float) -> None:
        """Sleep, or raise Cancelled as soon as the scope is cancelled."""
        if self._event.wait(seconds):
            raise Cancelled

    def __repr__(self) -> str:
        return f"<CancelScope {'cancelled' if self.cancelled else 'active'} connections={len(self._connections)}>"


def current() -> CancelScope | None:
    """The scope of the running call, if any."""
    return _current.get()


def sleep(seconds: float) -> None:
    """``time.sleep``, cut short by Cancelled when the running call's scope is cancelled (the retry policy's and
    the rate limiter's default sleep)."""
    scope = _current.get()
    if scope is None:
        time.sleep(seconds)
    else:
        scope.sleep(seconds)


def shutdown(connection: Any) -> None:
    """Wake whoever reads or writes ``connection``'s socket: shut it down both ways (an error if already closed
    is ignored; a connection still opening its socket finds the scope cancelled at its next step)."""
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
