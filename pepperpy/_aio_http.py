"""HTTP/1.1 on the event loop: what ``acomplete`` / ``aembed`` send through, without a thread per call.

Answers come back as ``Answer`` objects, shaped like the ``requests.Response`` the dialects read.

A thread per call in flight cannot fan out: on this project's 2-core test machine, 1,000 concurrent 0.5 s
calls took 2.5 s or more on 1,000 threads (each ``requests`` call costs ~1 ms of CPU under the GIL, and the
event loop stalled for seconds while threads started), against 0.6 s here (docs/performance.md, "Fan-out").
So the async calls speak HTTP/1.1 themselves, on ``asyncio`` streams, for the common case: a JSON request to a
provider reached directly (no proxy, no token-based auth, no custom ``transport=``); everything else runs the
blocking transport in a worker thread (``Transport.async_ready`` decides).

What it does: keep-alive connections per (loop, host) up to ``max_connections`` (LIFO reuse; a connection the
server closed while idle is dropped, and a request that fails on a reused connection before any answer byte is
sent again once on a fresh one), TLS with the same CA bundle ``requests`` uses, ``Content-Length`` and chunked
bodies, gzip / deflate, the connect timeout and a read timeout for the answer's head and for its body. A call
cancelled while its request is in flight closes that connection at once (the provider sees the client go).
The messages themselves (head, body, decoding, TLS settings) are ``_http1``'s; failures become the same pepperpy
errors as the blocking transport's (``_translate.transport_failure``).
What it does not do (the blocking transport does): proxies, redirects, uploads, streaming bodies.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
import zlib
from collections import deque
from collections.abc import Mapping
from typing import Any

from . import _http1

__all__ = ["RESERVED_FDS", "Answer", "AsyncSide", "ConnectionPool", "HTTPError", "Reply", "concurrency_limit",
           "fd_budget"]

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


class Answer:
    """A 2xx answer, shaped like the ``requests.Response`` the dialects read (``status_code``, ``headers`` with
    lower-case names, ``content``, ``url``, ``json()``, ``close()``) at a fraction of its cost: building a
    ``requests.Response`` (its cookie jar, its case-insensitive headers) was a tenth of an async call's CPU."""

    __slots__ = ("content", "headers", "status_code", "url")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes, url: str) -> None:
        self.status_code, self.headers, self.content, self.url = status_code, headers, content, url

    def json(self) -> Any:
        import json

        return json.loads(self.content)

    def close(self) -> None:
        pass


