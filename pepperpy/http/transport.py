"""HTTP for one provider: a pooled ``requests.Session``, explicit timeouts, uploads streamed from disk,
bounded downloads, and a response's bytes as they arrive (the SSE / NDJSON readers over them are ``_sse``'s,
re-exported here).

This module and its two halves are where a provider's calls touch requests and urllib3: ``_session`` builds
the sessions (the environment's proxies and CA bundle read once), ``_download`` is ``Transport.download``.
Their exceptions and non-2xx answers leave as pepperpy errors (built by ``_translate``), always raised
``from`` the original.

Files both ways (media, batch jobs, videos):

- ``Request(upload=Multipart(...))`` or ``Request(upload=Upload.of(path))`` sends a form or a raw body
  streamed block by block from its source (``pepperpy._files``), a fresh reader per attempt, so a retry
  resends it whole;
- ``Transport.download(url, max_bytes=..., into=file)`` fetches a URL the provider answered with (an image,
  a video's content): bounded in size, with the provider's timeouts, the key sent only to the provider's own
  origin, and redirects followed by a session that carries no key at all.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

import requests
import urllib3
from requests.adapters import BaseAdapter

from .. import errors
from .._redact import header_problem, redact, safe_url, url_secrets
from ..types._value import Value
from . import _cancel, _deadline
from ._async_limits import ConnectionLimits
from ._cancellable import CancellableAdapter
from ._sessions import USER_AGENT, provider_session
from ._sse import iter_lines, iter_ndjson, iter_sse
from ._targets import check_target

if TYPE_CHECKING:
    from ._multipart import Multipart
    from ._upload import Upload

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT", "DEFAULT_MAX_DOWNLOAD", "DEFAULT_POOL_MAXSIZE", "DEFAULT_TIMEOUT", "MAX_REDIRECTS",
    "USER_AGENT", "Request", "Transport", "interrupt", "iter_body", "iter_lines", "iter_ndjson", "iter_sse",
    "stream_watch",
]

DEFAULT_TIMEOUT = 60.0          # seconds to wait for the answer (read timeout)
DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds to open the connection
DEFAULT_POOL_MAXSIZE = 32       # pooled connections per provider (one per concurrent thread)
DEFAULT_MAX_DOWNLOAD = 100_000_000  # bytes a download may bring unless the caller says otherwise
MAX_REDIRECTS = 5               # hops a download follows (without the key)


class Request(Value):
    """A plain description of one HTTP call, built by a dialect and sent by a Transport."""

    method: str
    path: str                     # appended to the base URL, or an absolute URL
    json: Any = None
    headers: Mapping[str, str] | None = None
    params: Mapping[str, str] | None = None
    data: Mapping[str, str] | None = None  # form body (OAuth token requests)
    stream: bool = False
    upload: Multipart | Upload | None = None  # a multipart form or a raw file body, streamed from its source

    @property
    def upload_bytes(self) -> int:
        """The size of the files this request sends (0 without an upload)."""
        upload = self.upload
        if upload is None:
            return 0
        from ._multipart import Multipart

        return upload.upload_bytes if isinstance(upload, Multipart) else upload.size


class Transport:
    """One provider's connection pool. Thread-safe: requests' Session and urllib3's pool are.

    ``adapter`` replaces the pooled HTTP adapter for both schemes (the seam ``Client(transport=...)`` uses,
    as ``Session.mount`` does in requests): a fake for tests, or an adapter of the caller's own.
    """

    def __init__(self, provider: str, base_url: str, headers: Mapping[str, str], *,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT, pool_maxsize: int = DEFAULT_POOL_MAXSIZE,
                 secrets: Sequence[str] = (), key_vars: Sequence[str] = (),
                 adapter: BaseAdapter | None = None, connections: ConnectionLimits | None = None) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout if isinstance(timeout, tuple) else (min(DEFAULT_CONNECT_TIMEOUT, timeout), timeout)
        self._secrets = (*secrets, *url_secrets(self.base_url))  # a password in base_url is one too
        self._key_vars = tuple(key_vars)
        session = provider_session(self.base_url, headers)  # the environment's proxies and CA bundle, read once
        if adapter is None:
            adapter = CancellableAdapter(pool_connections=1, pool_maxsize=pool_maxsize, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        self.session = session
        self._adapter = adapter
        self._bare: requests.Session | None = None  # downloads away from the provider: no key, ever
        # acomplete / aembed speak HTTP/1.1 on the event loop (``_async_client``) when nothing needs requests:
        # no custom adapter, no proxy; token-based auth (set on the session later) is checked per request
        self._pool_maxsize = pool_maxsize
        self._native = isinstance(adapter, CancellableAdapter) and not session.proxies.get(
            urllib.parse.urlsplit(self.base_url).scheme) and not session.proxies.get("all")
        self._async: Any = None  # an ``_async_client.AsyncSide``, made at the first ``asend``
        self._connections = connections  # shared with the Client's other providers (``_async_limits``)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The credentials this provider's requests carry (the key, a password in base_url): what every error
        and log line about it is scrubbed of; a realtime session's too."""
        return self._secrets

    @property
    def key_vars(self) -> tuple[str, ...]:
        """Where the key can be set, for the hint of an AuthenticationError."""
        return self._key_vars

    def async_ready(self, request: Request) -> bool:
        """Whether ``asend`` can send ``request`` (else ``send`` runs in a worker thread): a plain JSON request
        to this provider, directly (no proxy, no token-based auth, no custom adapter)."""
        return (self._native and self.session.auth is None and not request.stream and request.upload is None
                and request.data is None and not request.path.startswith(("http://", "https://")))

    def asend(self, request: Request, *, model: str | None = None,
              timeout: float | tuple[float, float] | None = None) -> Awaitable[requests.Response]:
        """``send`` on the running event loop (``async_ready`` requests only), to await: the 2xx response or the
        error. (The event loop's client's own coroutine, not one wrapped around it: a level of awaits less per
        call; a body that cannot be sent as JSON raises here.)"""
        side = self._async
        if side is None:  # h11 and the event loop's client load at the first async call
            from ._async_client import AsyncSide

            verify = self.session.verify
            side = self._async = AsyncSide(
                self.provider, self.base_url,
                {k: v if isinstance(v, str) else v.decode("latin-1") for k, v in self.session.headers.items()},
                verify=verify if isinstance(verify, (bool, str)) else True, max_connections=self._pool_maxsize,
                secrets=self._secrets, key_vars=self._key_vars, limits=self._connections)
        body = self._encode(request.json) if request.json is not None else None
        if timeout is None:
            timeout = self.timeout
        elif not isinstance(timeout, tuple):
            timeout = (min(DEFAULT_CONNECT_TIMEOUT, timeout), timeout)
        left = timeout.left if isinstance(timeout, _deadline.Clipped) else None
        # the path is checked (``_targets.check_target``) the first time it is sent: no name reaches it unquoted
        sent: Awaitable[requests.Response] = side.send(request.method, request.path, request.params, request.headers,
                                                       body, json=request.json is not None, model=model,
                                                       timeout=timeout, left=left)
        return sent

    def release_loop(self) -> None:
        """Close the running event loop's idle async connections (it is about to end)."""
        if self._async is not None:
            self._async.release()

    def url(self, path: str) -> str:
        """The absolute URL of ``path``: a URL the provider answered with as it is, else under the base URL, the
        path checked first (``_targets.check_target``: no name reaches it unquoted)."""
        if path.startswith(("http://", "https://")):
            return path
        check_target(path)
        return self.base_url + path

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
        from ._download import fetch  # with the first download, never for a chat call

        return fetch(self, url, max_bytes=max_bytes, into=into, model=model, timeout=timeout,
                     max_redirects=MAX_REDIRECTS)

    def send(self, request: Request, *, model: str | None = None,
             timeout: float | tuple[float, float] | None = None) -> requests.Response:
        """Send one request; return the 2xx response or raise the typed error."""
        url = self.url(request.path)
        headers = request.headers
        body: Any = request.data
        if request.json is not None:
            body = self._encode(request.json)
            headers = {"Content-Type": "application/json", **(headers or {})}
        elif request.upload is not None:  # a fresh reader per attempt: a retry resends the whole body
            from ._multipart import Multipart  # loaded by the media calls that made the upload

            upload = request.upload
            content_type = upload.content_type if isinstance(upload, Multipart) else upload.mime_type
            body = upload.open()
            headers = {"Content-Type": content_type, "Content-Length": str(len(upload) if isinstance(
                upload, Multipart) else upload.size), **(headers or {})}
        watch = None
        if isinstance(timeout, _deadline.Clipped):  # total_timeout: the socket is shut down when it runs out
            watch = _deadline.Watch()
            watch.arm(timeout.left)
        try:
            # Redirects are not followed: requests would carry x-api-key / x-goog-api-key to the new host.
            response = self._request(self.session, request.method, url, model, data=body, params=request.params,
                                     headers=headers or None, stream=request.stream,
                                     timeout=timeout if timeout is not None else self.timeout, watch=watch)
        finally:
            if watch is not None:
                watch.disarm()
            if request.upload is not None:
                body.close()
        if isinstance(timeout, _deadline.Clipped) and request.stream:  # its chunks' waits (``stream_watch``)
            response.pepperpy_watch = (watch, timeout.total)  # type: ignore[attr-defined]
        if response.status_code >= 300:
            raise self._failure(response, model, url)
        return response

    def _request(self, session: requests.Session, method: str, url: str, model: str | None,
                 watch: _deadline.Watch | None = None, **options: Any) -> requests.Response:
        scope = _cancel.current()  # a batch or an awaited call that may be cancelled (see _cancel)
        if scope is not None:
            scope.check()
        token = watch.enter() if watch is not None else None
        try:
            return session.request(method, url, allow_redirects=False, **options)
        except _SETUP_ERRORS as exc:  # nothing was sent: a configuration mistake, never a provider failure
            if isinstance(exc.args[0] if exc.args else None, urllib3.exceptions.InvalidHeader):
                raise self._broken(exc, model, url, watch) from exc  # urllib3's: the answer's head, not ours
            # requests' InvalidHeader quotes the header's value, which may be a credential: name the header only
            reason = (_header_fault(session, options.get("headers"), url)
                      if isinstance(exc, requests.exceptions.InvalidHeader) else redact(str(exc), self._secrets))
            raise errors.ConfigurationError(
                f"cannot send to {self.provider} at {safe_url(url)}: {reason}"
                f"; check its base_url (scheme and host, e.g. https://api.example.com/v1), its key and its "
                f"headers") from None
        except UnicodeError:  # http.client's Latin-1 header encoding; the error's repr holds the whole header
            raise errors.ConfigurationError(
                f"cannot send to {self.provider}: {_header_fault(session, options.get('headers'), url)}") from None
        except requests.RequestException as exc:
            if scope is not None and scope.cancelled:  # the scope shut this request's socket down
                raise _cancel.Cancelled from exc
            proxy = requests.utils.select_proxy(url, options.get("proxies") or session.proxies)
            from . import _translate  # failures only: a call that works never loads it

            raise _translate.from_transport_error(exc, provider=self.provider, model=model, url=url,
                                                  secrets=self._secrets, proxy=proxy,
                                                  expired=watch is not None and watch.expired) from exc
        except errors.PepperpyError:  # an upload's own check (the file changed while it was sent)
            raise
        except (ValueError, urllib3.exceptions.HTTPError, http.client.HTTPException) as exc:  # a bad body read
            raise self._broken(exc, model, url, watch) from exc
        finally:
            if token is not None:
                _deadline.Watch.leave(token)

    def _broken(self, exc: BaseException, model: str | None, url: str,
                watch: _deadline.Watch | None) -> errors.ProviderError:
        """The typed error for an answer urllib3 could not read, requests left unwrapped."""
        from . import _translate

        return _translate.from_transport_error(exc, provider=self.provider, model=model, url=url, streaming=True,
                                               secrets=self._secrets, expired=watch is not None and watch.expired)

    def _failure(self, response: requests.Response, model: str | None, url: str) -> errors.ProviderError:
        try:  # a streamed answer (a download) is read only so far: an error page may be anything
            streamed = not getattr(response, "_content_consumed", True) and response.raw is not None
            content = response.raw.read(_MAX_ERROR_BODY, decode_content=True) if streamed else response.content
        except (requests.RequestException, OSError, ValueError, urllib3.exceptions.HTTPError):
            content = b""
        finally:
            response.close()
        from . import _translate

        return _translate.from_response(response.status_code, content or b"", response.headers,
                                        provider=self.provider, model=model, secrets=self._secrets,
                                        key_vars=self._key_vars, url=url, base_url=self.base_url)

    def _encode(self, body: Any) -> bytes:
        try:
            return _JSON.encode(body).encode()
        except (TypeError, ValueError) as exc:
            raise errors.ValidationError(
                f"the request to {self.provider} cannot be sent as JSON ({exc}); pass only JSON values: strings, "
                f"finite numbers, booleans, None, lists and dicts with string keys", param="params",
                value=type(exc).__name__) from exc

    def scrub(self, exc: errors.ProviderError) -> errors.ProviderError:
        """Remove this provider's credentials from an error raised outside ``send`` (mid-stream)."""
        from . import _translate

        return _translate.scrub(exc, self._secrets)

    def close(self) -> None:
        close_auth = getattr(self.session.auth, "close", None)  # token-based auth owns a session of its own
        if close_auth is not None:
            close_auth()
        self.session.close()
        if self._bare is not None:
            self._bare.close()
        if self._async is not None:
            self._async.close()

    def __repr__(self) -> str:
        return f"<Transport {self.provider} {safe_url(self.base_url)}>"


