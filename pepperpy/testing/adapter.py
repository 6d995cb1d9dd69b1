"""Fake providers in-process, at the requests adapter level: no socket, no thread, no sleeping.

``FakeAdapter`` is a requests transport adapter that answers like every provider pepperpy speaks to. It has
the scripting API of ``FakeProviderServer`` (``reply``, ``fail``, ``fault``, ``requests``, ``pending``) and
renders the same native bodies, so a test written against one works against the other. Use the server
for what needs real sockets (timing, concurrency, connection reuse); use the adapter for fast unit tests.

``fake_providers(client)`` mounts one on a Client for the length of a ``with`` block; without a client it
fakes the default Client behind ``pepperpy.complete``:

>>> import pepperpy
>>> from pepperpy.testing import fake_providers
>>> with fake_providers(pepperpy.Client(env_file=None), replies=["Paris."]) as fake:   # doctest: +SKIP
...     ...

``server_environ(server)`` is the loopback counterpart: environment variables that point every catalog
provider at a running ``FakeProviderServer`` with a fake key, for apps that build their own Clients.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import requests
import urllib3
from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter

from pepperpy.testing._listing import ListingModel
from pepperpy.testing._play import play, read_request
from pepperpy.testing._queue import ScriptQueue
from pepperpy.testing._response import body_bytes, response
from pepperpy.testing._script import Reply
from pepperpy.testing.server import DEFAULT_MODELS, DEFAULT_TOKEN_TTL

if TYPE_CHECKING:
    from pepperpy.catalog import Catalog
    from pepperpy.client import Client
    from pepperpy.testing._realtime import FakeRealtimeServer
    from pepperpy.testing.server import FakeProviderServer
    from pepperpy.types import ProviderSpec

__all__ = ["FAKE_API_KEY", "FakeAdapter", "fake_providers", "server_environ"]

FAKE_API_KEY = "pepperpy-fake-key"
"""The key every provider gets inside ``fake_providers`` and from ``server_environ``."""

_CREDENTIAL_OPTIONS = ("client_id_env", "realm_env")  # catalog options naming extra credentials (StackSpot)


class FakeAdapter(ScriptQueue, BaseAdapter):
    """A requests adapter answering every pepperpy dialect from a script, in the calling thread.

    Mount it on any ``requests.Session`` (``session.mount("https://", adapter)``), or let
    ``fake_providers`` mount it on a Client. Scripts are one FIFO queue, as on ``FakeProviderServer``;
    with nothing queued, chat answers echo the last user message (``"echo: <prompt>"``) and embeddings
    are deterministic vectors (``embedding_vector``); ``client.realtime`` sessions go to a FakeRealtimeServer
    (``adapter.realtime``, started on first use). Differences from the server, on purpose: ``Reply.delay``
    and ``chunk_delay`` are not slept, API keys and token credentials are never checked, and
    ``Fault.hang(s)`` raises a read timeout at once when ``s`` reaches the request's read timeout (else it
    answers normally).

    >>> adapter = FakeAdapter()
    >>> session = requests.Session()
    >>> session.mount("https://", adapter)
    >>> _ = adapter.reply("Hi!", usage=(3, 1))
    >>> body = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
    >>> def ask() -> str:
    ...     answer = session.post("https://api.example.com/v1/chat/completions", json=body).json()
    ...     return answer["choices"][0]["message"]["content"]
    >>> ask(), ask()
    ('Hi!', 'echo: hello')
    """

    def __init__(self) -> None:
        super().__init__()  # ScriptQueue, then BaseAdapter
        self.models: list[ListingModel] = list(DEFAULT_MODELS)
        self.page_size: int | None = None
        self._realtime: FakeRealtimeServer | None = None

    # -- the requests adapter interface ---------------------------------------------------------

    def send(self, request: PreparedRequest, stream: bool = False,
             timeout: float | tuple[float, float] | tuple[float, None] | None = None,
             verify: bool | str = True, cert: Any = None, proxies: Mapping[str, str] | None = None,
             ) -> Response:
        recorded, route, model = read_request(request.method or "GET", request.url or "", request.headers.items(),
                                              body_bytes(request.body), 0)
        outcome = play(self, route, recorded, model, self._record(recorded))
        if outcome.reset:
            reset = urllib3.exceptions.ProtocolError("Connection aborted.",
                                                     ConnectionResetError(104, "Connection reset by peer"))
            raise requests.exceptions.ConnectionError(reset, request=request)
        read_timeout = _read_timeout(timeout)
        if outcome.hang and read_timeout is not None and outcome.wait >= read_timeout:
            raise requests.exceptions.ReadTimeout(
                f"FakeAdapter: Read timed out. (read timeout={read_timeout})", request=request)
        return response(self, request, outcome)  # other waits are not slept

    def close(self) -> None:
        """Nothing to release (a Session closing its adapters must not drop the script)."""

    # -- realtime sessions (WebSocket: no requests adapter carries them) ----------------------------

    @property
    def realtime(self) -> FakeRealtimeServer:
        """The fake realtime server this adapter's Client sends its ``client.realtime`` sessions to (started on
        first use, stopped by ``stop_realtime`` or at the end of ``fake_providers``): script it here."""
        with self._lock:
            if self._realtime is None:
                from pepperpy.testing._realtime import FakeRealtimeServer

                self._realtime = FakeRealtimeServer().start()
            return self._realtime

    def realtime_base_url(self, provider: ProviderSpec) -> str:
        """Where a realtime session of ``provider`` connects instead of the provider (the seam the realtime
        area reads off the Client's transport)."""
        return self.realtime.base_url(provider.dialect)

    def stop_realtime(self) -> None:
        with self._lock:
            server, self._realtime = self._realtime, None
        if server is not None:
            server.stop()

    def _token(self, form: Mapping[str, str], serial: int) -> tuple[int, Any]:
        # Any credentials get a token: unlike the server, FakeAdapter checks none.
        return 200, {"access_token": f"fake-token-{serial}", "token_type": "Bearer", "expires_in": DEFAULT_TOKEN_TTL}


def _read_timeout(timeout: Any) -> float | None:
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    return float(timeout) if isinstance(timeout, (int, float)) else None


# --------------------------------------------------------------------------- on a Client

@contextmanager
def fake_providers(client: Client | None = None, *, replies: Iterable[str | Reply] = ()) -> Iterator[FakeAdapter]:
    """Answer every provider call of ``client`` in-process for the length of the ``with`` block.

    Without ``client`` it fakes the default Client (``pepperpy.complete``, ``pepperpy.stream``...).
    Inside the block every provider has a fake key (no real key is needed, none is sent), token requests
    (StackSpot's OAuth) are answered by the fake too, and the Client's pooled connections are dropped on entry and
    on exit, so real calls resume afterwards. ``replies`` are queued first; script more on the adapter.

    >>> with fake_providers(client, replies=["Paris."]) as fake:        # doctest: +SKIP
    ...     assert client.complete("Capital of France?", model="gpt-4o-mini").text == "Paris."
    ...     fake.fail(429, headers={"retry-after": "0"})
    ...     assert fake.requests[0].json["model"] == "gpt-4o-mini"
    """
    if client is None:
        from pepperpy.api import default_client

        client = default_client()
    adapter = FakeAdapter()
    for reply in replies:
        adapter.reply(reply)
    environ = _fake_credentials(client.catalog.providers.values())
    with _environ(environ), _mounted(client, adapter):
        yield adapter


@contextmanager
def _mounted(client: Client, adapter: FakeAdapter) -> Iterator[None]:
    # The Client's public transport seam: every call inside the block, token fetches included, goes
    # through the adapter; the transport the Client had is put back afterwards.
    previous = client.transport
    client.use_transport(adapter)
    try:
        yield
    finally:
        client.use_transport(previous)
        adapter.stop_realtime()


def _fake_credentials(providers: Iterable[ProviderSpec]) -> dict[str, str]:
    """A fake key for every provider, plus the extra credential variables its options name."""
    environ: dict[str, str] = {}
    for provider in providers:
        environ[provider.env_prefix + "API_KEY"] = FAKE_API_KEY
        for option in _CREDENTIAL_OPTIONS:
            names = provider.options.get(option)
            if isinstance(names, (list, tuple)) and names:
                environ.setdefault(str(names[0]), "fake")
    return environ


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# --------------------------------------------------------------------------- a loopback server instead

def server_environ(server: FakeProviderServer, catalog: Catalog | None = None) -> dict[str, str]:
    """Environment variables pointing every catalog provider at ``server``, each with a fake key.

    Set them (``monkeypatch.setenv``, ``mock.patch.dict(os.environ, ...)``) before the Clients are built;
    call ``pepperpy.reset_default_client()`` for the module-level functions. Providers that fetch tokens
    from another host (StackSpot) are left out: for those pass
    ``Client(providers={"stackspot": {"base_url": server.url, "options": {"auth_url": server.token_url("{realm}")}}})``.

    >>> with FakeProviderServer() as server:                              # doctest: +SKIP
    ...     env = server_environ(server)
    ...     env["PEPPERPY_PROVIDER_OPENAI_BASE_URL"] == server.url + "/v1"
    True
    """
    if catalog is None:
        from pepperpy.catalog import Catalog

        catalog = Catalog.load()
    environ: dict[str, str] = {}
    for provider in catalog.providers.values():
        if provider.dialect == "stackspot":
            continue
        environ[provider.env_prefix + "BASE_URL"] = server.base_url(provider.dialect)
        environ[provider.env_prefix + "API_KEY"] = FAKE_API_KEY
    return environ