class _Connection:
    __slots__ = ("reader", "reused", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.reused = reader, writer, False

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()  # sends FIN at once; nothing awaits it, so a cancelled call closes too


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
    """Keep-alive connections to one origin, for the event loop that made the pool."""

    def __init__(self, scheme: str, host: str, port: int | None, *, max_connections: int,
                 tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port or (443 if scheme == "https" else 80)
        self.authority = _http1.authority(host, port)
        self._ssl = tls if scheme == "https" else None
        self._idle: deque[_Connection] = deque()
        self._slots = asyncio.Semaphore(max_connections)

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
                if reusable:
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
        try:
            async with _deadline(connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, ssl=self._ssl, server_hostname=self.host if self._ssl else None,
                    limit=_http1.HEAD_LIMIT)
        except TimeoutError:
            raise HTTPError("timeout", f"connect timeout={connect_timeout:g} s") from None
        except ssl.SSLError as exc:  # the words requests shows too: "[SSL: CERTIFICATE_VERIFY_FAILED] ..."
            raise HTTPError("tls", str(exc) or type(exc).__name__) from None
        except OSError as exc:
            raise HTTPError("connect", _os_reason(exc)) from None
        return _Connection(reader, writer)

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

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def abandon(self) -> None:
        """The pool's loop has closed (an ``asyncio.run`` that ended): shut its sockets down without it."""
        while self._idle:
            sock = self._idle.pop().writer.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _os_reason(exc: OSError) -> str:
    """An OSError in the words requests shows for it (``[Errno 111] Connection refused``); asyncio's own
    (``Connect call failed ('127.0.0.1', 9)``) would make the two roads' messages differ."""
    if isinstance(exc, socket.gaierror) or not isinstance(exc.errno, int):
        return str(exc) or type(exc).__name__
    import os

    return f"[Errno {exc.errno}] {os.strerror(exc.errno)}"


class _StaleConnectionError(Exception):
    """A reused connection that the server had already closed."""


class AsyncSide:
    """One provider's async transport: a ConnectionPool per event loop, errors as pepperpy's (the blocking
    transport's classes and words), 2xx answers as ``Answer`` objects the dialects read like requests'."""

    def __init__(self, provider: str, base_url: str, headers: Mapping[str, str], *, verify: bool | str,
                 max_connections: int, secrets: tuple[str, ...], key_vars: tuple[str, ...]) -> None:
        import urllib.parse
        import weakref

        parts = urllib.parse.urlsplit(base_url)
        self.provider = provider
        self.base_url = base_url
        self._scheme, self._host, self._port = parts.scheme, parts.hostname or "", parts.port
        self._headers = {**headers, "Accept-Encoding": "gzip, deflate"}  # what this client can decode
        self._auth = _http1.basic_auth(parts)
        self._tls = _http1.ssl_context(verify) if parts.scheme == "https" else None  # one for every loop
        self._max = max_connections
        self._secrets, self._key_vars = secrets, key_vars
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ConnectionPool] = \
            weakref.WeakKeyDictionary()
        self._last: tuple[asyncio.AbstractEventLoop, ConnectionPool] | None = None  # the common case: one loop

    def pool(self) -> ConnectionPool:
        loop = asyncio.get_running_loop()
        last = self._last
        if last is not None and last[0] is loop:  # a WeakKeyDictionary look-up is slow
            return last[1]
        pool = self._pools.get(loop)
        if pool is None:  # only this loop's thread gets here for this loop: no lock needed
            for old in [old for old in self._pools if old.is_closed()]:  # asyncio.run() calls that ended
                self._pools.pop(old).abandon()
            pool = self._pools[loop] = ConnectionPool(self._scheme, self._host, self._port,
                                                      max_connections=self._max, tls=self._tls)
        self._last = (loop, pool)
        return pool

    def release(self) -> None:
        """Close the running loop's idle connections now (before that loop ends: ``client.map``, ``aclose``)."""
        loop = asyncio.get_running_loop()
        pool = self._pools.pop(loop, None)
        if self._last is not None and self._last[0] is loop:
            self._last = None
        if pool is not None:
            pool.close()

    async def send(self, method: str, url: str, target: str, headers: Mapping[str, str] | None,
                   body: bytes | None, *, model: str | None, timeout: tuple[float, float]) -> Any:
        from . import _translate

        sent = {**self._headers, **headers} if headers else self._headers
        if self._auth is not None:
            sent = {**sent, "Authorization": self._auth}
        try:
            reply = await self.pool().request(method, target, sent, body, timeout)
        except HTTPError as exc:
            raise _translate.transport_failure(exc.kind, exc.reason, provider=self.provider, model=model, url=url,
                                               secrets=self._secrets) from None
        if reply.status >= 300:
            raise _translate.from_response(reply.status, reply.body, reply.headers, provider=self.provider,
                                           model=model, secrets=self._secrets, key_vars=self._key_vars, url=url,
                                           base_url=self.base_url)
        return Answer(reply.status, reply.headers, reply.body, url)

    def close(self) -> None:
        """Close idle connections: at once for the running loop, soon (thread-safe) for the others."""
        pools, self._pools, self._last = list(self._pools.items()), type(self._pools)(), None
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, pool in pools:
            if loop is running:
                pool.close()
            elif loop.is_closed():
                pool.abandon()
            else:
                try:
                    loop.call_soon_threadsafe(pool.close)
                except RuntimeError:  # closed in the meantime: its sockets went with it
                    pass
