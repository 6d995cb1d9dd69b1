"""The event loop's connection pools (for ``_async_client``): keep-alive HTTP/1.1 connections per provider and
loop, counted together with the Client's other providers' (``_async_limits``). Each connection is an
``_async_connection.Connection``, whose h11 frames its bytes.

The rules a pool keeps, whatever parses the bytes: a kept connection carries the next request only when its
last exchange was complete (h11's word), nothing unread sits in its socket and the server has not closed it; a
request is never sent again here (the server may have read it: only the retry policy repeats a request, and
counts it); a connection the server closed leaves the open-connection count exactly once.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
import zlib
from collections import deque
from collections.abc import AsyncGenerator
from typing import Any

from . import _framing
from ._async_connection import Connection, HTTPError, Reply, os_reason
from ._async_limits import Gate, LoopConnections

__all__ = ["ConnectionPool", "HTTPError", "Reply"]

READ_SIZE = 65536  # bytes a read of a socket takes at most (asyncio's own reads take up to 256 KiB)

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
        self._ssl = tls if scheme == "https" else None
        self._idle: deque[Connection] = deque()
        self._buffer = memoryview(bytearray(READ_SIZE))  # every connection's reads land here, one at a time
        self._slots = Gate(max_connections)
        self._shared = shared if shared is not None else LoopConnections(None)
        self._shared.pools.append(self)
        self._closed = False
        self._ender: AsyncGenerator[None, None] | None = None  # see close_with_the_loop

    async def request(self, head: _framing.Head, body: bytes | None, timeout: tuple[float, float],
                      ends: float | None = None) -> Reply:
        """Send one request and read its whole answer (HTTPError on a transport failure). ``head``: all but its
        body and Content-Length; ``ends``: when the call must be over (the loop's clock), or None."""
        slots = self._slots
        if not slots.take():
            await slots.wait()
        try:
            connection = self._kept() or await self._open(timeout[0], ends)
            try:
                reply, reusable = await connection.exchange(head, body, timeout[1], ends)
            except BaseException:
                connection.close()
                raise
            if reusable and not self._closed:
                self._idle.append(connection)
            else:
                connection.close()
        finally:
            slots.give()
        encoding = reply.headers.get("content-encoding")
        if encoding:
            try:
                reply.body = _framing.decode(reply.body, encoding)
            except zlib.error as exc:  # requests: ContentDecodingError, a ProviderConnectionError
                raise HTTPError("connect", f"the answer could not be decoded ({exc})") from None
        return reply

    def _kept(self) -> Connection | None:
        """The connection kept the most recently that can carry a request (the others it passes are closed)."""
        while self._idle:
            connection = self._idle.pop()
            if connection.usable():
                return connection
            connection.close()
        return None

    async def _open(self, connect_timeout: float, ends: float | None) -> Connection:
        shared = self._shared
        shared.make_room(self)
        loop = asyncio.get_running_loop()
        connection = Connection(shared, loop, self._buffer)
        shared.open += 1  # counted before the await, so that the calls opening at once all see it
        if ends is not None:
            connect_timeout = max(min(connect_timeout, ends - loop.time()), 0.0)
        try:
            async with _deadline(connect_timeout):
                await loop.create_connection(lambda: connection, self.host, self.port, ssl=self._ssl,
                                             server_hostname=self.host if self._ssl else None)
        except BaseException as exc:
            connection.close()
            if isinstance(exc, TimeoutError):
                raise HTTPError("timeout", f"connect timeout={connect_timeout:g} s") from None
            if isinstance(exc, ssl.SSLError):  # the words requests shows too: "[SSL: CERTIFICATE_VERIFY_FAILED]..."
                raise HTTPError("tls", str(exc) or type(exc).__name__) from None
            if isinstance(exc, OSError):
                raise HTTPError("connect", os_reason(exc)) from None
            raise
        return connection

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
            transport = self._idle.pop().transport
            sock = transport.get_extra_info("socket") if transport is not None else None
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
