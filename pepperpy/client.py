"""The Client: resolve -> validate -> dialect -> pipeline (cache, limiter, breaker, retries) -> typed result.

One Client owns one catalog, one set of credentials and one connection pool per provider. It is safe to
share between threads: the per-provider runtimes are built under the Client's lock, and the pipeline's
breakers, limiters and cache guard their own state (never holding a lock during network I/O). After a
fork the child drops the inherited runtimes and opens its own connections.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import requests
import urllib3

from . import errors
from .aio import AsyncClientMixin
from .cache import CacheInfo
from .catalog import Catalog
from .config import DEFAULT_ENV_FILE, Settings, key_vars
from .dialects.base import get_dialect
from .pipeline import Pipeline, Prepared
from .pipeline import Runtime as _Runtime
from .ratelimit import DEFAULT_RATE_LIMIT_WAIT
from .resilience import DEFAULT_MAX_RETRY_WAIT, RetryPolicy
from .transport import DEFAULT_POOL_MAXSIZE, DEFAULT_TIMEOUT, Transport, iter_body, iter_ndjson, iter_sse
from .types import Chunk, Completion, Embeddings, ModelSpec, ProviderSpec, Stream
from .validation import build_messages, check_embed_input, check_params

CatalogPaths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None
Timeout = float | tuple[float, float]
_STREAM_FAILURES = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)
# what a dialect raises on an answer whose JSON has an unexpected shape
_SHAPE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError)
R = TypeVar("R", Completion, Embeddings)


_LIVE_CLIENTS: weakref.WeakSet[Client] = weakref.WeakSet()  # for the fork hook below, not configuration


def _after_fork_in_child() -> None:
    for client in list(_LIVE_CLIENTS):
        client._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside pepperpy."""
    import sys

    package = os.path.dirname(__file__)
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level


def _check_fallbacks(fallbacks: object) -> None:
    if isinstance(fallbacks, str) or not isinstance(fallbacks, (list, tuple)):
        raise errors.ValidationError(f"fallbacks takes a list of model names, e.g. [{fallbacks!r}], not "
                                     f"{type(fallbacks).__name__}", param="fallbacks", value=fallbacks)


def _check_timeout(timeout: Timeout | None) -> Timeout | None:
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    if timeout is not None and (len(values) not in (1, 2) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values)):
        raise errors.ConfigurationError(f"timeout must be a number of seconds > 0 or a (connect, read) pair of "
                                        f"them, not {timeout!r}")
    return timeout


