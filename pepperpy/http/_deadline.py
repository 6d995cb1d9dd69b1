"""A call's ``total_timeout`` on the wire: the deadline reaches the socket, a body already flowing included.

A read timeout bounds each wait for bytes (requests' convention, and ``timeout=``'s meaning); it cannot stop a
server that sends one byte every half second, nor one that reads a request slowly forever. So an attempt's
timeouts come as ``Clipped``: the usual ``(connect, read)`` pair (what requests takes), clipped to the time
left, and ``left``, the seconds the whole call may still take.

The event loop's client puts ``left`` on its request timer. The blocking road cannot interrupt a thread blocked
in ``recv`` but by the socket: ``Watch`` is armed for the attempt, the connections the attempt uses join it
(``_cancellable`` registers them as they start a request, through a context variable, as cancel scopes do), and
when it expires one watcher thread (per process, started at the first watch) shuts their sockets down; the
blocked read fails at once and the transport reports a ProviderTimeoutError. Arming and disarming cost a lock
and a heap push; calls without ``total_timeout`` never get here.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import os
import socket
import threading
import time
from typing import Any

from . import _cancel

__all__ = ["Clipped", "Watch", "current"]


class Clipped(tuple[float, float]):
    """``(connect, read)`` seconds for one attempt, clipped to ``left``: what its call may still take of its
    ``total`` (the ``total_timeout``, which also bounds each wait for a stream's next chunk)."""

    left: float
    total: float

    def __new__(cls, connect: float, read: float, left: float, total: float) -> Clipped:
        made = super().__new__(cls, (connect, read))
        made.left, made.total = left, total
        return made


_current: contextvars.ContextVar[Watch | None] = contextvars.ContextVar("pepperpy_deadline", default=None)


def current() -> Watch | None:
    """The watch of the attempt running in this context, if any."""
    return _current.get()


class Watch:
    """The end of one blocking attempt (or of a stream's wait for its next chunk): when it comes, the sockets of
    the connections that joined are shut down, and ``expired`` says why the read failed."""

    __slots__ = ("at", "connections", "expired", "lock", "queued", "sockets")

    def __init__(self) -> None:
        self.at: float | None = None  # on time.monotonic; None: disarmed
        self.queued = False  # in the watcher's heap (at some time no later than ``at``)
        self.expired = False
        self.connections: set[Any] = set()
        self.sockets: list[socket.socket] = []  # of connections closed while their answer is still read
        self.lock = threading.Lock()

    def arm(self, seconds: float) -> None:
        """Expire in ``seconds`` from now (instead, if it was armed before)."""
        _WATCHER.arm(self, time.monotonic() + seconds)

    def disarm(self) -> None:
        self.at = None

    def enter(self) -> contextvars.Token[Watch | None]:
        """Make this the context's watch: connections starting a request in it join."""
        return _current.set(self)

    @staticmethod
    def leave(token: contextvars.Token[Watch | None]) -> None:
        _current.reset(token)

    def track(self, connection: Any) -> None:
        with self.lock:
            self.connections.add(connection)
            expired = self.expired
        if expired:  # the deadline passed before this connection started: it must not wait either
            _cancel.shutdown(connection)

    def untrack(self, connection: Any) -> None:
        with self.lock:
            self.connections.discard(connection)

    def adopt(self, sock: socket.socket) -> None:
        """Keep the socket of a connection that http.client closed while its answer is still being read (an
        answer with ``Connection: close``, or read to the end): the answer's reader holds it open."""
        with self.lock:
            self.sockets.append(sock)

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            connections, sockets = list(self.connections), list(self.sockets)
        for connection in connections:
            _cancel.shutdown(connection)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Watcher:
    """One thread for every watch of the process: a heap of (when, watch), waiting for the earliest."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None

    def arm(self, watch: Watch, at: float) -> None:
        """Set ``watch`` to expire at ``at``. A watch armed again later (a stream, chunk after chunk) keeps its
        place in the heap: when that comes, the thread looks at the watch's time then."""
        with self._wake:
            watch.at = at
            if watch.queued:
                return
            watch.queued = True
            heapq.heappush(self._heap, (at, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pepperpy-deadlines", daemon=True)
                self._thread.start()
            if self._heap[0][2] is watch:  # earlier than what the thread waits for
                self._wake.notify()

    def _run(self) -> None:
        heap = self._heap
        while True:
            expired = []
            with self._wake:
                while not heap:
                    self._wake.wait()
                now = time.monotonic()
                while heap and heap[0][0] <= now:
                    _, _, watch = heapq.heappop(heap)
                    if watch.at is None:  # disarmed
                        watch.queued = False
                    elif watch.at <= now:
                        watch.queued = False
                        expired.append(watch)
                    else:  # armed again since: back in line for its new time
                        heapq.heappush(heap, (watch.at, next(self._order), watch))
                if not expired:
                    self._wake.wait(heap[0][0] - now if heap else None)
                    continue
            for watch in expired:
                watch.expire()

    def after_fork(self) -> None:
        """A forked child has no watcher thread: the next watch starts one."""
        self._wake = threading.Condition(threading.Lock())
        self._heap.clear()
        self._thread = None


_WATCHER = _Watcher()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_WATCHER.after_fork)
