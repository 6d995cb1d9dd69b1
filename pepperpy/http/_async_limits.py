"""How many connections the event loop's pools may hold: a connection is a file descriptor.

Past the process's limit, opening one fails with "Too many open files", which reads as a provider failure (and
counts against its circuit breaker). So the calls a Client has in flight on a loop are bounded by the
descriptors free at that loop's first call (``concurrency_limit``), and the connections its providers keep open
on that loop are counted together (``LoopConnections``): a provider that needs one more when they are all open
closes the connection another provider has left idle the longest. Without that, a thousand calls to one
provider followed by a thousand to another (or to a fallback) would hold two thousand.

Apart from the pools themselves (``_async_pool``), so that a Client can be built, and a batch bounded, without
loading the event loop's HTTP client (h11) before its first async call.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import asyncio

__all__ = ["RESERVED_FDS", "ConnectionLimits", "Gate", "LoopConnections", "concurrency_limit", "fd_budget"]


class Pool(Protocol):
    def drop_idle(self) -> bool: ...


RESERVED_FDS = 64  # file descriptors left for the rest of the process when connections are counted


def fd_budget(reserved: int = RESERVED_FDS) -> int | None:
    """File descriptors still free under the soft ``RLIMIT_NOFILE``, minus ``reserved``; None when unknown.

    A connection is a descriptor: past the limit, opening one fails with "Too many open files", which reads as
    a provider failure and can open its circuit. The limit is never raised here (past 1024, descriptors no
    longer fit ``select()``, which other code in the process may use)."""
    try:
        import resource
    except ImportError:  # Windows: sockets are not counted against a small limit there
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    import os

    try:
        in_use = len(os.listdir("/proc/self/fd")) - 1  # Linux; minus the listing's own descriptor
    except OSError:
        in_use = 16  # macOS, BSD: a guess
    return max(1, soft - in_use - reserved)


def concurrency_limit(wanted: int) -> int:
    """``wanted`` connections at once, or fewer when the process has fewer file descriptors to spare."""
    budget = fd_budget()
    return wanted if budget is None else max(1, min(wanted, budget))


class Gate:
    """At most ``size`` holders at once on one event loop, the others waiting in turn: ``asyncio.Semaphore``'s
    rules at a fraction of its cost (``async with`` a Semaphore is three coroutines; a free slot here is a
    subtraction)::

        if not gate.take():
            await gate.wait()
        try: ...
        finally: gate.give()
    """

    __slots__ = ("free", "waiters")

    def __init__(self, size: int) -> None:
        self.free = size
        self.waiters: deque[asyncio.Future[None]] = deque()

    def take(self) -> bool:
        """Take a free slot now, unless there is none or others are waiting for one (first come, first served)."""
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return True
        return False

    async def wait(self) -> None:
        """Wait for a slot (``give`` hands it over). Cancelled once handed one, the slot goes to the next."""
        import asyncio  # the async road's: loaded already when anything waits (a blocking Client loads none of it)

        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed over just before the cancellation
                self.give()
            raise

    def give(self) -> None:
        """Give a slot back: to the first waiter still waiting, else to the free ones."""
        waiters = self.waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():  # a waiter cancelled meanwhile has left
                waiter.set_result(None)
                return
        self.free += 1


class LoopConnections:
    """The connections one Client's providers have open on one event loop, counted together: at most ``limit``
    (None: no limit), or as near as the calls in flight allow."""

    __slots__ = ("limit", "open", "pools")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.open = 0
        self.pools: list[Pool] = []

    def make_room(self, pool: Pool) -> None:
        """Before ``pool`` opens a connection: at the limit, close the longest idle one of another pool."""
        if self.limit is not None and self.open >= self.limit:
            for other in self.pools:
                if other is not pool and other.drop_idle():
                    return


class ConnectionLimits:
    """One Client's ``LoopConnections``, per event loop (made at a loop's first connection; thread-safe)."""

    def __init__(self) -> None:
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopConnections] = \
            weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def of(self, loop: asyncio.AbstractEventLoop) -> LoopConnections:
        with self._lock:
            found = self._loops.get(loop)
            if found is None:
                for old in [old for old in self._loops if old.is_closed()]:  # its pools hold it: drop it here
                    del self._loops[old]
                found = self._loops[loop] = LoopConnections(fd_budget())
            return found
