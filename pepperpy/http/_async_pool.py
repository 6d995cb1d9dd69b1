"""The event loop's connection pools (for ``_aio_http``): keep-alive HTTP/1.1 connections per provider and loop,
and how many file descriptors they may hold.

A connection is a file descriptor: past the process's limit, opening one fails with "Too many open files", which
reads as a provider failure (and counts against its circuit breaker). So the calls a Client has in flight on a
loop are bounded by the descriptors free at that loop's first call (``concurrency_limit``), and the connections
its providers keep open on that loop are counted together (``LoopConnections``): a provider that needs one more
when they are all open closes the connection another provider has left idle the longest. Without that, a
thousand calls to one provider followed by a thousand to another (or to a fallback) would hold two thousand.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
import threading
import weakref
import zlib
from collections import deque
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from . import _framing as _http1

__all__ = ["RESERVED_FDS", "ConnectionLimits", "ConnectionPool", "HTTPError", "LoopConnections", "Reply",
           "concurrency_limit", "fd_budget"]

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


class HTTPError(Exception):
    """A transport failure, of a ``kind`` ``_translate.transport_failure`` knows: ``"connect"`` (no answer),
    ``"tls"`` (the handshake failed), ``"timeout"`` or ``"cut"`` (the answer began and broke off)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind, self.reason = kind, reason


