"""``Transport.download``: a URL the provider answered with (an image, a video's content), fetched bounded in
size, with the provider's timeouts, its key sent only to its own origin, and redirects followed by a session
that carries no key at all. A mixin of ``transport.Transport``, which sends and translates the errors.
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import IO, TYPE_CHECKING, Any

import requests

from .. import errors
from .._redact import safe_url
from . import _translate
from ._sessions import keyless_session

if TYPE_CHECKING:
    from requests.adapters import BaseAdapter

__all__ = ["DEFAULT_MAX_DOWNLOAD", "MAX_REDIRECTS", "DownloadMixin"]

DEFAULT_MAX_DOWNLOAD = 100_000_000  # bytes a download may bring unless the caller says otherwise
MAX_REDIRECTS = 5               # hops a download follows (without the key)


class DownloadMixin:
    """``download`` for :class:`pepperpy.transport.Transport` (see the module docstring)."""

    if TYPE_CHECKING:
        provider: str
        base_url: str
        timeout: tuple[float, float]
        session: requests.Session
        _adapter: BaseAdapter
        _bare: requests.Session | None
        _secrets: tuple[str, ...]

        def url(self, path: str) -> str: ...

        def _request(self, session: requests.Session, method: str, url: str, model: str | None,
                     **options: Any) -> requests.Response: ...

        def _failure(self, response: requests.Response, model: str | None, url: str) -> errors.ProviderError: ...

    def download(self, url: str, *, max_bytes: int = DEFAULT_MAX_DOWNLOAD, into: IO[bytes] | None = None,
                 model: str | None = None, timeout: float | tuple[float, float] | None = None) -> bytes | int:
        """The body at ``url``: returned as bytes, or written to the binary file ``into`` (its size returned).

        ``url`` is one the provider answered with (an image URL, a video's content URL) or a path under the
        base URL. The provider's key goes only to the provider's own origin (scheme, host and port of its base
        URL); any other URL, and every redirect, is fetched by a session that carries no key, following at
        most MAX_REDIRECTS redirects. The provider's timeouts apply to each hop. A body over ``max_bytes``
        (by its Content-Length, or counted as it arrives) raises ProviderAPIError without reading on.

        Batch jobs and videos use it as is::

            with open("video.mp4", "wb") as out:     # 302 to a CDN: followed without the key
                transport.download(f"/videos/{video_id}/content", max_bytes=2_000_000_000, into=out)
        """
        target = self.url(url)
        session = self.session if self._same_origin(target) else self._keyless()
        timeout = timeout if timeout is not None else self.timeout
        for _ in range(MAX_REDIRECTS + 1):
            response = self._request(session, "GET", target, model, stream=True, timeout=timeout,
                                     proxies=None if session is self.session else _proxies(target))
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                break
            response.close()
            target = urllib.parse.urljoin(target, location)
            session = self._keyless()  # never the key after a redirect, even back to the provider's host
        else:
            raise errors.ProviderAPIError(f"the download from {self.provider} was redirected more than "
                                          f"{MAX_REDIRECTS} times; last to {safe_url(target)}",
                                          provider=self.provider, model=model, status_code=response.status_code)
        if response.status_code >= 300:
            raise self._failure(response, model, target)
        return self._read_bounded(response, target, max_bytes, into, model)

    def _read_bounded(self, response: requests.Response, url: str, max_bytes: int, into: IO[bytes] | None,
                      model: str | None) -> bytes | int:
        from ._upload import BLOCK_SIZE
        def too_large(size: str) -> errors.ProviderAPIError:
            return errors.ProviderAPIError(
                f"the download from {safe_url(url)} is {size}over its limit of {max_bytes:,} bytes; nothing more "
                f"was read", provider=self.provider, model=model, status_code=response.status_code)

        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            response.close()
            raise too_large(f"{int(declared):,} bytes, ")
        parts: list[bytes] = []
        received = 0
        try:
            for block in response.iter_content(BLOCK_SIZE):
                received += len(block)
                if received > max_bytes:
                    raise too_large("")
                if into is not None:
                    into.write(block)
                else:
                    parts.append(block)
        except requests.RequestException as exc:
            raise _translate.from_transport_error(exc, provider=self.provider, model=model, url=url, streaming=True,
                                                  secrets=self._secrets) from exc
        finally:
            response.close()
        return received if into is not None else b"".join(parts)

    def _same_origin(self, url: str) -> bool:
        return _origin(url) == _origin(self.base_url)

    def _keyless(self) -> requests.Session:
        """The key-less session (``_session.keyless_session``), built once, on the provider's adapter."""
        bare = self._bare
        if bare is None:
            with _BARE_LOCK:
                bare = self._bare
                if bare is None:
                    bare = self._bare = keyless_session(self.session.verify, self._adapter)
        return bare


_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_BARE_LOCK = threading.Lock()  # building a Transport's key-less session (once, rarely contended)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def _proxies(url: str) -> dict[str, str]:
    return dict(requests.utils.get_environ_proxies(url))