class Client(AsyncClientMixin):
    """One blocking interface to every provider in the catalog.

    >>> client = pepperpy.Client()                                   # doctest: +SKIP
    >>> client.complete("Say hi", model="gpt-4o-mini").text          # doctest: +SKIP
    >>> for chunk in client.stream("Tell a story", model="claude-haiku"):   # doctest: +SKIP
    ...     print(chunk.text, end="")

    ``timeout`` is seconds (or ``(connect, read)``); left unset it is the provider's catalog ``timeout:``, else
    60 s. ``catalog`` adds YAML files or folders after the packaged ones. ``providers`` overrides provider
    settings in code, e.g. ``providers={"openai": {"base_url": "http://localhost:8000/v1"}}``.

    Resilience knobs (every default in docs/resilience.md): ``max_retries``, ``max_retry_wait``, ``total_timeout``
    (they win over a ``retry_policy=RetryPolicy(...)``, which sets backoff and clock), ``breaker=`` (or False),
    ``rate_limits={"openai": {"rpm": 500}}`` and ``rate_limit_wait``, ``cache=True`` or ``CacheConfig(...)``,
    ``fallbacks={"gpt-4o": ["claude-sonnet"]}``, ``log_content`` (prompts in ``pepperpy.audit`` records).
    """

    def __init__(self, catalog: CatalogPaths = None, env_file: str | os.PathLike[str] | None = DEFAULT_ENV_FILE,
                 api_keys: Mapping[str, str] | None = None, timeout: Timeout | None = None,
                 max_retries: int = 2, cache: Any = False, fallbacks: Mapping[str, Sequence[str]] | None = None,
                 *, providers: Mapping[str, Mapping[str, Any]] | None = None,
                 pool_maxsize: int = DEFAULT_POOL_MAXSIZE, use_keyring: bool = True,
                 retry_policy: RetryPolicy | None = None, max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
                 total_timeout: float | None = None, breaker: Any = None,
                 rate_limits: Mapping[str, Mapping[str, float]] | None = None,
                 rate_limit_wait: float = DEFAULT_RATE_LIMIT_WAIT, log_content: bool = False) -> None:
        self.retry_policy = replace(retry_policy or RetryPolicy(), max_retries=max_retries,
                                    max_retry_wait=max_retry_wait, total_timeout=total_timeout)
        self._pipeline = Pipeline(self.retry_policy, cache=cache, breaker=breaker, rate_limits=rate_limits,
                                  rate_limit_wait=rate_limit_wait, log_content=log_content)
        if pool_maxsize < 1:
            raise errors.ConfigurationError("pool_maxsize must be 1 or more")
        self._settings = Settings(env_file, api_keys, use_keyring)
        extra = [catalog] if isinstance(catalog, (str, os.PathLike)) else list(catalog or ())
        self.catalog = Catalog.load(extra)
        if providers:
            self.catalog = self.catalog.with_overrides(providers)
        # a base_url given in code beats PEPPERPY_PROVIDER_<NAME>_BASE_URL (explicit > environment)
        self._code_base_urls = frozenset(name for name, values in (providers or {}).items() if "base_url" in values)
        self.timeout = _check_timeout(timeout)
        self.max_retries = max_retries
        for option, names in (("api_keys", api_keys), ("rate_limits", rate_limits)):
            for name in names or ():  # a misspelt provider here would silently do nothing
                self.catalog.provider(name.lower() if option == "api_keys" else name)
        for value in (fallbacks or {}).values():
            _check_fallbacks(value)
        self.fallbacks = {k: list(v) for k, v in (fallbacks or {}).items()}
        for name in (n for k, v in self.fallbacks.items() for n in (k, *v)):
            self.catalog.resolve(name)  # a typo in a fallback must fail now, not be skipped when it matters
        self.pool_maxsize = pool_maxsize
        self._warned: set[str] = set()  # deprecated models already warned about
        self._runtimes: dict[str, _Runtime] = {}
        self._lock = threading.Lock()
        _LIVE_CLIENTS.add(self)

    # ------------------------------------------------------------------ catalog

    def model(self, name: str) -> ModelSpec:
        """The catalog entry for a model name, alias or ``"<provider>/<id>"``."""
        return self.catalog.resolve(name)[1]

    def models(self, provider: str | None = None, mode: str | None = None, capability: str | None = None,
               available: bool | None = None) -> list[ModelSpec]:
        """Catalog models, filtered; ``available=True`` keeps those whose provider has credentials."""
        found = self.catalog.models(provider, mode, capability)
        if available is None:
            return found
        ok = {p.name for p in self.catalog.providers.values() if self._settings.has_credentials(p)}
        return [m for m in found if (m.provider in ok) == available]

    def has_credentials(self, provider: str) -> bool:
        """Whether a call to ``provider`` would find its credentials (or needs none)."""
        return self._settings.has_credentials(self.catalog.provider(provider))

    def check_credentials(self, provider: str) -> None:
        """Raise ConfigurationError now, naming what to set, when ``provider``'s credentials are missing
        (it also opens the provider's connection pool, which later calls reuse)."""
        self._runtime(self.catalog.provider(provider))

    def offered_models(self) -> list[ModelSpec]:
        """The models named in ``PEPPERPY_MODELS`` whose providers have credentials, in that order."""
        result = []
        for name in self._settings.offered_models():
            provider, spec = self.catalog.resolve(name)
            if self._settings.has_credentials(provider):
                result.append(spec)
        return result

    # ------------------------------------------------------------------ calls

    def complete(self, prompt: str | None = None, *, model: str, messages: Sequence[Mapping[str, Any]] | None = None,
                 system: str | None = None, temperature: float | None = None, max_tokens: int | None = None,
                 top_p: float | None = None, stop: str | Sequence[str] | None = None,
                 fallbacks: Sequence[str] | None = None, cache: bool | None = None, **params: Any) -> Completion:
        """Send one chat turn and wait for the whole answer. ``fallbacks`` are models tried in order when this
        one is unavailable; ``cache=False`` skips the response cache for this call.

        >>> client.complete("Explain X", model="gemini-pro", temperature=0.7, max_tokens=200)  # doctest: +SKIP
        """
        params = dict(params, temperature=temperature, max_tokens=max_tokens, top_p=top_p, stop=stop)
        return self._pipeline.call(
            "complete", self._hops(model, fallbacks),
            lambda name: self._chat_request(name, prompt, messages, system, params, stream=False),
            self._parse_chat, cache is not False)

    def stream(self, prompt: str | None = None, *, model: str, messages: Sequence[Mapping[str, Any]] | None = None,
               system: str | None = None, temperature: float | None = None, max_tokens: int | None = None,
               top_p: float | None = None, stop: str | Sequence[str] | None = None,
               fallbacks: Sequence[str] | None = None, cache: bool | None = None, **params: Any) -> Stream:
        """Send one chat turn and iterate over the answer as it arrives (streams are never cached; retries and
        fallbacks happen only while opening the response, before any chunk reaches you).

        >>> with client.stream("Tell a story", model="gpt-4o-mini") as s:   # doctest: +SKIP
        ...     for chunk in s: print(chunk.text, end="")
        """
        params = dict(params, temperature=temperature, max_tokens=max_tokens, top_p=top_p, stop=stop)
        return self._pipeline.stream(
            self._hops(model, fallbacks),
            lambda name: self._chat_request(name, prompt, messages, system, params, stream=True), self._chunks)

    def embed(self, input: str | Sequence[str], *, model: str, fallbacks: Sequence[str] | None = None,
              cache: bool | None = None, **params: Any) -> Embeddings:
        """Embed one text or a list of texts; ``vectors`` come back in input order.

        >>> client.embed(["a", "b"], model="text-embedding-3-small").vectors   # doctest: +SKIP
        """
        texts = check_embed_input(input)
        def parse(p: Prepared, response: requests.Response) -> Embeddings:
            result = self._parse_embed(p, response)
            if len(result.vectors) != len(texts):  # a vector per text, or a caller's zip() silently misaligns
                raise errors.ProviderAPIError(
                    f"{result.provider} returned {len(result.vectors)} vectors for {len(texts)} texts",
                    provider=result.provider, model=result.model, status_code=response.status_code)
            return result

        return self._pipeline.call("embed", self._hops(model, fallbacks),
                                   lambda name: self._embed_request(name, texts, params), parse, cache is not False)

    def map(self, prompts: Sequence[str | Sequence[Mapping[str, Any]]], *, model: str, max_workers: int = 8,
            progress: bool | None = None, return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
        """Complete many prompts (strings or message lists) on a thread pool; results in input order.

        Each item is a Completion, or with ``return_exceptions=True`` the exception that item raised.
        ``progress`` shows a tqdm bar (None: when tqdm is installed and stderr is a terminal). See ``batch``.

        >>> [r.text for r in client.map(["2+2?", "3+3?"], model="gpt-4o-mini")]   # doctest: +SKIP
        """
        from .batch import map_completions

        return map_completions(self, prompts, model=model, max_workers=max_workers, progress=progress,
                               return_exceptions=return_exceptions, **kwargs)

    # ------------------------------------------------------------------ resilience state

    def breaker_state(self, provider: str) -> str:
        """``"closed"``, ``"open"``, ``"half-open"`` (the next call is a trial) or ``"disabled"`` (breaker=False)."""
        return self._pipeline.breaker_state(self.catalog.provider(provider).name)

    def cache_info(self) -> CacheInfo:
        """``CacheInfo(hits, misses, size, maxsize)`` of the response cache (all zero without one)."""
        return self._pipeline.cache_info()

    # ------------------------------------------------------------------ internals

    def _hops(self, model: str, fallbacks: Sequence[str] | None) -> Sequence[str]:
        """The model, then its fallbacks: the call's own, else ``Client(fallbacks=)`` by name, id or provider/id."""
        if fallbacks is None and self.fallbacks:
            spec = self.catalog.resolve(model)[1]
            fallbacks = next((self.fallbacks[k] for k in (model, spec.id, spec.name) if k in self.fallbacks), None)
        elif fallbacks:
            _check_fallbacks(fallbacks)
            for name in fallbacks:
                self.catalog.resolve(name)  # unknown names raise ModelNotFoundError instead of being skipped
        return (model, *fallbacks) if fallbacks else (model,)

    def _chat_request(self, model: str, prompt: str | None, messages: Sequence[Mapping[str, Any]] | None,
                      system: str | None, params: dict[str, Any], *, stream: bool) -> Prepared:
        provider, spec, body_messages, checked = self._prepare(model, prompt, messages, system, params)
        runtime = self._runtime(provider)
        return Prepared(runtime, spec, runtime.dialect.build_chat(provider, spec, body_messages, checked,
                                                                   stream=stream))

    def _embed_request(self, model: str, texts: list[str], params: dict[str, Any]) -> Prepared:
        provider, spec = self.catalog.resolve(model)
        if spec.deprecated is not None and spec.name not in self._warned:
            self._warn_deprecated(spec)
        if spec.mode != "embedding" and not spec.open:
            raise errors.ValidationError(f"{spec.name} is a chat model; embed() needs an embedding model such as "
                                         f"{self._example('embedding', provider.name)}", param="model", value=model)
        runtime = self._runtime(provider)
        return Prepared(runtime, spec, runtime.dialect.build_embed(provider, spec, texts, check_params(spec, params)))

    def _parse_chat(self, p: Prepared, response: requests.Response) -> Completion:
        return self._parse(p, response, p.runtime.dialect.parse_chat)

    def _parse_embed(self, p: Prepared, response: requests.Response) -> Embeddings:
        return self._parse(p, response, p.runtime.dialect.parse_embed)

    def _parse(self, p: Prepared, response: requests.Response, parse: Callable[[Any, ModelSpec], R]) -> R:
        """A dialect's parse of a 2xx answer, with its error objects redacted and odd shapes typed."""
        payload = self._json(response, p.runtime.spec, p.model)
        try:
            return parse(payload, p.model)
        except errors.ProviderError as exc:
            p.runtime.transport.scrub(exc)
            raise
        except _SHAPE_ERRORS as exc:
            raise self._shape_error(p, response, exc) from exc

    @staticmethod
    def _shape_error(p: Prepared, response: requests.Response, exc: Exception) -> errors.ProviderAPIError:
        return errors.ProviderAPIError(
            f"{p.runtime.spec.name} answered {response.status_code} in a shape the {p.runtime.dialect.name} dialect "
            f"does not know ({type(exc).__name__}: {exc}); does its base_url point at an API of that dialect?",
            provider=p.runtime.spec.name, model=p.model.id, status_code=response.status_code)

    def _prepare(self, model: str, prompt: str | None, messages: Sequence[Mapping[str, Any]] | None,
                 system: str | None, params: dict[str, Any]
                 ) -> tuple[ProviderSpec, ModelSpec, list[dict[str, Any]], dict[str, Any]]:
        provider, spec = self.catalog.resolve(model)
        if spec.deprecated is not None and spec.name not in self._warned:
            self._warn_deprecated(spec)
        if spec.mode != "chat":
            raise errors.ValidationError(f"{spec.name} is an embedding model; use client.embed(), or a chat model "
                                         f"such as {self._example('chat', provider.name)}", param="model",
                                         value=model)
        return provider, spec, build_messages(prompt, messages, system), check_params(spec, params)

    def _warn_deprecated(self, spec: ModelSpec) -> None:
        import warnings

        with self._lock:  # once per Client, even when threads make their first calls together
            if spec.name in self._warned:
                return
            self._warned.add(spec.name)
        replacements = [m.name for m in self.catalog.models(provider=spec.provider, mode=spec.mode)
                        if m.deprecated is None][:2]
        instead = f"; consider {' or '.join(replacements)}" if replacements else ""
        warnings.warn(f"{spec.name} is deprecated: its provider retires it on {spec.deprecated}{instead}",
                      FutureWarning, stacklevel=_caller_stacklevel())

    def _example(self, mode: str, provider: str) -> str:
        found = self.catalog.models(provider=provider, mode=mode) or self.catalog.models(mode=mode)
        return repr(found[0].name) if found else "one from client.models()"

    def _timeout(self, provider: ProviderSpec) -> Timeout:
        if self.timeout is not None:
            return self.timeout
        return provider.timeout if provider.timeout is not None else DEFAULT_TIMEOUT

    def _runtime(self, provider: ProviderSpec) -> _Runtime:
        runtime = self._runtimes.get(provider.name)
        if runtime is not None:
            return runtime
        with self._lock:
            runtime = self._runtimes.get(provider.name)
            if runtime is None:
                runtime = self._runtimes[provider.name] = self._build_runtime(provider)
        return runtime

    def _build_runtime(self, provider: ProviderSpec) -> _Runtime:
        settings = self._settings
        dialect = get_dialect(provider.dialect)
        base_url = provider.base_url if provider.name in self._code_base_urls else settings.base_url(provider)
        # token-based auth (StackSpot) checks all its credentials first, so its message names every one
        key = settings.api_key(provider)
        auth = dialect.session_auth(provider, key, settings, base_url)
        if auth is None and key is None and provider.requires_api_key:
            settings.require_api_key(provider)  # raises, naming every variable that would work
        explicit = settings.has_explicit_key(provider)
        fix = [f"Client(api_keys={{{provider.name!r}: ...}})"] if explicit else key_vars(provider)
        transport = Transport(provider.name, base_url, dialect.headers(provider, key, settings),
                              timeout=self._timeout(provider), pool_maxsize=self.pool_maxsize,
                              secrets=(key,) if key else (), key_vars=fix)
        if auth is not None:
            transport.session.auth = auth
        return _Runtime(provider, dialect, transport)

    @staticmethod
    def _json(response: requests.Response, provider: ProviderSpec, spec: ModelSpec) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, requests.RequestException) as exc:
            raise errors.ProviderAPIError(
                f"{provider.name} answered {response.status_code} with a body that is not JSON",
                provider=provider.name, model=spec.id, status_code=response.status_code) from exc

    @staticmethod
    def _chunks(runtime: _Runtime, spec: ModelSpec, response: requests.Response) -> Iterator[Chunk]:
        dialect = runtime.dialect
        content_type = response.headers.get("content-type", "")
        if "html" in content_type:  # a proxy's login page or a wrong base_url, not an event stream
            response.close()
            raise errors.StreamError(f"{spec.provider} answered {response.status_code} with {content_type} instead "
                                     f"of an event stream; check its base_url", provider=spec.provider,
                                     model=spec.id, status_code=response.status_code)
        parser = dialect.stream_parser(spec)
        reader = iter_sse if dialect.stream_format == "sse" else iter_ndjson
        feed = parser.feed
        try:
            for event, data in reader(iter_body(response)):
                chunk = feed(event, data)
                if chunk is not None:
                    yield chunk
        except errors.ProviderError as exc:  # an error event: the parser did not know the key to redact
            runtime.transport.scrub(exc)
            raise
        except _STREAM_FAILURES as exc:
            raise errors.from_transport_error(exc, provider=spec.provider, model=spec.id, streaming=True) from exc
        except _SHAPE_ERRORS as exc:
            what = "is not valid JSON" if isinstance(exc, json.JSONDecodeError) else "has an unknown shape"
            raise errors.StreamError(f"{spec.provider} sent a stream event that {what}: {exc}",
                                     provider=spec.provider, model=spec.id) from exc
        finally:
            response.close()
        if not parser.done:
            raise errors.StreamError(f"the stream from {spec.provider} ended before its terminator; the answer "
                                     f"is incomplete", provider=spec.provider, model=spec.id)

    # ------------------------------------------------------------------ lifecycle

    def _after_fork(self) -> None:
        """In a forked child (gunicorn --preload), run by ``os.register_at_fork`` while the child has one thread:
        never share the parent's sockets, nor a lock a parent thread may have held at the fork."""
        self._lock = threading.Lock()
        self._runtimes = {}  # the parent's pooled sockets stay the parent's: dropped here, not closed
        self._pipeline.after_fork()

    def close(self) -> None:
        """Release every pooled connection. The Client stays usable: later calls open new ones."""
        with self._lock:
            runtimes, self._runtimes = self._runtimes, {}
        for runtime in runtimes.values():
            runtime.transport.close()
        self._aio_shutdown()  # the async methods' worker threads; made again on the next await

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<pepperpy.Client providers={len(self.catalog.providers)} models={len(self.catalog)}>"