class Reply:
    """An answer: status, headers (lower-case names; repeated ones joined with ``", "``) and the body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class _Connection:
    __slots__ = ("reader", "reused", "shared", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, shared: LoopConnections) -> None:
        self.reader, self.writer, self.reused, self.shared = reader, writer, False, shared

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        transport = self.writer.transport
        if transport.is_closing():
            return
        self.shared.open -= 1
        # abort, not close: the socket goes at once (close would first wait for the server's TLS close_notify,
        # which a loop about to end, or a cancelled call, does not give time for)
        transport.abort()


class LoopConnections:
    """The connections one Client's providers have open on one event loop, counted together: at most ``limit``
    (None: no limit), or as near as the calls in flight allow."""

    __slots__ = ("limit", "open", "pools")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.open = 0
        self.pools: list[ConnectionPool] = []

    def make_room(self, pool: ConnectionPool) -> None:
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


if sys.version_info >= (3, 11):
    _deadline = asyncio.timeout
else:  # pragma: no cover - Python 3.10
    import contextlib

    @contextlib.asynccontextmanager
    async def _deadline(seconds: float) -> Any:
        task = asyncio.current_task()
        assert task is not None
        fired = False

        def fire() -> None:
            nonlocal fired
            fired = True
            task.cancel()

        handle = asyncio.get_running_loop().call_later(seconds, fire)
        try:
            yield
        except asyncio.CancelledError:
            if not fired:
                raise
            raise TimeoutError from None
        finally:
            handle.cancel()


class ConnectionPool:
    """Keep-alive connections to one origin, for the event loop that made the pool; ``shared`` counts them with
    the other pools of the same Client and loop."""

    def __init__(self, scheme: str, host: str, port: int | None, *, max_connections: int,
                 tls: ssl.SSLContext | None = None, shared: LoopConnections | None = None) -> None:
        self.host = host
        self.port = port or (443 if scheme == "https" else 80)
        self.authority = _http1.authority(host, port)
        self._ssl = tls if scheme == "https" else None
        self._idle: deque[_Connection] = deque()
        self._slots = asyncio.Semaphore(max_connections)
        self._shared = shared if shared is not None else LoopConnections(None)
        self._shared.pools.append(self)
        self._closed = False
        self._ender: AsyncGenerator[None, None] | None = None  # see close_with_the_loop

    async def request(self, method: str, target: str, headers: Mapping[str, str], body: bytes | None,
                      timeout: tuple[float, float]) -> Reply:
        """Send one request and read its whole answer (HTTPError on a transport failure)."""
        head = _http1.request_head(method, target, self.authority, headers, body)
        async with self._slots:
            while True:
                connection = await self._connection(timeout[0])
                try:
                    reply, reusable = await self._exchange(connection, head, body, timeout[1])
                except _StaleConnectionError:
                    connection.close()
                    continue  # the server had closed this idle connection: once more on a fresh one
                except BaseException:
                    connection.close()
                    raise
                if reusable and not self._closed:
                    connection.reused = True
                    self._idle.append(connection)
                else:
                    connection.close()
                return reply

    async def _connection(self, connect_timeout: float) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable():
                return connection
            connection.close()
        shared = self._shared
        shared.make_room(self)
        shared.open += 1  # counted before the await, so that the calls opening at once all see it
        try:
            async with _deadline(connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, ssl=self._ssl, server_hostname=self.host if self._ssl else None,
                    limit=_http1.HEAD_LIMIT)
        except BaseException as exc:
            shared.open -= 1
            if isinstance(exc, TimeoutError):
                raise HTTPError("timeout", f"connect timeout={connect_timeout:g} s") from None
            if isinstance(exc, ssl.SSLError):  # the words requests shows too: "[SSL: CERTIFICATE_VERIFY_FAILED]..."
                raise HTTPError("tls", str(exc) or type(exc).__name__) from None
            if isinstance(exc, OSError):
                raise HTTPError("connect", _os_reason(exc)) from None
            raise
        return _Connection(reader, writer, shared)

    async def _exchange(self, connection: _Connection, head: bytes, body: bytes | None,
                        read_timeout: float) -> tuple[Reply, bool]:
        reader, writer = connection.reader, connection.writer
        answered = False  # whether the head came: a failure after it is a body cut short
        try:
            writer.write(head + body if body else head)
            await writer.drain()
            async with _deadline(read_timeout):  # one timer for the answer's head and body (timers cost)
                while True:
                    raw = await reader.readuntil(b"\r\n\r\n")
                    status, headers, keep = _http1.parse_head(raw)
                    if status >= 200 or status == 101:
                        break  # 1xx (100 Continue, 103 Early Hints) come before the answer
                answered = True
                content, delimited = await _http1.read_body(reader, status, headers)
        except TimeoutError:
            raise HTTPError("timeout", f"read timeout={read_timeout:g} s") from None
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError,
                OSError) as exc:
            if answered:  # as requests says of a body cut short (a StreamError)
                raise HTTPError("cut", "the connection closed before the answer was complete") from None
            if isinstance(exc, (asyncio.IncompleteReadError, ConnectionError)):
                if connection.reused and not getattr(exc, "partial", b""):
                    raise _StaleConnectionError from None
            if isinstance(exc, OSError):
                raise HTTPError("connect", _os_reason(exc)) from None
            if isinstance(exc, asyncio.IncompleteReadError):  # http.client's words, which requests shows
                raise HTTPError("connect", "Remote end closed connection without response") from None
            raise HTTPError("connect", f"not an HTTP/1.1 answer ({exc})") from None
        encoding = headers.get("content-encoding")
        if encoding:
            try:
                content = _http1.decode(content, encoding)
            except zlib.error as exc:  # requests: ContentDecodingError, a ProviderConnectionError
                raise HTTPError("connect", f"the answer could not be decoded ({exc})") from None
        return Reply(status, headers, content), keep and delimited

    def drop_idle(self) -> bool:
        """Close the connection idle the longest, if any (``LoopConnections.make_room``)."""
        if not self._idle:
            return False
        self._idle.popleft().close()
        return True

    def close(self) -> None:
        """Close the idle connections, and each one in use as soon as its answer is read: this pool is done."""
        self._closed = True
        if self in self._shared.pools:
            self._shared.pools.remove(self)
        while self._idle:
            self._idle.pop().close()

    async def close_with_the_loop(self) -> None:
        """Close this pool when its event loop ends, while the loop can still close sockets.

        The pool registers an async generator with the running loop (its first iteration does): ``asyncio.run``
        closes every open one (``loop.shutdown_asyncgens``) before it closes the loop, which runs this one's
        ``finally``. A loop closed some other way leaves it to ``abandon``."""
        self._ender = _until_the_loop_ends(self)
        await self._ender.__anext__()

    def abandon(self) -> None:
        """The pool's loop has closed without closing it: shut its sockets down without the loop (their file
        descriptors go when the garbage collector takes their transports)."""
        self._closed = True
        while self._idle:
            sock = self._idle.pop().writer.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


async def _until_the_loop_ends(pool: ConnectionPool) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        pool.close()


def _os_reason(exc: OSError) -> str:
    """An OSError in the words requests shows for it (``[Errno 111] Connection refused``); asyncio's own
    (``Connect call failed ('127.0.0.1', 9)``) would make the two roads' messages differ."""
    if isinstance(exc, socket.gaierror) or not isinstance(exc.errno, int):
        return str(exc) or type(exc).__name__
    import os

    return f"[Errno {exc.errno}] {os.strerror(exc.errno)}"


class _StaleConnectionError(Exception):
    """A reused connection that the server had already closed."""


