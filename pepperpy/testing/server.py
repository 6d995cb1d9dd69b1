"""An offline HTTP server that speaks the providers' wire formats, for tests.

One server answers every dialect at once, told apart by path: OpenAI-compatible
(``.../chat/completions``, ``.../embeddings``, ``.../models``), Anthropic (``/v1/messages``),
Gemini (``/v1beta/models/{model}:generateContent`` ...), Ollama (``/api/chat`` ...) and StackSpot
(``/{realm}/oidc/oauth/token``, ``/v1/agent/{id}/chat``).

Tests script what comes next in one FIFO queue: ``reply()`` for chat answers, ``fail()`` for HTTP
errors with each dialect's native body, ``fault()`` for transport trouble. When the queue is
empty, chat answers echo the last user message. Every request is recorded.

>>> import requests
>>> with FakeProviderServer() as server:
...     _ = server.reply("Hello there", usage=(10, 5))
...     answer = requests.post(
...         server.base_url("openai") + "/chat/completions",
...         json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
...         timeout=5,
...     ).json()
...     answer["choices"][0]["message"]["content"], answer["usage"]["total_tokens"]
('Hello there', 15)
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pepperpy.testing._handler import HTTPServer
from pepperpy.testing._listing import ListingModel
from pepperpy.testing._queue import Script as Script  # kept importable from here, where it used to live
from pepperpy.testing._queue import ScriptQueue
from pepperpy.testing._stackspot import oidc_error

if TYPE_CHECKING:
    from pepperpy.testing._realtime import FakeRealtimeServer

__all__ = ["DEFAULT_MODELS", "DEFAULT_TOKEN_TTL", "FakeProviderServer"]

DEFAULT_TOKEN_TTL = 1200
"""``expires_in`` of the StackSpot tokens the server issues, in seconds."""

DEFAULT_MODELS = ("fake-chat", "fake-embed")
"""What the model listings return unless ``server.models`` is changed."""

_BASE_PATHS = {"anthropic": "", "gemini": "/v1beta", "google": "/v1beta", "ollama": "", "stackspot": ""}


class FakeProviderServer(ScriptQueue):
    """A loopback server speaking OpenAI, Anthropic, Gemini, Ollama and StackSpot wire formats.

    Scripting (``reply``, ``fail``, ``fault``, ``clear``, ``requests``, ``pending``) is shared with ``FakeAdapter``.
    Settings are plain attributes, read on every request:

    - ``default_delay``: seconds to wait before every answer (token endpoint and errors included).
    - ``require_auth``: when True, OpenAI/Anthropic/Gemini routes reject a missing key with the
      provider's native error (Ollama never asks; StackSpot always needs a token).
    - ``api_key``: when set, keys must equal it (and are required).
    - ``token_ttl``: StackSpot token lifetime in seconds; expired tokens get 401.
    - ``stackspot_credentials``: ``(client_id, client_secret)`` the token endpoint accepts;
      None accepts any non-empty pair.
    - ``models``: what the model listings return: names, or entries in catalog terms (``{"id": ...,
      "context_window": ..., "pricing": {...}}``), each listing in its provider's format (``_listing``).
    - ``page_size``: the largest page a paged listing (Anthropic, Gemini) returns; None: the provider's own.

    >>> with FakeProviderServer() as server:
    ...     server.base_url("gemini") == server.url + "/v1beta"
    True
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__()
        self.host = host
        self.default_delay = 0.0
        self.require_auth = False
        self.api_key: str | None = None
        self.token_ttl = DEFAULT_TOKEN_TTL
        self.stackspot_credentials: tuple[str, str] | None = None
        self.models: list[ListingModel] = list(DEFAULT_MODELS)
        self.page_size: int | None = None
        self._requested_port = port
        self._errors: list[BaseException] = []
        self._connections = 0
        self._live: set[socket.socket] = set()
        self._tokens: dict[str, float] = {}
        self._tokens_issued = 0
        self._stopping = threading.Event()
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._realtime: FakeRealtimeServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeProviderServer:
        """Bind and serve in a daemon thread; returns the server for chaining."""
        if self._httpd is not None:
            raise RuntimeError("FakeProviderServer is already running; call stop() first")
        self._stopping.clear()
        self._httpd = HTTPServer((self.host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._accept_loop, args=(self._httpd,), name=f"FakeProviderServer:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and every open connection (idempotent)."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()  # also wakes handlers sleeping in delays and hangs
        try:  # unblock accept() with a throwaway connection, portable unlike shutdown()
            socket.create_connection((self.host, int(httpd.server_address[1])), timeout=1.0).close()
        except OSError:
            pass
        if thread is not None:
            thread.join(timeout=2.0)
        httpd.server_close()
        with self._lock:
            live = list(self._live)
            realtime, self._realtime = self._realtime, None
        if realtime is not None:
            realtime.stop()
        for connection in live:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its handler
        self._httpd = self._thread = None

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._httpd is None:
            raise RuntimeError("FakeProviderServer is not running; call start() or use it in a with block")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def base_url(self, provider: str) -> str:
        """The base URL a client of ``provider`` should use.

        ``anthropic``, ``ollama``, ``stackspot`` -> ``url``; ``gemini``/``google`` -> ``url + "/v1beta"``;
        any other name is taken as OpenAI-compatible -> ``url + "/v1"``.
        """
        return self.url + _BASE_PATHS.get(provider.lower(), "/v1")

    def token_url(self, realm: str) -> str:
        """The StackSpot OIDC token endpoint for ``realm``."""
        return f"{self.url}/{realm}/oidc/oauth/token"

    @property
    def realtime(self) -> FakeRealtimeServer:
        """The fake realtime server behind this one: WebSocket upgrades (``client.realtime`` sessions, whose
        address is the provider's base URL with ws:// for http://) are handed to it. Started on first use; script
        its answers here (``server.realtime.reply(...)``)."""
        with self._lock:
            if self._realtime is None:
                from pepperpy.testing._realtime import FakeRealtimeServer

                self._realtime = FakeRealtimeServer(self.host).start()
            return self._realtime

    # -- scripting (reply, fail, fault, clear: see ScriptQueue) ---------------------------------

    def revoke_tokens(self) -> None:
        """Invalidate every StackSpot token issued so far (the next agent call gets 401)."""
        with self._lock:
            self._tokens.clear()

    # -- observations (requests, pending: see ScriptQueue) ------------------------------------

    @property
    def connections(self) -> int:
        """How many TCP connections the server has accepted."""
        with self._lock:
            return self._connections

    @property
    def tokens_issued(self) -> int:
        """How many StackSpot tokens the token endpoint has issued."""
        with self._lock:
            return self._tokens_issued

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected exceptions raised inside the server (a bug if not empty)."""
        with self._lock:
            return list(self._errors)

    # -- used by the request handler -------------------------------------------------------------

    def _accept_loop(self, httpd: HTTPServer) -> None:
        # A blocking accept loop rather than serve_forever(), whose polling makes every stop()
        # wait up to one poll interval.
        while not self._stopping.is_set():
            try:
                connection, address = httpd.get_request()
            except OSError:
                self._stopping.wait(0.01)  # e.g. EMFILE: do not spin
                continue
            if self._stopping.is_set():
                connection.close()
                break
            try:
                httpd.process_request(connection, address)
            except Exception:
                httpd.handle_error(connection, address)
                httpd.shutdown_request(connection)

    def _wait(self, seconds: float) -> bool:
        """Sleep unless the server stops meanwhile; False means stop answering."""
        if seconds <= 0:
            return not self._stopping.is_set()
        return not self._stopping.wait(seconds)

    def _token(self, form: Mapping[str, str], serial: int) -> tuple[int, Any]:
        """The OIDC token endpoint: checks the client credentials, then issues ``fake-token-N``
        (N counts tokens, not requests: ``serial`` is unused here)."""
        if form.get("grant_type") != "client_credentials":
            return 400, oidc_error("unsupported_grant_type", "Unsupported grant_type")
        client = (form.get("client_id", ""), form.get("client_secret", ""))
        expected = self.stackspot_credentials
        if not all(client) or (expected is not None and client != tuple(expected)):
            return 401, oidc_error("invalid_client", "Invalid client or Invalid client credentials")
        with self._lock:
            self._tokens_issued += 1
            token = f"fake-token-{self._tokens_issued}"
            self._tokens[token] = time.monotonic() + self.token_ttl
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl}

    def _token_valid(self, token: str | None) -> bool:
        with self._lock:
            expiry = self._tokens.get(token or "")
        return expiry is not None and time.monotonic() < expiry

    def _connected(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections += 1
            self._live.add(connection)

    def _disconnected(self, connection: socket.socket) -> None:
        with self._lock:
            self._live.discard(connection)

    def _server_error(self, error: BaseException) -> None:
        with self._lock:
            self._errors.append(error)
