"""What a Client needs to call one provider, built once per provider on first use: a ``Runtime``.

A Runtime ties the provider's catalog entry, its dialect (pure request building and parsing) and its
Transport (a pooled ``requests.Session`` with the credentials) together, and reads answers through
``_decode``. ``Runtimes`` builds them under a lock, from the Client's settings and its transport seam:
``Client(transport=adapter)`` mounts a requests adapter (``pepperpy.testing.FakeAdapter``, or any
``requests.adapters.BaseAdapter``) on every provider's Session, token fetches included.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import requests
from requests.adapters import BaseAdapter

from .._redact import describe_char, paste_hint
from ..config import Settings
from ..dialects.base import Dialect, StreamParser, get_dialect
from ..errors import ConfigurationError
from ..http._async_limits import ConnectionLimits
from ..http.transport import DEFAULT_POOL_MAXSIZE, DEFAULT_TIMEOUT, Transport
from ..resilience.scope import credential_scope
from ..types import Chunk, Completion, ModelSpec, ProviderSpec
from ..types._value import Value
from . import _decode

if TYPE_CHECKING:
    from ..dialects._grant import TokenGrant
    from ..types import Embeddings

__all__ = ["Runtime", "Runtimes", "Timeout"]

Timeout = float | tuple[float, float]
R = TypeVar("R")
T = TypeVar("T")


class Runtime(Value):
    """One provider at call time: its spec, dialect and transport, and how its answers are read; ``scope`` is
    the fingerprint of its base URL and credentials (``resilience.cache.credential_scope``) that keeps cached
    answers with the account that got them."""

    spec: ProviderSpec
    dialect: Dialect
    transport: Transport
    scope: str = ""

    def parse_chat(self, model: ModelSpec, response: requests.Response) -> Completion:
        return _decode.answer(self.transport, response, self.dialect.parse_chat, model, self.dialect.name)

    def parse_embed(self, model: ModelSpec, response: requests.Response) -> Embeddings:
        return _decode.answer(self.transport, response, self.dialect.parse_embed, model, self.dialect.name)

    def chunks(self, model: ModelSpec, response: requests.Response) -> Iterator[Chunk]:
        return self.open_stream(model, response)[0]

    def open_stream(self, model: ModelSpec, response: requests.Response) -> tuple[Iterator[Chunk], StreamParser]:
        """A chat stream's Chunks, and the parser reading them (what usage it has seen, should the stream break)."""
        parser = self.dialect.stream_parser(model)
        return _decode.events(self.transport, response, parser, model, self.dialect.stream_format), parser

    def read(self, model: ModelSpec, response: requests.Response, parse: Callable[[bytes, str], R]) -> R:
        """A media answer: ``parse`` gets its bytes and Content-Type (JSON or the audio itself)."""
        return _decode.body_answer(self.transport, response, parse, model, self.dialect.name)

    def media_events(self, model: ModelSpec, response: requests.Response,
                     parser: _decode.EventParser[T]) -> Iterator[T]:
        """A media stream's SSE events through ``parser`` (transcript pieces, audio pieces)."""
        return _decode.events(self.transport, response, parser, model, "sse")

    def audio_pieces(self, model: ModelSpec, response: requests.Response) -> Iterator[bytes]:
        """A streamed binary answer's bytes as they arrive."""
        return _decode.raw_pieces(response, model)


