"""``Transport.download``'s work: a URL the provider answered with (an image, a video's content), fetched bounded
in size, with the provider's timeouts, its key sent only to its own origin, and redirects followed by a session
that carries no key at all (``fetch``). The transport sends and translates the errors; this module loads with
the first download (media and jobs), never for a chat call.
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import IO, TYPE_CHECKING, Any, Protocol

import requests

from .. import errors
from .._redact import safe_url
from . import _translate
from ._sessions import keyless_session

if TYPE_CHECKING:
    from requests.adapters import BaseAdapter


class Transport(Protocol):
    """What a download reads of ``transport.Transport`` (which imports this module on its first download)."""

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

__all__ = ["fetch"]


def fetch(transport: Transport, url: str, *, max_bytes: int, into: IO[bytes] | None, model: str | None,
          timeout: float | tuple[float, float] | None, max_redirects: int) -> bytes | int:
    """``transport.download(...)`` (see its docstring): the body at ``url``, bounded, the key only to the
    provider's own origin."""
    target = transport.url(url)
    session = transport.session if _same_origin(transport, target) else _keyless(transport)
    timeout = timeout if timeout is not None else transport.timeout
    for _ in range(max_redirects + 1):
        response = transport._request(session, "GET", target, model, stream=True, timeout=timeout,
                                      proxies=None if session is transport.session else _proxies(target))
        location = response.headers.get("location")
        if response.status_code not in _REDIRECTS or not location:
            break
        response.close()
        target = urllib.parse.urljoin(target, location)
        session = _keyless(transport)  # never the key after a redirect, even back to the provider's host
    else:
        raise errors.ProviderAPIError(f"the download from {transport.provider} was redirected more than "
                                      f"{max_redirects} times; last to {safe_url(target)}",
                                      provider=transport.provider, model=model, status_code=response.status_code)
    if response.status_code >= 300:
        raise transport._failure(response, model, target)
    return _read_bounded(transport, response, target, max_bytes, into, model)


def _read_bounded(transport: Transport, response: requests.Response, url: str, max_bytes: int,
                  into: IO[bytes] | None, model: str | None) -> bytes | int:
    from ._upload import BLOCK_SIZE

    def too_large(size: str) -> errors.ProviderAPIError:
        return errors.ProviderAPIError(
            f"the download from {safe_url(url)} is {size}over its limit of {max_bytes:,} bytes; nothing more "
            f"was read", provider=transport.provider, model=model, status_code=response.status_code)

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
        raise _translate.from_transport_error(exc, provider=transport.provider, model=model, url=url, streaming=True,
                                              secrets=transport._secrets) from exc
    finally:
        response.close()
    return received if into is not None else b"".join(parts)


def _same_origin(transport: Transport, url: str) -> bool:
    return _origin(url) == _origin(transport.base_url)


def _keyless(transport: Transport) -> requests.Session:
    """The key-less session (``_session.keyless_session``), built once, on the provider's adapter."""
    bare = transport._bare
    if bare is None:
        with _BARE_LOCK:
            bare = transport._bare
            if bare is None:
                bare = transport._bare = keyless_session(transport.session.verify, transport._adapter)
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
