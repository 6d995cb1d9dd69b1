"""The Client: resolve -> validate -> dialect -> pipeline (cache, limiter, breaker, retries) -> typed result.

One Client owns one catalog, one set of credentials and one connection pool per provider. It is safe to
share between threads: the per-provider runtimes are built under a lock, and the pipeline's breakers,
limiters and cache guard their own state (never holding a lock during network I/O). After a fork the child
drops the inherited runtimes and opens its own connections.

The Client is the face; the work is done by the collaborators it holds, one per job:

- ``Preparer`` (``_prepare``): resolves a model name, checks the call against its catalog entry and has the
  dialect build the request;
- ``Pipeline`` / ``AsyncPipeline`` (``pepperpy.pipeline``): a prepared call hop by hop through the cache,
  limiter, breaker and retries, blocking or on the event loop; the ``Observer`` it reports to
  (``pepperpy.observe``: usage, budget, hooks, telemetry);
- ``Runtimes`` (``pepperpy.pipeline``): each provider's dialect, credentials and HTTP transport, made once;
- ``MediaCalls`` (``_media_calls``): images, speech and transcription;
- ``AsyncCalls`` (``_async``): where each awaited call runs, on the loop or in a worker;
- ``pepperpy.jobs``: batches and video, handed the Client's parts on first use (``_jobs``).

Two groups of public methods are faces of their own, mixed in: the media and video methods (``MediaMethods``,
``_media_methods``) and the async twins (``AsyncMethods``, ``_async``). They hold no state and no logic: each method
is its signature, its docstring and one call to a collaborator (docs/adr/0008 says why).
"""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from requests.adapters import BaseAdapter

from .. import errors
from ..catalog._registry import Catalog
from ..catalog.validation import build_messages
from ..config import DEFAULT_ENV_FILE, TELEMETRY_ENV, Settings
from ..observe._observer import Observer
from ..pipeline._blocking import Pipeline
from ..pipeline._runtimes import Runtimes, Timeout
from ..resilience.limiter import DEFAULT_RATE_LIMIT_WAIT
from ..resilience.retry import RetryPolicy
from ..types import Completion, ModelSpec, ProviderSpec
from . import _options
from ._async import DEFAULT_MAX_CONCURRENCY, AsyncCalls, AsyncMethods, WorkerPool
from ._chat_options import ChatOptions
from ._media_methods import MediaMethods
from ._prepare import Preparer, parse_chat

if TYPE_CHECKING:
    from ..jobs import BatchJob, Services
    from ..observe.budget import Budget
    from ..observe.events import EventName
    from ..observe.usage import UsageReport
    from ..pipeline._bridge import BackgroundLoop
    from ..realtime import Sessions
    from ..resilience.breaker import BreakerStats
    from ..resilience.cache import CacheInfo
    from ..types import Embeddings, Stream, TokenCount
    from ._catalog_sync import CatalogDiff
    from ._media_calls import MediaCalls

__all__ = ["CatalogPaths", "Client"]

CatalogPaths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None


_LIVE_CLIENTS: weakref.WeakSet[Client] = weakref.WeakSet()  # for the fork hook below, not configuration


def _after_fork_in_child() -> None:
    for client in list(_LIVE_CLIENTS):
        client._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _log_dropped(provider: ProviderSpec, names: list[str]) -> None:
    """One INFO line for a provider whose offered models are left out: which, and the variable to set."""
    from .._redact import get_logger

    variables = [*provider.api_key_env, provider.env_prefix + "API_KEY"]  # the usual name first
    wanted = variables[0] + (f" (or {', '.join(variables[1:])})" if len(variables) > 1 else "")
    get_logger("pepperpy.config").info(
        "models %s left out: provider %r has no API key; set %s in the environment or .env (or `pepperpy keys "
        "set %s`)", ", ".join(names), provider.name, wanted, provider.name)


