"""urllib3 connections that join the cancel scope of the call using them (``pepperpy._cancel``), and its
``total_timeout`` watch (``_deadline``).

``transport.Transport`` mounts ``CancellableAdapter`` (requests' pooled ``HTTPAdapter`` with these connection
classes) unless a custom adapter is given. A connection registers with the running call's scope when a request
starts on it and leaves the scope when it goes back to the pool or is closed, so ``CancelScope.cancel()`` shuts
down exactly the sockets its calls are using; a deadline watch shuts them down when the call's time is up.
Outside a scope and a watch each request costs two context-variable lookups.
"""

from __future__ import annotations

import http.client
import queue
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HeaderParsingError
from urllib3.util.response import assert_header_parsing

from . import _cancel, _deadline

__all__ = ["CancellableAdapter"]


class _Scoped:
    """What both connection classes add to urllib3's."""

    _scope: _cancel.CancelScope | None = None
    _watch: _deadline.Watch | None = None

    def request(self, *args: Any, **kwargs: Any) -> None:
        scope = _cancel.current()
        if scope is not None:
            scope.track(self)  # raises Cancelled when the scope already is
            self._scope = scope
        watch = _deadline.current()
        if watch is not None:
            watch.track(self)
            self._watch = watch
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        scope = self._scope
        if scope is not None:
            scope.check()  # cancelled while the request went out: do not wait for the answer
        response = super().getresponse()  # type: ignore[misc]
        refusal = framing_refusal(response)
        if refusal is not None:
            raise BadFraming(refusal)  # urllib3 closes this connection on the error
        return response

    def close(self) -> None:
        watch, sock = self._watch, getattr(self, "sock", None)
        if watch is not None and sock is not None:  # the answer may still be read through it (see Watch.adopt)
            watch.adopt(sock)
        leave_scope(self)
        super().close()  # type: ignore[misc]


class _HTTPConnection(_Scoped, HTTPConnection):
    pass


class _HTTPSConnection(_Scoped, HTTPSConnection):
    pass


class BadFraming(http.client.HTTPException):
    """An answer whose head urllib3 would read leniently; the transport reports it as not valid HTTP/1.1."""


def framing_refusal(response: Any) -> str | None:
    """What makes an answer's head invalid HTTP/1.1 where http.client and urllib3 would guess (the checks h11
    makes on the event loop): a header line without a colon, a Content-Length that is not digits, a
    Transfer-Encoding other than chunked. None for a valid head."""
    headers = response.headers
    length = headers.get("content-length")
    if length is not None and not all(part.strip().isdigit() for part in length.split(",")):
        return f"Content-Length {length[:40]!r} is not a number of bytes"
    encoding = headers.get("transfer-encoding")
    if encoding is not None and encoding.strip().lower() != "chunked":
        return f"Transfer-Encoding {encoding[:40]!r} is not chunked"
    original = getattr(response, "_original_response", None)  # http.client's (requests reads its cookies there)
    try:
        if original is not None:
            assert_header_parsing(original.msg)
    except HeaderParsingError:
        return "a header line without a colon"
    return None


def leave_scope(connection: Any) -> None:
    scope = connection._scope
    if scope is not None:
        connection._scope = None
        scope.untrack(connection)
    watch = connection._watch
    if watch is not None:
        connection._watch = None
        watch.untrack(connection)


class _Idle(queue.LifoQueue):  # type: ignore[type-arg]
    """A pool's idle connections. urllib3 fills a new pool with ``maxsize`` placeholders (None), one per allowed
    connection: 1,024 queue operations per provider for a Client whose ``max_concurrency`` is 1,024. Our pools
    never block (requests' ``pool_block=False``), and an empty pool makes a new connection just as a placeholder
    does, so placeholders are not kept; connections put back are, up to ``maxsize``."""

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is not None:
            super().put(item, block, timeout)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection
    QueueCls = _Idle

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            leave_scope(conn)  # back in the pool: no longer the scope's to shut down
        super()._put_conn(conn)


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection
    QueueCls = _Idle

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            leave_scope(conn)
        super()._put_conn(conn)


class CancellableAdapter(HTTPAdapter):
    """requests' pooled adapter, with connections that cancel scopes can abort."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
