"""The WebSocket under a session: where it goes (``Endpoint``), opening it with ``websockets`` (the
``pepperpy[realtime]`` extra, imported here and only when a session opens), and what its failures mean.

The connection honours what the blocking road honours: the environment's proxy for the provider's address
(``HTTPS_PROXY`` / ``NO_PROXY``, decided as requests decides it and passed explicitly: websockets would
otherwise read the environment itself), the CA bundle (``REQUESTS_CA_BUNDLE``), the Client's connect timeout
for the whole handshake, and a bounded message size. A refused handshake (401, 403...), a close with an error
code and an ``error`` event become the typed errors ``http._translate`` makes of them; nothing shows the key.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._redact import redact, safe_url
from ..errors import (
    ConfigurationError,
    PepperpyError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    StreamError,
)
from ..http import _translate
from ..http._framing import ssl_context
from ..http._sessions import USER_AGENT

__all__ = ["INSTALL_HINT", "MAX_MESSAGE_BYTES", "Endpoint", "closed_error", "handshake_error", "opened",
           "ready_timeout", "websockets_module"]

MAX_MESSAGE_BYTES = 16 * 2 ** 20  # the largest server message read (OpenAI's audio deltas are a few KB)
MAX_QUEUE = 16  # messages buffered ahead of the reader (websockets' flow control): memory stays flat
INSTALL_HINT = 'pip install "pepperpy[realtime]"'
_NORMAL_CLOSES = frozenset({1000, 1001, 1005, 1006})


def websockets_module() -> Any:
    """``websockets``, or ConfigurationError saying how to install it."""
    try:
        import websockets
    except ImportError:
        raise ConfigurationError(f"realtime sessions need the websockets package: {INSTALL_HINT} (or pip install "
                                 f"websockets)") from None
    return websockets


@dataclass(frozen=True)
class Endpoint:
    """Where one session connects and with what: never printed whole (``headers`` hold the key)."""

    provider: str
    model: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    proxy: str | None = field(default=None, repr=False)
    verify: bool | str = True
    secrets: tuple[str, ...] = field(default=(), repr=False)
    key_vars: tuple[str, ...] = ()
    timeout: tuple[float, float] = (10.0, 60.0)

    def options(self, connect_timeout: float) -> dict[str, Any]:
        """The keyword arguments of websockets' ``connect`` (sync and asyncio alike)."""
        return {"additional_headers": dict(self.headers), "user_agent_header": USER_AGENT,
                "proxy": self.proxy, "ssl": self.ssl_context(), "compression": None, "open_timeout": connect_timeout,
                "max_size": MAX_MESSAGE_BYTES, "max_queue": MAX_QUEUE, "close_timeout": 2.0}

    def ssl_context(self) -> ssl.SSLContext | None:
        return ssl_context(self.verify) if self.url.startswith("wss://") else None

    @property
    def where(self) -> str:
        return f"{self.provider} at {safe_url(self.url.partition('?')[0])}"