class Client(MediaMethods, AsyncMethods):
    """One blocking interface to every provider in the catalog.

    >>> client = pepperpy.Client()                                   # doctest: +SKIP
    >>> client.complete("Say hi", model="gpt-4o-mini").text          # doctest: +SKIP
    >>> for chunk in client.stream("Tell a story", model="claude-haiku"):   # doctest: +SKIP
    ...     print(chunk.text, end="")
    >>> client.generate_image("a red kite", model="gpt-image-2.6-flare").images[0].save("kite.png")   # doctest: +SKIP

    ``env_file`` is the ``.env`` file read for keys: ``./.env`` if present by default, another path must exist,
    None reads none. ``timeout`` is seconds (or ``(connect, read)``); left unset it is ``PEPPERPY_TIMEOUT``, else
    the provider's catalog ``timeout:``, else 60 s. ``catalog`` adds YAML files or folders after the packaged ones.
    ``providers`` overrides provider settings in code, e.g. ``providers={"openai": {"base_url": "http://localhost:8000/v1"}}``.

    Resilience knobs (every default in docs/resilience.md): ``max_retries``, ``max_retry_wait`` and
    ``total_timeout``, or all of the retry settings as one ``retry_policy=RetryPolicy(...)`` (not both),
    ``breaker=`` (or False), ``rate_limits={"openai": {"rpm": 500}}`` (``"per": "key"`` for a shared bucket per
    key) and ``rate_limit_wait``, ``cache=True`` or
    ``CacheConfig(...)``, ``fallbacks={"gpt-4o": ["claude-sonnet"]}``, ``log_content`` (prompts in
    ``pepperpy.audit`` records). ``transport`` is a requests adapter every call goes through (a fake in tests).
    ``shared_state="redis://host:6379/0"`` (or a ``redis.Redis``, a ``pepperpy.shared.SharedState``, or the
    ``PEPPERPY_SHARED_STATE`` variable) shares the breakers, rate limits and cache with every worker using the
    same Redis and ``shared_namespace`` (default ``"pepperpy"``); see docs/web-apps.md.
    ``strict_models=True`` refuses model names the catalog does not list (by default ``"openai/<name>"`` is sent
    as typed, with one warning, and a dated snapshot or fine-tune of a listed model inherits its entry).

    Observability (docs/observability.md): ``client.usage()`` totals, ``client.on(event, fn)`` hooks,
    ``budget=5.00`` (USD, or a ``pepperpy.Budget``) refuses a call that could pass it before sending it (with
    ``shared_state``, one budget for every worker), and ``telemetry=True`` (or ``PEPPERPY_TELEMETRY=1``) records
    OpenTelemetry spans and metrics.
    Every option but ``catalog`` is keyword-only.
    """

    def __new__(cls, *args: Any, **options: Any) -> Client:
        # Runs before __init__ sees the options: a misspelt or foreign one (api_key=) gets a message that says
        # what to write instead of Python's bare "unexpected keyword argument"
        if options:
            _options.check_options(cls, options)
        return super().__new__(cls)

    def __init__(self, catalog: CatalogPaths = None, *, env_file: str | os.PathLike[str] | None = DEFAULT_ENV_FILE,
                 api_keys: Mapping[str, str] | None = None, timeout: Timeout | None = None,
                 max_retries: int | None = None, cache: Any = False,
                 fallbacks: Mapping[str, Sequence[str]] | None = None,
                 providers: Mapping[str, Mapping[str, Any]] | None = None,
                 pool_maxsize: int | None = None, max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
                 use_keyring: bool = True,
                 retry_policy: RetryPolicy | None = None, max_retry_wait: float | None = None,
                 total_timeout: float | None = None, breaker: Any = None,
                 rate_limits: Mapping[str, Mapping[str, float | str]] | None = None,
                 rate_limit_wait: float = DEFAULT_RATE_LIMIT_WAIT, log_content: bool = False,
                 transport: BaseAdapter | None = None, shared_state: Any = None,
                 shared_namespace: str | None = None, budget: Any = None, telemetry: bool | None = None,
                 strict_models: bool = False) -> None:
        self.retry_policy = _options.retry_policy(retry_policy, max_retries=max_retries,
                                                  max_retry_wait=max_retry_wait, total_timeout=total_timeout)
        if budget is not None:  # the budget's module loads only for a Client that has one
            from ..observe.budget import Budget

            budget = Budget.of(budget)
        self.settings = Settings(env_file, api_keys, use_keyring)
        self._pipeline = Pipeline(self.retry_policy, cache=cache, breaker=breaker, rate_limits=rate_limits,
                                  rate_limit_wait=rate_limit_wait, log_content=log_content,
                                  shared=_options.shared_state(shared_state, shared_namespace, self.settings))
        for option, given in (("max_concurrency", max_concurrency), ("pool_maxsize", pool_maxsize)):
            if given is not None and (isinstance(given, bool) or not isinstance(given, int) or given < 1):
                raise errors.ConfigurationError(f"{option} must be a whole number of at least 1, not {given!r}")
        pool_maxsize = pool_maxsize or max_concurrency  # the connection pool grows with the concurrency
        if transport is not None and not isinstance(transport, BaseAdapter):
            raise errors.ConfigurationError(f"transport takes a requests adapter (requests.adapters.BaseAdapter, "
                                            f"e.g. pepperpy.testing.FakeAdapter()), not {type(transport).__name__}")
        catalog_ = Catalog.load(_options.catalog_paths(catalog), strict=strict_models)
        if providers:
            catalog_ = catalog_.with_overrides(providers)
        timeout = _options.check_timeout(timeout)
        if timeout is None:
            timeout = self.settings.timeout()  # PEPPERPY_TIMEOUT: explicit > environment > the catalog's
        self.max_retries = self.retry_policy.max_retries
        for option, names in (("api_keys", api_keys), ("rate_limits", rate_limits)):
            for name in names or ():  # a misspelt provider here would silently do nothing
                catalog_.provider(name.lower() if option == "api_keys" else name)
        for value in (fallbacks or {}).values():
            _options.check_fallbacks(value)
        self.fallbacks = {k: list(v) for k, v in (fallbacks or {}).items()}
        for name in (n for k, v in self.fallbacks.items() for n in (k, *v)):
            catalog_.resolve(name)  # a typo in a fallback must fail now, not be skipped when it matters
        self.pool_maxsize = pool_maxsize
        self.max_concurrency = max_concurrency
        # a base_url given in code beats PEPPERPY_PROVIDER_<NAME>_BASE_URL (explicit > environment)
        self._runtimes = Runtimes(self.settings, timeout=timeout, pool_maxsize=pool_maxsize, adapter=transport,
                                  code_base_urls=frozenset(name for name, values in (providers or {}).items()
                                                           if "base_url" in values))
        self._pipeline.guards.scope_by(self._runtimes.base_url_of, self._runtimes.scope_of)  # shared guards' keys
        self._prep = Preparer(catalog_, self._runtimes, self.fallbacks)
        self._prep.memo = self._pipeline.cache is not None  # a hit then repeats no checks (Preparer._remembered)
        self._pipeline.observer = self._observer(budget, telemetry, log_content)
        # acomplete / aembed run on the event loop (at most max_concurrency in flight per loop); astream, the
        # tool loop and the hops the loop cannot send run in these threads, as many as max_concurrency
        self.workers = WorkerPool(max_concurrency)
        self._async = AsyncCalls(self._prep, self._pipeline, max_concurrency, self.workers)
        _LIVE_CLIENTS.add(self)

    @property
    def _map_loop(self) -> BackgroundLoop:
        """client.map's event loop, made (and its module loaded) by the first map; started by its first use."""
        runner = self.__dict__.get("_map_runner")
        if runner is None:
            from ..pipeline._bridge import BackgroundLoop

            runner = self.__dict__.setdefault("_map_runner", BackgroundLoop())  # one, if two threads get here
        return runner  # type: ignore[no-any-return]

    def _observer(self, budget: Budget | None, telemetry: bool | None, log_content: bool) -> Observer:
        for name in (budget.providers if budget is not None else ()):
            self.catalog.provider(name)  # a misspelt provider would never be limited
        shared, make_counter, claim, where = self._pipeline.shared, None, None, None
        if shared is not None:  # one budget for every worker on this Redis, and each job booked by one of them
            from ..shared.counter import SharedCounter
            from ..shared.counter import claim as claim_in

            def make_counter(name: str, ttl: float | None) -> SharedCounter:
                return SharedCounter(shared, name, ttl)

            def claim(name: str) -> bool | None:
                return claim_in(shared, name)

            where = f"Redis namespace {shared.namespace!r} ({shared.location})"
        return Observer.build(budget=budget, resolve=lambda name: self.catalog.resolve(name)[1],
                              telemetry=telemetry, telemetry_env=self.settings.get(TELEMETRY_ENV),
                              log_content=log_content, make_counter=make_counter, claim=claim, shared=where)

    @functools.cached_property
    def _media(self) -> MediaCalls:
        """The media calls' collaborator, made on the first media call (a chat-only program never imports it)."""
        from ._media_calls import MediaCalls

        return MediaCalls(self._prep, self._pipeline)

    @property
    def catalog(self) -> Catalog:
        """The models and providers this Client knows: the packaged catalog, then ``catalog=`` and
        ``PEPPERPY_CATALOG_PATH``'s files, with ``providers=`` applied. Assigning another Catalog applies to the
        calls that start after it."""
        return self._prep.catalog

    @catalog.setter
    def catalog(self, value: Catalog) -> None:
        self._prep.catalog = value

    @property
    def timeout(self) -> Timeout | None:
        """Seconds (or ``(connect, read)``) for providers' answers; None: each provider's catalog timeout, else
        60 s. Setting it applies to the providers this Client has not called yet."""
        return self._runtimes.timeout

    @timeout.setter
    def timeout(self, value: Timeout | None) -> None:
        self._runtimes.timeout = _options.check_timeout(value)

    @property
    def transport(self) -> BaseAdapter | None:
        """The requests adapter every provider call goes through (``Client(transport=...)``), or None for
        pooled HTTP connections."""
        return self._runtimes.adapter

    def use_transport(self, transport: BaseAdapter | None) -> None:
        """Send every later call through ``transport``, a requests adapter (None: back to pooled HTTP).

        Pooled connections are closed first. This is the seam ``pepperpy.testing.fake_providers`` uses; a
        test of your own can pass ``Client(transport=FakeAdapter())`` instead.

        >>> client.use_transport(pepperpy.testing.FakeAdapter())   # doctest: +SKIP
        """
        if transport is not None and not isinstance(transport, BaseAdapter):
            raise errors.ConfigurationError(f"transport takes a requests adapter (requests.adapters.BaseAdapter), "
                                            f"not {type(transport).__name__}")
        self._runtimes.use_adapter(transport)

    # ------------------------------------------------------------------ chat and embeddings

    def complete(self, prompt: str | None = None, *, model: str | None = None,
                 messages: Sequence[Mapping[str, Any]] | None = None, system: str | None = None,
                 temperature: float | None = None, max_tokens: int | None = None, top_p: float | None = None,
                 stop: str | Sequence[str] | None = None,
                 fallbacks: Sequence[str] | None = None, cache: bool | None = None, **params: Any) -> Completion:
        """Send one chat turn and wait for the whole answer. ``fallbacks`` are models tried in order when this
        one is unavailable; ``cache=False`` skips the response cache for this call.

        ``response_format`` takes a JSON Schema dict, a dataclass, a TypedDict or a pydantic model: the answer is
        checked against it and built into ``r.parsed`` (after ``repair_rounds=1`` more request showing the model
        its errors, else StructuredOutputError). ``tools`` takes tool dicts or Python functions (their schemas
        come from their signatures); ``client.run`` also calls them.

        >>> client.complete("Explain X", model="gemini-pro", temperature=0.7, max_tokens=200)  # doctest: +SKIP
        >>> client.complete("Invent a person", model="gpt-4o-mini", response_format=Person).parsed  # doctest: +SKIP
        """
        params = dict(params, temperature=temperature, max_tokens=max_tokens, top_p=top_p, stop=stop)
        options = ChatOptions.take(params)
        hops = self._prep.hops(model, fallbacks)
        if options.fmt is None:
            answer: Completion = self._pipeline.call(*self._prep.chat_plan(hops, prompt, messages, system, params,
                                                                           options, cache))
            return answer

        def send(turns: list[dict[str, Any]]) -> Completion:
            return self._pipeline.call(
                "complete", hops, lambda name: self._prep.chat_request(name, None, turns, None, params, options),
                parse_chat, cache is not False)

        from ..tools.structured import ask

        return ask(send, build_messages(prompt, messages, system), options.fmt, repair_rounds=options.repair_rounds)

    def stream(self, prompt: str | None = None, *, model: str | None = None,
               messages: Sequence[Mapping[str, Any]] | None = None, system: str | None = None,
               temperature: float | None = None, max_tokens: int | None = None, top_p: float | None = None,
               stop: str | Sequence[str] | None = None,
               fallbacks: Sequence[str] | None = None, cache: bool | None = None, **params: Any) -> Stream:
        """Send one chat turn and iterate over the answer as it arrives (streams are never cached). The answer
        is read up to its first chunk with content before the stream is handed over: until then, a stream that
        breaks is retried and falls back like any failed request; after it, a break is a StreamError.

        With ``response_format``, ``stream.completion.parsed`` is the checked answer at the end (no repair round:
        the text has been shown already; ``stream.completion`` raises StructuredOutputError when it fails).

        >>> with client.stream("Tell a story", model="gpt-4o-mini") as s:   # doctest: +SKIP
        ...     for chunk in s: print(chunk.text, end="")
        """
        params = dict(params, temperature=temperature, max_tokens=max_tokens, top_p=top_p, stop=stop)
        options = ChatOptions.take(params)
        return self._pipeline.stream(
            self._prep.hops(model, fallbacks),
            lambda name: self._prep.chat_request(name, prompt, messages, system, params, options, stream=True),
            finish=options.fmt.check if options.fmt is not None else None)

    def run(self, prompt: str | None = None, *, model: str | None = None, tools: Sequence[Any],
            max_turns: int = 8, raise_tool_errors: bool = False,  # tools.DEFAULT_MAX_TURNS (a test keeps them one)
            messages: Sequence[Mapping[str, Any]] | None = None, system: str | None = None,
            **params: Any) -> Completion:
        """Answer with tools: send, run the Python functions the model calls (several calls of one turn run
        concurrently on threads), send their results back, until the model answers in text.

        ``r.steps`` lists each call (name, arguments, result or error, seconds); usage and cost add up every
        turn. A function that raises gives the model its error text, unless ``raise_tool_errors=True``; arguments
        that fail the function's schema are sent back to the model, never passed. After ``max_turns`` requests
        still asking for tools: MaxTurnsError, with the transcript. Other params are those of ``complete``.

        >>> client.run("Weather in Paris?", model="gpt-4o-mini", tools=[get_weather]).text   # doctest: +SKIP
        """
        from ..tools._toolset import ToolSet, run_loop

        toolset = ToolSet.of(tools)
        if not toolset.runnable():
            raise errors.ValidationError("run() calls the tools itself: pass Python functions (a tool dict has no "
                                         "function to call; use complete(tools=[...]) for those)", param="tools",
                                         value=[t.name for t in toolset.tools.values() if t.fn is None])
        conversation = build_messages(prompt, messages, system)

        def send(turns: list[dict[str, Any]]) -> Completion:
            return self.complete(messages=turns, model=model, tools=toolset, **params)

        return run_loop(send, conversation, toolset, max_turns=max_turns, raise_tool_errors=raise_tool_errors)

    def count_tokens(self, prompt_or_messages: str | Sequence[Mapping[str, Any]], *, model: str | None = None,
                     system: str | None = None, **params: Any) -> TokenCount:
        """The prompt's size in tokens for ``model``: counted by the provider where it has an endpoint
        (Anthropic, Gemini, OpenAI, llama.cpp; ``exact=True``), else estimated (``exact=False``, see
        ``pepperpy.catalog.tokens``). ``tools`` and ``response_format`` count where the endpoint counts them.

        >>> client.count_tokens("Hello there", model="claude-haiku-4-5")   # doctest: +SKIP
        TokenCount(tokens=10, exact=True)
        """
        text = isinstance(prompt_or_messages, str)
        params = dict(params)
        options = ChatOptions.take(params)
        provider, spec, messages, checked = self._prep.prepare(
            self._prep.model_for(model, "chat"), prompt_or_messages if text else None,  # type: ignore[arg-type]
            None if text else prompt_or_messages,  # type: ignore[arg-type]
            system, params, preflight=False)
        runtime = self._runtimes.get(provider)
        messages, checked = options.apply(runtime.dialect, messages, checked)
        from ._count_tokens import count_tokens

        return count_tokens(runtime, provider, spec, messages, checked)

    def embed(self, input: str | Sequence[str], *, model: str | None = None, fallbacks: Sequence[str] | None = None,
              cache: bool | None = None, **params: Any) -> Embeddings:
        """Embed one text or a list of texts; ``vectors`` come back in input order.

        >>> client.embed(["a", "b"], model="text-embedding-3-small").vectors   # doctest: +SKIP
        """
        result: Embeddings = self._pipeline.call(*self._prep.embed_plan(input, model=model, fallbacks=fallbacks,
                                                                         cache=cache, **params))
        return result

    def map(self, prompts: Sequence[str | Sequence[Mapping[str, Any]]], *, model: str | None = None,
            max_workers: int | None = None, progress: bool | None = None, return_exceptions: bool = False,
            **kwargs: Any) -> list[Any]:
        """Complete many prompts (strings or message lists) at once; results in input order.

        All of them are in flight together (``max_workers``: at most that many; default: up to the Client's
        ``max_concurrency``), as ``acomplete`` calls on a private event loop, so a thousand prompts cost no
        thousand threads. Ctrl-C or an item's error (without ``return_exceptions``) stops the batch at once:
        the requests in flight are aborted and their connections closed.

        Each item is a Completion, or with ``return_exceptions=True`` the exception that item raised.
        ``progress`` shows a tqdm bar (None: when tqdm is installed and stderr is a terminal). See ``batch``.

        >>> [r.text for r in client.map(["2+2?", "3+3?"], model="gpt-4o-mini")]   # doctest: +SKIP
        """
        from ._map import map_completions

        return map_completions(self, prompts, model=self._prep.model_for(model, "chat"), max_workers=max_workers,
                               progress=progress, return_exceptions=return_exceptions, **kwargs)

    # ------------------------------------------------------------------ batches (pepperpy.jobs)

    def batch(self, items: Iterable[Any], *, model: str | None = None, **params: Any) -> BatchJob:
        """Submit many chat requests to the provider's batch API (about half price, results within hours).

        Each item is a prompt, a message list, or a dict of ``complete`` arguments (its own ``max_tokens``,
        ``system``...); ``params`` apply to every item. Items are checked against the catalog before anything
        is uploaded: one that fails is kept as its error in ``results()`` and the others go. See docs/jobs.md.

        >>> job = client.batch(["2+2?", "3+3?"], model="claude-haiku-4-5", max_tokens=20)   # doctest: +SKIP
        >>> job.id                                        # keep it: client.batch_job(id) resumes the job
        >>> [str(r) for r in job.wait() and job.results()]                                # doctest: +SKIP
        """
        from ..jobs import submit_batch

        return submit_batch(self._jobs(), items, model=self._prep.model_for(model, "chat"), params=params)

    def batch_job(self, id: str, *, response_format: Any = None) -> BatchJob:
        """The batch job with this id (``job.id``), from this process or another, today or later.

        ``response_format``: the one the batch was submitted with, for ``results()`` to parse the answers into
        it again (a Python type cannot travel in the id).

        >>> client.batch_job("batch:anthropic:eyJ2Ijox...").wait()   # doctest: +SKIP
        """
        from ..jobs import BatchJob, JobRef
        from ..tools.structured import ResponseFormat

        fmt = ResponseFormat.of(response_format) if response_format is not None else None
        return BatchJob(self._jobs(), JobRef.decode(id, "batch"), response_format=fmt)

    def _sessions(self) -> Sessions:
        from ..realtime import Sessions

        return Sessions(self._prep.media_model, self.settings, lambda: self.transport, self._pipeline,
                        self.workers.submit)

    def _jobs(self) -> Services:
        from ..jobs import Services

        return Services(self.catalog, self._pipeline, self._runtimes.get, self._prep.prepare, self.retry_policy)

    # ------------------------------------------------------------------ the catalog

    def model(self, name: str) -> ModelSpec:
        """The catalog entry for a model name, alias or ``"<provider>/<id>"``."""
        return self.catalog.resolve(name)[1]

    def models(self, provider: str | None = None, mode: str | None = None, capability: str | None = None,
               available: bool | None = None) -> list[ModelSpec]:
        """Catalog models, filtered; ``available=True`` keeps those whose provider has credentials."""
        found = self.catalog.models(provider, mode, capability)
        if available is None:
            return found
        ok = {p.name for p in self.catalog.providers.values() if self.settings.has_credentials(p)}
        return [m for m in found if (m.provider in ok) == available]

    def has_credentials(self, provider: str) -> bool:
        """Whether a call to ``provider`` would find its credentials (or needs none)."""
        return self.settings.has_credentials(self.catalog.provider(provider))

    def check_credentials(self, provider: str) -> None:
        """Raise ConfigurationError now, naming what to set, when ``provider``'s credentials are missing
        (it also opens the provider's connection pool, which later calls reuse)."""
        self._runtimes.get(self.catalog.provider(provider))

    def offered_models(self) -> list[ModelSpec]:
        """The models named in ``PEPPERPY_MODELS`` (or ``MODELS``, seed 004's name; or the user configuration
        file's ``models``) whose providers have credentials, in that order. Each provider left out for missing
        credentials is logged once per call, at INFO on ``pepperpy.config``, naming the variable to set.

        >>> os.environ["MODELS"] = "gpt-4o-mini,claude-haiku"      # doctest: +SKIP
        >>> [m.name for m in client.offered_models()]              # doctest: +SKIP
        ['openai/gpt-4o-mini']                    # and: INFO ... claude-haiku left out: set ANTHROPIC_API_KEY ...
        """
        result: list[ModelSpec] = []
        dropped: dict[str, tuple[ProviderSpec, list[str]]] = {}
        for name in self.settings.offered_models():
            provider, spec = self.catalog.resolve(name)
            if self.settings.has_credentials(provider):
                result.append(spec)
            else:
                dropped.setdefault(provider.name, (provider, []))[1].append(name)
        for provider, names in dropped.values():
            _log_dropped(provider, names)
        return result

    def sync_catalog(self, provider: str) -> CatalogDiff:
        """Ask the provider's own model-listing API what it offers (every page) and compare it with this
        Client's catalog: ``added`` (the catalog lacks them), ``removed`` (no longer listed), ``changed`` (limits
        and prices the listing reports differently). ``diff.write(folder)`` writes the new models as a catalog
        file. ValidationError for a provider without a listing API (StackSpot).

        >>> diff = client.sync_catalog("anthropic")             # doctest: +SKIP
        >>> print("\\n".join(diff.lines()))                      # doctest: +SKIP
        """
        spec = self.catalog.provider(provider)
        from ._catalog_sync import require_listing, sync_catalog

        require_listing(spec)  # before credentials: StackSpot has nothing to list, whatever its keys
        return sync_catalog(self._runtimes.get(spec), self.catalog)

    # ------------------------------------------------------------------ what the calls did

    def usage(self, *, reset: bool = False) -> UsageReport:
        """Totals of this Client's calls by ``"provider/model"``: calls, errors, tokens, cost, cache hits.

        ``reset=True`` returns them and starts again from zero. Thread-safe.

        >>> report = client.usage()                         # doctest: +SKIP
        >>> report.total.cost, report["openai/gpt-4o-mini"].calls   # doctest: +SKIP
        """
        return self._pipeline.observer.ledger.report(reset)

    def on(self, event: EventName, fn: Any) -> Any:
        """Call ``fn(event_object)`` on ``event``: ``"request"``, ``"response"``, ``"retry"``, ``"fallback"``,
        ``"breaker"`` or ``"cache_hit"`` (see ``pepperpy.observe.events``). Returns ``fn``, so it works as a
        decorator factory's target too. A hook that raises is logged and never breaks the call.

        >>> client.on("response", lambda e: print(e.model, e.status, e.cost))   # doctest: +SKIP
        """
        self._pipeline.observer.hooks.add(event, fn)
        return fn

    def off(self, event: EventName, fn: Any) -> bool:
        """Remove a hook added with ``on``; False when it was not there."""
        return self._pipeline.observer.hooks.remove(event, fn)

    def breaker_stats(self, provider: str) -> BreakerStats:
        """``BreakerStats(provider, state, failures, last_failure, last_failure_at, opened_at, times_opened)``
        of ``provider``'s circuit breaker.

        >>> client.breaker_stats("openai").times_opened   # doctest: +SKIP
        """
        return self._pipeline.breaker_stats(self.catalog.provider(provider))

    def breaker_state(self, provider: str) -> str:
        """``"closed"``, ``"open"``, ``"half-open"`` (the next call is a trial) or ``"disabled"`` (breaker=False);
        with ``shared_state``, the state every worker shares."""
        return self._pipeline.breaker_state(self.catalog.provider(provider))

    def cache_info(self) -> CacheInfo:
        """``CacheInfo(hits, misses, size, maxsize)`` of the response cache (all zero without one); with
        ``shared_state``, of the cache every worker shares."""
        return self._pipeline.cache_info()

    # ------------------------------------------------------------------ lifecycle

    def _after_fork(self) -> None:
        """In a forked child (gunicorn --preload), run by ``os.register_at_fork`` while the child has one thread:
        never share the parent's sockets, nor a lock a parent thread may have held at the fork."""
        self._prep.after_fork()
        self._async.after_fork()
        self._runtimes.after_fork()
        self._pipeline.after_fork()
        self.workers.after_fork()
        if (runner := self.__dict__.get("_map_runner")) is not None:
            runner.after_fork()

    def close(self) -> None:
        """Release every pooled connection. The Client stays usable: later calls open new ones."""
        if (runner := self.__dict__.get("_map_runner")) is not None:
            runner.close(before=self._runtimes.release_loop)  # map's loop, its connections first
        self._runtimes.close()
        self._pipeline.close()  # the shared state's connections, if any
        self.workers.shutdown()  # the async methods' worker threads; made again on the next await

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<pepperpy.Client providers={len(self.catalog.providers)} models={len(self.catalog)}>"
