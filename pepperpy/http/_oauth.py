"""OAuth2 client-credentials authentication (StackSpot's), the one part of a provider's auth that does I/O.

A dialect says *which* token endpoint and credentials a provider uses (``Dialect.token_grant``); this module
fetches, caches and renews the tokens, on the Client's transport.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import BaseAdapter
from requests.auth import AuthBase

from .. import errors
from .._redact import header_problem, redact, safe_url
from . import _translate
from .transport import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, USER_AGENT

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = ["DEFAULT_TOKEN_TTL", "RENEW_MARGIN", "ClientCredentialsAuth"]

RENEW_MARGIN = 60.0        # seconds before expiry at which a token is renewed
DEFAULT_TOKEN_TTL = 300.0  # assumed lifetime when the IDM omits expires_in
Timeout = tuple[float, float]


class ClientCredentialsAuth(AuthBase):
    """OAuth2 client-credentials Bearer tokens for one set of credentials, shared by every thread of a Client.

    The first request fetches a token (concurrent threads wait for that one fetch, and share its token or
    its error: a failing IDM costs them one timeout, not one each), it is reused until ``RENEW_MARGIN``
    seconds before expiry, and a 401 answer re-fetches it once and resends the request.
    Token requests use their own small Session so they never carry (or recurse into) this auth; ``adapter``
    (the Client's ``transport=``) is mounted on it too, so a fake transport answers token requests as well.
    ``clock`` is injectable so tests can expire tokens without sleeping.
    """

    def __init__(self, token_url: str, client_id: str, client_secret: str, *, provider: str = "stackspot",
                 timeout: Timeout = (DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT), hint: str = "",
                 clock: Callable[[], float] = time.monotonic, adapter: BaseAdapter | None = None) -> None:
        self.token_url = token_url
        self.provider = provider
        self.timeout = timeout
        self.clock = clock
        self._form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        self._secrets = (client_secret,)
        self._hint = hint or "the client id and secret"
        self._lock = threading.Lock()  # guards the two below; never held while fetching
        self._current: tuple[str, float] | None = None  # (token, renew at); one attribute, read atomically
        self._pending: Future[str | None] | None = None  # the fetch under way; its waiters share its outcome
        self._session = requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        if adapter is not None:
            self._session.mount("http://", adapter)
            self._session.mount("https://", adapter)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token()}"
        r.hooks["response"].append(self._reauth_on_401)  # what register_hook does; that one is untyped
        return r

    def token(self) -> str:
        """A valid access token, fetched or renewed when needed."""
        current = self._current
        if current is not None and self.clock() < current[1]:
            return current[0]
        from concurrent.futures import Future  # on first fetch: it costs 6 ms to import

        while True:
            with self._lock:  # one fetch at a time; the threads that arrive meanwhile wait for its outcome
                current = self._current
                if current is not None and self.clock() < current[1]:
                    return current[0]
                pending = self._pending
                if pending is None:
                    pending = self._pending = Future()
                    break
            token = pending.result()  # that fetch's token, or its error raised here too
            if token is not None:
                return token
            # that fetch was interrupted (KeyboardInterrupt in its thread): this thread fetches instead
        return self._fetch_shared(pending)

    def _fetch_shared(self, pending: Future[str | None]) -> str:
        try:
            current = self._fetch()  # no lock held while the IDM answers: invalidate() never waits on it
        except BaseException as exc:
            with self._lock:
                self._pending = None  # threads arriving from now on try a fetch of their own
            if isinstance(exc, Exception):
                pending.set_exception(exc)
            else:
                pending.set_result(None)
            raise
        with self._lock:
            self._current, self._pending = current, None
        pending.set_result(current[0])
        return current[0]

    def invalidate(self, token: str) -> None:
        """Forget ``token`` unless another thread has already replaced it."""
        with self._lock:
            if self._current is not None and self._current[0] == token:
                self._current = None

    def close(self) -> None:
        self._session.close()

    def _reauth_on_401(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        # A token can be revoked or expire early; one fresh token decides whether the credentials are bad.
        # The resend goes straight to the adapter, which runs no hooks, so this happens at most once.
        if r.status_code != 401:
            return r
        sent = str(r.request.headers.get("Authorization", "")).removeprefix("Bearer ")
        r.content  # noqa: B018 - drain the body so the connection returns to the pool
        r.close()
        self.invalidate(sent)
        retry = r.request.copy()
        retry.headers["Authorization"] = f"Bearer {self.token()}"
        answer = r.connection.send(retry, **kwargs)
        answer.history.append(r)
        answer.request = retry
        return answer

    def _fetch(self) -> tuple[str, float]:
        started = self.clock()
        try:
            # No redirects: requests resends the form (the client secret in it) to the new host on a 307 or 308
            response = self._session.post(self.token_url, data=self._form, timeout=self.timeout,
                                          headers={"Accept": "application/json"}, allow_redirects=False)
        except requests.RequestException as exc:
            raise _translate.from_transport_error(exc, provider=self.provider, model=None, url=self.token_url) from exc
        with response:
            if 300 <= response.status_code < 400:
                target = safe_url(response.headers.get("location", "")) or "elsewhere"
                raise errors.InvalidRequestError(
                    f"the token endpoint {safe_url(self.token_url)} of {self.provider} answered "
                    f"{response.status_code}, a redirect to {target}: pepperpy does not follow redirects (they would "
                    f"carry the client secret to another host); set its auth_url to the final address",
                    provider=self.provider, status_code=response.status_code)
            if response.status_code >= 400:
                raise self._refused(response)
            try:
                payload = response.json()
                token = str(payload["access_token"])
                ttl = float(payload.get("expires_in") or DEFAULT_TOKEN_TTL)
            except (ValueError, KeyError, TypeError) as exc:
                raise errors.AuthenticationError(
                    f"the token endpoint {safe_url(self.token_url)} of {self.provider} answered without an "
                    f"access_token", provider=self.provider, status_code=response.status_code) from exc
            if not token or header_problem(token) or not token.isascii():  # it goes into every request's header
                raise errors.AuthenticationError(
                    f"the token endpoint {safe_url(self.token_url)} of {self.provider} answered with an "
                    f"access_token that cannot be sent in an HTTP header (empty, or not plain ASCII); check "
                    f"that the token URL is the provider's identity server", provider=self.provider,
                    status_code=response.status_code)
        return token, started + ttl - min(RENEW_MARGIN, ttl / 2)

    def _refused(self, response: requests.Response) -> errors.ProviderError:
        status = response.status_code
        if status == 429 or status >= 500:  # the IDM is busy or down, not the credentials: keep it retryable
            return _translate.from_response(status, response.content, response.headers, provider=self.provider,
                                        model=None, secrets=self._secrets)
        body = _translate.decode_body(response.content)
        reason = (body.get("error_description") or body.get("error")) if isinstance(body, dict) else body
        reason = redact(str(reason or "no reason given"), self._secrets)[:300]
        return errors.AuthenticationError(
            f"{self.provider} refused the client credentials ({status} from {safe_url(self.token_url)}: {reason}); "
            f"check "
            f"{self._hint}", provider=self.provider, status_code=status, details=reason)