class Runtimes:
    """The runtimes of one Client by provider name. Thread-safe: each is built once, under the lock."""

    def __init__(self, settings: Settings, *, timeout: Timeout | None = None,
                 pool_maxsize: int = DEFAULT_POOL_MAXSIZE, adapter: BaseAdapter | None = None,
                 code_base_urls: frozenset[str] = frozenset()) -> None:
        self.settings = settings
        self.timeout = timeout
        self.pool_maxsize = pool_maxsize
        self.adapter = adapter
        self.code_base_urls = code_base_urls  # base URLs given in code beat PEPPERPY_PROVIDER_<NAME>_BASE_URL
        self._built: dict[str, Runtime] = {}
        self._lock = threading.Lock()
        self._connections = ConnectionLimits()  # the event loop's connections, counted across providers
        self._inherited: list[object] = []  # a forked child's copies of its parents' runtimes (see after_fork)
        self.generation = 0  # counts the times the runtimes were dropped (what was prepared for them is stale)

    def get(self, provider: ProviderSpec) -> Runtime:
        runtime = self._built.get(provider.name)
        if runtime is not None:
            return runtime
        with self._lock:
            runtime = self._built.get(provider.name)
            if runtime is None:
                runtime = self._built[provider.name] = self._build(provider)
        return runtime

    def use_adapter(self, adapter: BaseAdapter | None) -> None:
        """Send later requests through ``adapter`` (None: pooled HTTP); the built runtimes are closed."""
        with self._lock:
            self.adapter = adapter
            built, self._built = self._built, {}
            self.generation += 1
        for runtime in built.values():
            runtime.transport.close()

    def release_loop(self) -> None:
        """Close the running event loop's idle async connections to every provider (the loop is ending)."""
        for runtime in list(self._built.values()):
            runtime.transport.release_loop()

    def close(self) -> None:
        self.use_adapter(self.adapter)

    def after_fork(self) -> None:
        """In a forked child: the parent's sockets stay the parent's (set aside here, never closed), and a lock
        a parent thread held at the fork must not be waited on."""
        self._lock = threading.Lock()
        # Kept, never closed nor collected: closing an inherited event-loop socket here (as StreamWriter.__del__
        # would) unregisters it from the parent's epoll, one instance shared across the fork, and the parent's
        # loop would no longer hear that connection. Every generation's, for a child that forks in turn.
        self._inherited.append((self._built, self._connections))
        self._built = {}
        self.generation += 1
        self._connections = ConnectionLimits()

    def base_url_of(self, provider: ProviderSpec) -> str:
        """The provider's base URL as this Client calls it (read without its credentials)."""
        return provider.base_url if provider.name in self.code_base_urls else self.settings.base_url(provider)

    def scope_of(self, provider: ProviderSpec) -> str:
        """The ``credential_scope`` of the provider's runtime (built if need be: its credentials are read)."""
        return self.get(provider).scope

    def timeout_of(self, provider: ProviderSpec) -> Timeout:
        if self.timeout is not None:
            return self.timeout
        return provider.timeout if provider.timeout is not None else DEFAULT_TIMEOUT

    def _build(self, provider: ProviderSpec) -> Runtime:
        settings = self.settings
        dialect = get_dialect(provider.dialect)
        base_url = self.base_url_of(provider)
        _check_url_credentials(base_url, self._base_url_source(provider))
        # token-based auth (StackSpot) checks all its credentials first, so its message names every one;
        # settings.lookup refuses (naming the variable) a value that cannot be sent in a request
        key = settings.api_key(provider)
        lookup = settings.lookup_for(provider)
        grant = dialect.token_grant(provider, key, lookup, base_url)
        if grant is None and key is None and provider.requires_api_key:
            settings.require_api_key(provider)  # raises, naming every variable that would work
        fix = ([f"Client(api_keys={{{provider.name!r}: ...}})"] if settings.has_explicit_key(provider)
               else list(provider.key_vars))
        transport = Transport(provider.name, base_url, dialect.headers(provider, key, lookup),
                              timeout=self.timeout_of(provider), pool_maxsize=self.pool_maxsize,
                              secrets=(key,) if key else (), key_vars=fix, adapter=self.adapter,
                              connections=self._connections)
        if grant is not None:
            from ..http._oauth import ClientCredentialsAuth  # token auth (StackSpot's) only

            transport.session.auth = ClientCredentialsAuth(
                grant.token_url, grant.client_id, grant.client_secret, provider=provider.name, hint=grant.hint,
                timeout=grant.timeout, adapter=self.adapter)
        return Runtime(provider, dialect, transport, _scope(transport, grant))

    def _base_url_source(self, provider: ProviderSpec) -> str:
        if provider.name in self.code_base_urls:
            return f"Client(providers={{{provider.name!r}: {{'base_url': ...}}}})"
        found = self.settings.find([provider.env_prefix + "BASE_URL"])
        if found is not None:
            return found[1]
        return provider.file or f"the catalog entry of {provider.name!r}"


def _scope(transport: Transport, grant: TokenGrant | None) -> str:
    """The credential scope of a provider's answers: its base URL, keyed by what it authenticates with: the
    static headers (the API key travels in one), the OAuth client id and token URL (never the token, which
    rotates), and the user info of the base URL."""
    headers = transport.session.headers
    credentials = [(str(name), v if isinstance(v, str) else v.decode("latin-1")) for name, v in headers.items()]
    if grant is not None:
        credentials += [(":oauth-client", grant.client_id), (":oauth-token-url", grant.token_url)]
    user_info = urllib.parse.urlsplit(transport.base_url).netloc.rpartition("@")[0]
    credentials.append((":url-user-info", user_info))
    return credential_scope(transport.base_url, credentials)


def _check_url_credentials(url: str, source: str) -> None:
    """A user name or password in the base URL goes out as HTTP basic auth, which requests encodes as Latin-1:
    refuse what it cannot encode now, naming where the URL came from and never the value."""
    parts = urllib.parse.urlsplit(url)
    for label, value in (("user name", parts.username), ("password", parts.password)):
        odd = next((c for c in urllib.parse.unquote(value or "") if ord(c) > 255), None)
        if odd is not None:
            raise ConfigurationError(f"the {label} in the base_url from {source} contains {describe_char(odd)}, "
                                     f"which HTTP basic authentication cannot send (Latin-1 only); set it to plain "
                                     f"text{paste_hint(odd)}")
