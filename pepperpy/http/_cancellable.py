"""urllib3 connections that join the cancel scope of the call using them (``pepperpy._cancel``).

``transport.Transport`` mounts ``CancellableAdapter`` (requests' pooled ``HTTPAdapter`` with these connection
classes) unless a custom adapter is given. A connection registers with the running call's scope when a request
starts on it and leaves the scope when it goes back to the pool or is closed, so ``CancelScope.cancel()`` shuts
down exactly the sockets its calls are using. Outside a scope each request costs one context-variable lookup.
"""

from __future__ import annotations

from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import _cancel

__all__ = ["CancellableAdapter"]


class _Scoped:
    """What both connection classes add to urllib3's."""

    _scope: _cancel.CancelScope | None = None

    def request(self, *args: Any, **kwargs: Any) -> None:
        scope = _cancel.current()
        if scope is not None:
            scope.track(self)  # raises Cancelled when the scope already is
            self._scope = scope
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        scope = self._scope
        if scope is not None:
            scope.check()  # cancelled while the request went out: do not wait for the answer
        return super().getresponse()  # type: ignore[misc]

    def close(self) -> None:
        leave_scope(self)
        super().close()  # type: ignore[misc]


class _HTTPConnection(_Scoped, HTTPConnection):
    pass


class _HTTPSConnection(_Scoped, HTTPSConnection):
    pass


def leave_scope(connection: Any) -> None:
    scope = connection._scope
    if scope is not None:
        connection._scope = None
        scope.untrack(connection)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            leave_scope(conn)  # back in the pool: no longer the scope's to shut down
        super()._put_conn(conn)


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            leave_scope(conn)
        super()._put_conn(conn)


class CancellableAdapter(HTTPAdapter):
    """requests' pooled adapter, with connections that cancel scopes can abort."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
