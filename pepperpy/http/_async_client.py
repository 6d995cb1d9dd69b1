"""HTTP/1.1 on the event loop: what ``acomplete`` / ``aembed`` send through, without a thread per call.

Answers come back as ``Answer`` objects, shaped like the ``requests.Response`` the dialects read.

A thread per call in flight cannot fan out: on this project's 2-core test machine, 1,000 concurrent 0.5 s
calls took 2.5 s or more on 1,000 threads (each ``requests`` call costs ~1 ms of CPU under the GIL, and the
event loop stalled for seconds while threads started), against 0.6 s here (docs/performance.md, "Fan-out").
So the async calls speak HTTP/1.1 themselves, on ``asyncio`` streams, for the common case: a JSON request to a
provider reached directly (no proxy, no token-based auth, no custom ``transport=``); everything else runs the
blocking transport in a worker thread (``Transport.async_ready`` decides).

What it does: keep-alive connections per (loop, host) up to ``max_connections`` (LIFO reuse; a connection the
server closed while idle, or with bytes nobody asked for, is dropped; a request is never sent twice but by the
retry policy), TLS with the same CA bundle ``requests`` uses, ``Content-Length`` and chunked bodies framed by
h11, gzip / deflate, the connect timeout, a timeout per socket wait (reading and writing) and the call's
``total_timeout`` over the whole exchange. A call cancelled while its request is in flight closes that connection
at once (the provider sees the client go), and ``asyncio.run`` closes a loop's connections before it closes the
loop. The pools are ``_async_pool``'s (the file-descriptor budget they share ``_async_limits``'s); a connection
and its h11 ``_async_connection``'s; the messages (h11's framing, decoding, TLS settings) ``_framing``'s; failures
become the same pepperpy errors as the blocking transport's (``_translate.transport_failure``).
What it does not do (the blocking transport does): proxies, redirects, uploads, streaming bodies.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

import h11

from . import _framing
from ._async_limits import ConnectionLimits
from ._async_pool import ConnectionPool, HTTPError

__all__ = ["Answer", "AsyncSide"]


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


class AsyncSide:
    """One provider's async transport: a ConnectionPool per event loop, errors as pepperpy's (the blocking
    transport's classes and words), 2xx answers as ``Answer`` objects the dialects read like requests'."""

    def __init__(self, provider: str, base_url: str, headers: Mapping[str, str], *, verify: bool | str,
                 max_connections: int, secrets: tuple[str, ...], key_vars: tuple[str, ...],
                 limits: ConnectionLimits | None = None) -> None:
        import urllib.parse
        import weakref

        parts = urllib.parse.urlsplit(base_url)
        self.provider = provider
        self.base_url = base_url
        self._scheme, self._host, self._port = parts.scheme, parts.hostname or "", parts.port
        # what this client can decode; and not requests' "Connection: keep-alive" and "Accept: */*", which
        # HTTP/1.1 means anyway (h11 validates every header of every request: fewer is cheaper)
        sent = {name: value for name, value in headers.items() if name.lower() not in ("connection", "accept")
                or value not in ("keep-alive", "*/*")}
        sent["Accept-Encoding"] = "gzip, deflate"
        auth = _framing.basic_auth(parts)
        if auth is not None:  # replaces any Authorization header, as requests does
            sent = {name: value for name, value in sent.items() if name.lower() != "authorization"}
            sent["Authorization"] = auth
        self._headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in sent.items()]
        self._names = {name.lower() for name, _ in self._headers}  # a request's header of one of these replaces it
        self._basic = auth is not None
        name = _framing.authority(self._host, self._port)
        self._authority = name.encode("ascii") if name.isascii() else name.encode("idna")
        self._heads: dict[tuple[Any, ...], _framing.Head] = {}  # by method, path, params, headers, JSON or not
        self._tls = _framing.ssl_context(verify) if parts.scheme == "https" else None  # one for every loop
        self._max = max_connections
        self._limits = limits if limits is not None else ConnectionLimits()
        self._secrets, self._key_vars = secrets, key_vars
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ConnectionPool] = \
            weakref.WeakKeyDictionary()
        self._last: tuple[asyncio.AbstractEventLoop, ConnectionPool] | None = None  # the common case: one loop
        self._lock = threading.Lock()  # each thread may run a loop of its own: making pools is locked

    async def pool(self) -> ConnectionPool:
        """The running loop's pool, made at the loop's first request to this provider."""
        loop = asyncio.get_running_loop()
        last = self._last
        if last is not None and last[0] is loop:  # a WeakKeyDictionary look-up is slow
            return last[1]
        with self._lock:
            pool = self._pools.get(loop)
            made = pool is None
            if pool is None:
                for old in [old for old in self._pools if old.is_closed()]:  # loops closed without asyncio.run
                    self._pools.pop(old).abandon()
                pool = self._pools[loop] = ConnectionPool(self._scheme, self._host, self._port,
                                                          max_connections=self._max, tls=self._tls,
                                                          shared=self._limits.of(loop))
            self._last = (loop, pool)
        if made:
            await pool.close_with_the_loop()
        return pool

    def release(self) -> None:
        """Close the running loop's idle connections now (before that loop ends: ``client.map``, ``aclose``)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            pool = self._pools.pop(loop, None)
            if self._last is not None and self._last[0] is loop:
                self._last = None
        if pool is not None:
            pool.close()

    async def send(self, method: str, path: str, params: Mapping[str, str] | None,
                   headers: Mapping[str, str] | None, body: bytes | None, *, json: bool, model: str | None,
                   timeout: tuple[float, float], left: float | None = None) -> Any:
        """Send one request to ``path`` under the base URL with the query ``params`` (``json``: the body is JSON,
        sent with ``Content-Type: application/json`` unless ``headers`` name one); ``left``: seconds the whole
        call may still take (``total_timeout``), or None. The 2xx answer, or the pepperpy error."""
        key = (method, path, tuple(params.items()) if params else None, tuple(headers.items()) if headers else None,
               json)
        head = self._heads.get(key)
        if head is None:
            head = self._head(method, path, params, headers, json)
            if len(self._heads) >= 512:  # a program inventing URLs or headers must not grow this for ever
                self._heads.clear()
            self._heads[key] = head
        last, loop = self._last, asyncio.get_running_loop()
        pool = last[1] if last is not None and last[0] is loop else await self.pool()
        try:
            reply = await pool.request(head, body, timeout, None if left is None else loop.time() + left)
        except HTTPError as exc:
            raise (self._refused(exc, head.url) if exc.kind == "request" else
                   self._failure(exc, head.url, model)) from None
        if reply.status >= 300:
            from . import _translate

            raise _translate.from_response(reply.status, reply.body, reply.headers, provider=self.provider,
                                           model=model, secrets=self._secrets, key_vars=self._key_vars,
                                           url=head.url, base_url=self.base_url)
        return Answer(reply.status, reply.headers, reply.body, head.url)

    def _failure(self, exc: HTTPError, url: str, model: str | None) -> Exception:
        from . import _translate

        return _translate.transport_failure(exc.kind, exc.reason, provider=self.provider, model=model, url=url,
                                            secrets=self._secrets)

    def _refused(self, exc: HTTPError | h11.LocalProtocolError, url: str) -> Exception:
        """h11 refused to write the request (nothing was sent): a ConfigurationError."""
        from .. import errors
        from .._redact import safe_url

        return errors.ConfigurationError(f"cannot send to {self.provider} at {safe_url(url)}: h11 refused the "
                                         f"request ({exc})")

    def _head(self, method: str, path: str, params: Mapping[str, str] | None, headers: Mapping[str, str] | None,
              json: bool) -> _framing.Head:
        """A request's head but its Content-Length (``_framing.Head``): the target the blocking road sends, and
        the provider's headers with the request's own, checked by h11."""
        from ._targets import check_target

        check_target(path)  # a name that reached the path unquoted: refused before a byte is written
        url = self.base_url + path
        target = self._target(url, params)
        extra = dict(headers or {})
        if json:
            extra.setdefault("Content-Type", "application/json")
        try:
            return _framing.Head.of(method.encode("ascii"), target.encode("ascii"), self._authority,
                                    self._with(extra, url), url)
        except h11.LocalProtocolError as exc:  # the request itself cannot be sent
            raise self._refused(exc, url) from None

    def _target(self, url: str, params: Mapping[str, str] | None) -> str:
        """The request target (path and query) the blocking road sends for ``url`` and ``params``: requests' URL
        preparation (non-ASCII and spaces percent-encoded, dot segments resolved)."""
        import requests

        prepared = requests.PreparedRequest()
        try:
            prepared.prepare_url(url, params)
        except (requests.exceptions.RequestException, ValueError) as exc:
            from .. import errors
            from .._redact import redact, safe_url

            raise errors.ConfigurationError(
                f"cannot send to {self.provider} at {safe_url(url)}: {redact(str(exc), self._secrets)}; check "
                f"its base_url (scheme and host, e.g. https://api.example.com/v1), its key and its headers"
            ) from None
        return prepared.path_url

    def _with(self, headers: Mapping[str, str], url: str) -> list[tuple[bytes, bytes]]:
        """The provider's headers with a request's own, which replace those of the same name (as requests
        merges a session's), but for the basic-auth Authorization of a base URL, which wins."""
        try:
            extra = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
                     if not (self._basic and name.lower() == "authorization")]
        except UnicodeEncodeError:  # http.client's Latin-1 header encoding, which requests has too
            from .. import errors
            from .._redact import safe_url

            bad = next(name for name, value in headers.items() if not f"{name}{value}".isascii())
            raise errors.ConfigurationError(f"cannot send to {self.provider} at {safe_url(url)}: the {bad} header "
                                            f"is not Latin-1 text; check where its value comes from") from None
        replaced = {name.lower() for name, _ in extra} & self._names
        if not replaced:
            return [*self._headers, *extra]
        return [*(pair for pair in self._headers if pair[0].lower() not in replaced), *extra]

    def close(self) -> None:
        """Close idle connections: at once for the running loop, soon (thread-safe) for the others."""
        with self._lock:
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