def handshake_error(exc: BaseException, endpoint: Endpoint) -> PepperpyError:
    """The typed error of a session that could not open (raised ``from`` ``exc`` by the caller)."""
    websockets = websockets_module()
    errors_ = websockets.exceptions
    common: dict[str, Any] = {"provider": endpoint.provider, "model": endpoint.model,
                              "url": endpoint.url.partition("?")[0], "secrets": endpoint.secrets}
    if isinstance(exc, errors_.InvalidStatus):
        response = exc.response
        return _translate.from_response(response.status_code, bytes(response.body or b""),
                                        {k.lower(): v for k, v in response.headers.raw_items()},
                                        key_vars=endpoint.key_vars, **common)
    if isinstance(exc, errors_.InvalidURI):
        return ConfigurationError(f"cannot open a realtime session with {endpoint.where}: the address is not a "
                                  f"WebSocket URL; check the provider's base_url (e.g. https://api.openai.com/v1)")
    if isinstance(exc, (errors_.InvalidProxy, errors_.ProxyError)) or (
            isinstance(exc, ImportError) and "socks" in str(exc).lower()):
        proxy = safe_url(endpoint.proxy or "")
        return ProviderConnectionError(
            f"could not reach {endpoint.where} through the proxy {proxy}: {redact(str(exc), endpoint.secrets)}; check "
            f"HTTPS_PROXY / HTTP_PROXY, and NO_PROXY for the hosts to reach directly (a socks:// proxy needs "
            f"pip install python-socks)", provider=endpoint.provider, model=endpoint.model)
    if isinstance(exc, errors_.ConnectionClosed):
        return closed_error(exc, endpoint)
    if isinstance(exc, TimeoutError):
        return _translate.transport_failure("timeout", "the WebSocket handshake took too long", **common)
    if isinstance(exc, ssl.SSLError):
        return _translate.transport_failure("tls", str(exc), **common)
    if endpoint.proxy and isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError):
        return ProviderConnectionError(
            f"could not reach {endpoint.where} through the proxy {safe_url(endpoint.proxy)}: "
            f"{redact(str(exc), endpoint.secrets)[:300]}; check HTTPS_PROXY / HTTP_PROXY, and NO_PROXY for the hosts "
            f"to reach directly", provider=endpoint.provider, model=endpoint.model)
    if isinstance(exc, errors_.InvalidHandshake):
        return ProviderConnectionError(f"{endpoint.where} did not open a WebSocket: "
                                       f"{redact(str(exc), endpoint.secrets)[:300]}; check the provider's base_url",
                                       provider=endpoint.provider, model=endpoint.model)
    return _translate.transport_failure("connect", str(exc) or type(exc).__name__, **common)


def closed_error(exc: BaseException, endpoint: Endpoint, *, last_error: ProviderError | None = None,
                 what_arrived: str = "", went_away: bool = False, details: Any = None) -> ProviderError:
    """The typed error of a session the provider closed (``websockets.exceptions.ConnectionClosed``): an error
    code says what it means; a normal close or a dropped connection mid-turn is a StreamError with what arrived."""
    received = getattr(exc, "rcvd", None)
    code = received.code if received is not None else 1006
    reason = received.reason if received is not None else ""
    if code not in _NORMAL_CLOSES or last_error is not None:
        error = _translate.from_close(code, reason, provider=endpoint.provider, model=endpoint.model,
                                      secrets=endpoint.secrets, key_vars=endpoint.key_vars, last_error=last_error)
        if details is not None and error.details is None:
            error.details = details
        return error
    how = "closed the session" if received is not None else "dropped the connection"
    why = (" after announcing it would (goAway: the session reached its time limit; open a new one)" if went_away
           else "")
    text = f"{endpoint.where} {how}{why}{f' mid-turn; what arrived: {what_arrived}' if what_arrived else ''}"
    return StreamError(redact(text, endpoint.secrets), provider=endpoint.provider, model=endpoint.model,
                       details=details if details is not None else {"close_code": code, "close_reason": reason})


def opened(wire: Any, endpoint: Endpoint, frame: str | bytes) -> bool:
    """Whether ``frame``, read while the session opens, says it is set up; an error event raises its typed error
    (an invalid key: AuthenticationError)."""
    try:
        message = json.loads(frame)
    except ValueError:
        return False
    if not isinstance(message, dict):
        return False
    if wire.ready(message):
        return True
    if message.get("type") == "error":
        raise _translate.from_realtime_error(message, provider=endpoint.provider, model=endpoint.model,
                                             secrets=endpoint.secrets, key_vars=endpoint.key_vars)
    return False


def ready_timeout(endpoint: Endpoint, timeout: float) -> ProviderTimeoutError:
    return ProviderTimeoutError(f"{endpoint.where} did not confirm the session's settings within {timeout:g} s",
                                provider=endpoint.provider, model=endpoint.model)