def _header_fault(session: requests.Session, extra: Mapping[str, str] | None, url: str) -> str:
    """Which header cannot be sent, and why, without its value (the checks before sending catch keys, variables
    and catalog headers by their source; this names what got past them)."""
    for name, value in {**session.headers, **(extra or {})}.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        problem = header_problem(text) or ("starts or ends with whitespace" if text != text.strip() else None)
        if problem:
            return f"the {name} header {problem.split('; ')[0]}; check where its value comes from"
    parts = urllib.parse.urlsplit(url)
    if parts.username or parts.password:
        return "the user name or password in its base_url cannot be sent in an HTTP header"
    return "a header of the request cannot be sent in HTTP; check the provider's headers and key"


_MAX_ERROR_BODY = 1_000_000  # bytes of an error answer read for its message
_JSON = json.JSONEncoder(allow_nan=False)  # json.dumps(body, allow_nan=False), without making one per request

# requests errors raised before anything is sent: bad URL, bad header value (a key with a newline)
_SETUP_ERRORS = (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
                 requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader)


# --------------------------------------------------------------------------- a response's bytes

def iter_body(response: requests.Response) -> Iterator[bytes]:
    """The body's bytes as they arrive (each HTTP chunk, or whatever one read returns)."""
    raw = response.raw
    if raw.chunked and raw.supports_chunked_reads():
        return raw.read_chunked(decode_content=True)  # the generator itself, no wrapper: hot path
    return _iter_reads(raw)


def stream_watch(response: Any) -> tuple[_deadline.Watch | None, float]:
    """A streamed answer's total_timeout watch and its seconds (each wait for the next chunk gets them), or
    (None, 0) when the call has no total_timeout."""
    found: tuple[_deadline.Watch, float] | None = getattr(response, "pepperpy_watch", None)
    return found if found is not None else (None, 0.0)


def interrupt(response: requests.Response) -> None:
    """Wake a thread blocked reading ``response`` by shutting its socket down (safe from any thread,
    unlike closing the response under the reader's feet). The reader then sees the stream break."""
    connection = getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed: nothing left to wake
            pass


def _iter_reads(raw: Any) -> Iterator[bytes]:
    read1 = getattr(raw, "read1", None)
    while True:
        data = read1(65536, decode_content=True) if read1 is not None else raw.read(8192, decode_content=True)
        if not data:
            return
        yield data
