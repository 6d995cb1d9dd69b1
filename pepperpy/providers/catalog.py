"""Catalog providers behind the seed API: ``create_provider`` and ``CatalogProvider``.

>>> from pepperpy.providers import create_provider
>>> with create_provider("openai", api_key="...", model="gpt-4o", timeout=30, max_retries=3) as p:  # doctest: +SKIP
...     print(p.complete("Explain quantum computing", temperature=0.7, max_tokens=200))
...     for chunk in p.complete("Tell me a story", stream=True):
...         print(chunk, end="")
...     vector = p.embed("Text to embed")
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

from .._redact import safe_url
from ..catalog.validation import CALL_ARGUMENTS, check_name, check_params, near_miss
from ..client._client import Client
from ..dialects.base import get_dialect
from ..errors import ConfigurationError, ModelNotFoundError, ModelRetiredError
from ..types import ModelSpec, ProviderSpec
from ._faces import BridgedProvider, uses_coroutines
from .aio import AsyncProvider
from .base import Provider, ProviderConfig, TextPieces
from .engine import ProviderEngine

__all__ = ["PROVIDER_OPTIONS", "SAMPLING_DEFAULTS", "CatalogProvider", "create_provider", "create_provider_async"]

SAMPLING_DEFAULTS = frozenset({"temperature", "max_tokens", "top_p", "top_k", "stop", "seed"})
# catalog provider options a keyword argument of create_provider may set (create_provider("openai",
# max_tokens_param="max_completion_tokens")); any option the provider's catalog entry has counts too
PROVIDER_OPTIONS = frozenset({"default_model", "max_tokens_param", "stream_usage", "referer_env", "title_env",
                              "auth_url", "client_id_env", "realm_env", "count_tokens", "structured_output"})
_ARGUMENTS = ("provider_type", "api_key", "model", "timeout", "max_retries", "extra_config", "base_url")

# extra_config keys that become provider settings or headers
_HEADER_KEYS = {"organization": "OpenAI-Organization", "project": "OpenAI-Project", "referer": "HTTP-Referer",
                "title": "X-Title"}



class CatalogProvider(Provider):
    """A catalog provider behind the seed API, backed by its own Client."""

    def __init__(self, config: ProviderConfig, client: Client | None = None) -> None:
        super().__init__(config)
        self._client = client
        self._owns_client = client is None
        self._defaults: dict[str, Any] = {}
        self._embed_defaults: dict[str, Any] = {}

    def initialize(self) -> None:
        """Build the Client and check everything a call would check, so a mistake fails here, not at the first
        call: the credentials, the model name, and the default params (names and catalog ranges)."""
        name = self.config.provider_type
        extra = dict(self.config.extra_config)
        if self._client is None:
            overrides: dict[str, Any] = {}
            if "base_url" in extra:
                overrides["base_url"] = _checked_base_url(extra.pop("base_url"))
            headers = {_HEADER_KEYS[k]: str(extra.pop(k)) for k in list(extra) if k in _HEADER_KEYS}
            if headers:
                overrides["headers"] = headers
            self._client = Client(api_keys={name: self.config.api_key} if self.config.api_key else None,
                                  timeout=self.config.timeout, max_retries=self.config.max_retries,
                                  providers={name: overrides} if overrides else None)
        spec = self._client.catalog.provider(name)
        dialect = get_dialect(spec.dialect)
        options = PROVIDER_OPTIONS | set(spec.options)
        # call params (create_provider(..., temperature=0.3)) are defaults of every call, not options
        self._defaults = {k: extra.pop(k) for k in list(extra) if k in SAMPLING_DEFAULTS or k in dialect.params}
        self._embed_defaults = {k: extra.pop(k) for k in list(extra) if k in dialect.embed_params}
        known = {*_ARGUMENTS, *_HEADER_KEYS, *options, *dialect.params, *dialect.embed_params, *CALL_ARGUMENTS}
        for key in extra:
            if key not in options:  # a typo (modle=, temprature=) would otherwise become an ignored option
                check_name(key, known, f"create_provider({name!r})")
        if extra:
            self._client.catalog = self._client.catalog.with_overrides({name: {"options": extra}})
        self._client.check_credentials(spec.name)  # fail here, not at the first call (as the SDKs do)
        if self.config.model is None:
            self.config.model = self._client.settings.default_model(spec) or _default_model(spec)
        if spec.dialect == "stackspot":
            self._require_agent(spec)
        if self.config.model is not None:
            model = self._client.model(self._model_name_of(self.config.model))  # ModelNotFoundError, suggestions
            if model.open and not spec.open_models and "/" not in self.config.model:
                self._refuse_near_miss(spec, self.config.model)
            check_params(model, dict(self._defaults), dialect.params)  # temperature=9: ValidationError now
        super().initialize()

    def _require_agent(self, spec: ProviderSpec) -> None:
        """A StackSpot "model" is an agent id: none (the catalog's placeholder), or a model name of another
        provider (the seed documents write ``model="gpt-4"``), is a ConfigurationError saying so, here."""
        from ..dialects.stackspot import PLACEHOLDER_AGENT, no_agent_id

        name = self.config.model
        agent = name.removeprefix(spec.name + "/") if name else None
        if not agent or agent == PLACEHOLDER_AGENT:
            raise no_agent_id(spec.name)
        assert self._client is not None
        catalog = self._client.catalog
        elsewhere = catalog.retired(agent) or (catalog.lists(agent) and catalog.resolve(agent)[0].name != spec.name)
        if elsewhere:
            raise no_agent_id(spec.name, agent)

    @staticmethod
    def _refuse_near_miss(spec: ProviderSpec, name: str) -> None:
        """A bare name the catalog does not list is sent as typed (a model newer than the catalog), unless it is
        one typo away from a listed one (``gpt-4o-mino``): ModelNotFoundError now, not a 404 at the first call."""
        listed = [n for m in spec.models if m.deprecated is None for n in (m.id, *m.aliases)]
        close = near_miss(name, listed)
        if close is not None:
            raise ModelNotFoundError(name, [close], f" {spec.name!r} lists no model {name!r}; to call a model the "
                                                    f"catalog does not list, name it with its provider: "
                                                    f"model={spec.name + '/' + name!r} (sent as typed).")

    def _worker_submit(self) -> Any:
        return self.client.workers.submit  # the Client's worker threads (raises once cleaned up)

    @property
    def client(self) -> Client:
        self._check_initialized()
        assert self._client is not None
        return self._client

    def _model_name(self, model: str | None, mode: str) -> str:
        provider = self.config.provider_type
        name = model or (self.config.model if mode == "chat" else None)
        if name is None:
            found = self.client.catalog.models(provider=provider, mode=mode)
            if not found:
                raise ConfigurationError(f"provider {provider!r} has no {mode} model in the catalog; "
                                         f"pass model=...")
            return found[0].name
        return self._model_name_of(name)

    def _model_name_of(self, name: str) -> str:
        """``name`` under this provider when the catalog has it there, else as given."""
        provider = self.config.provider_type
        qualified = name if name.startswith(provider + "/") else f"{provider}/{name}"
        assert self._client is not None
        try:
            self._client.catalog.resolve(qualified)
            return qualified
        except ModelRetiredError as exc:  # this provider's entry, said with its local names ("openai/gpt-4o")
            raise exc.named(name, exc.replacement.removeprefix(provider + "/")) from None
        except ModelNotFoundError:
            return name

    def model_spec(self, model: str | None = None) -> ModelSpec:
        return self.client.model(self._model_name(model, "chat"))

    def complete(self, prompt: str, *, temperature: float | None = None, max_tokens: int | None = None,
                 stream: bool = False, model: str | None = None, **kwargs: Any) -> str | Iterator[str]:
        name = self._model_name(model, "chat")
        defaults = self._defaults
        if defaults:  # sampling settings given to create_provider apply unless the call sets them
            temperature = defaults.get("temperature") if temperature is None else temperature
            max_tokens = defaults.get("max_tokens") if max_tokens is None else max_tokens
            kwargs = {**{k: v for k, v in defaults.items() if k not in ("temperature", "max_tokens")}, **kwargs}
        if stream:
            return TextPieces(self.client.stream(prompt, model=name, temperature=temperature,
                                                 max_tokens=max_tokens, **kwargs))
        return self.client.complete(prompt, model=name, temperature=temperature, max_tokens=max_tokens,
                                    **kwargs).text

    @overload
    def embed(self, text: str, *, model: str | None = None, **kwargs: Any) -> list[float]: ...

    @overload
    def embed(self, text: Sequence[str], *, model: str | None = None, **kwargs: Any) -> list[list[float]]: ...

    def embed(self, text: str | Sequence[str], *, model: str | None = None,
              **kwargs: Any) -> list[float] | list[list[float]]:
        """The vector of one text, or one vector per text of a list (in order)."""
        kwargs = {**self._embed_defaults, **kwargs}
        vectors = self.client.embed(text, model=self._model_name(model, "embedding"), **kwargs).vectors
        return vectors[0] if isinstance(text, str) else vectors

    def cleanup(self) -> None:
        if self._client is not None and self._owns_client:
            self._client.close()
        super().cleanup()


def _default_model(spec: ProviderSpec) -> str | None:
    """The catalog's ``options.default_model``, else the provider's cheapest current chat model."""
    chosen = spec.options.get("default_model")
    if chosen:
        return str(chosen)
    chat = [m for m in spec.models if m.mode == "chat" and m.deprecated is None] or \
        [m for m in spec.models if m.mode == "chat"]
    priced = sorted(chat, key=lambda m: (m.pricing.input + m.pricing.output) if m.pricing else float("inf"))
    return priced[0].id if priced else None


def create_provider(provider_type: str, api_key: str | None = None, model: str | None = None,
                    timeout: float | None = None, max_retries: int | None = None,
                    extra_config: dict[str, Any] | None = None, **kwargs: Any) -> Provider:
    """Build and initialize a provider: a registered custom class, else the catalog provider of that name.

    ``timeout`` and ``max_retries`` default to a Client's (the catalog's timeout, else 60 s; 2 retries).
    The key comes from ``api_key`` or the usual environment variables (a missing one raises
    ConfigurationError here); the model from ``model``, else ``PEPPERPY_PROVIDER_<NAME>_MODEL``, else the
    catalog's ``options.default_model``, else the provider's cheapest current chat model. Sampling settings
    (``temperature=``, ``max_tokens=``, ``top_p=``, ``stop=``, ``seed=``) become defaults of every call.
    """
    extra = dict(extra_config or {}, **kwargs)
    config = ProviderConfig(provider_type, api_key, model, timeout, max_retries, extra)
    custom = ProviderEngine.get(provider_type)
    if custom is None:
        provider: Provider = CatalogProvider(config)
    else:
        provider = custom(config)
        if uses_coroutines(provider):  # async def methods: served on the provider's own loop, both faces
            provider = BridgedProvider(provider)
    provider.initialize()
    return provider


def _checked_base_url(value: Any) -> str:
    """``extra_config['base_url']`` when it is an http(s) URL; ConfigurationError saying what it takes."""
    url = value.strip() if isinstance(value, str) else ""
    if url.startswith(("http://", "https://")) and "://" in url and not any(c.isspace() for c in url):
        return url
    shown = safe_url(value) if isinstance(value, str) else type(value).__name__
    raise ConfigurationError(f"extra_config['base_url']={shown!r} is not an http(s) URL: give the provider's "
                             f"whole API address, such as 'https://api.openai.com/v1' or 'http://localhost:8000/v1' "
                             f"(pepperpy adds the paths of each call to it)")


async def create_provider_async(provider_type: str, api_key: str | None = None, model: str | None = None,
                                timeout: float | None = None, max_retries: int | None = None,
                                extra_config: dict[str, Any] | None = None, **kwargs: Any) -> AsyncProvider:
    """``pepperpy.aio.create_provider``: :func:`create_provider` run in a worker thread (it reads the catalog),
    giving the provider's async twin. ``await pepperpy.providers.create_provider(...)`` gives the same twin
    without the thread (the few milliseconds of building happen on the event loop).

    >>> async with await pepperpy.aio.create_provider("openai", api_key="...", model="gpt-4o") as p:  # doctest: +SKIP
    ...     print(await p.complete("Hello!"))
    """
    import asyncio

    provider = await asyncio.to_thread(create_provider, provider_type, api_key, model, timeout, max_retries,
                                       extra_config, **kwargs)
    return provider.aio
