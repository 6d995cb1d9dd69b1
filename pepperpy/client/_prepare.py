"""From a call's arguments to the request the pipeline sends: ``Preparer``, one per Client.

``hops`` lists the model and its fallbacks; ``prepare`` resolves a chat model and checks the call against its
catalog entry (mode, context, params, capabilities) before anything is sent; ``media_model`` does the same for
the media calls; ``chat_request`` and ``embed_request`` have the dialect build the request; ``chat_plan``,
``complete_plan`` and ``embed_plan`` are a call's arguments as ``Pipeline.call``'s (``acomplete`` / ``aembed``
take them too). A deprecated model, or a name the catalog does not list, warns once per Client (``warn_once``),
and every refusal suggests a model that fits (``example``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import requests

from .. import errors
from .._stores import default_config_path
from ..catalog._registry import Catalog
from ..catalog.validation import build_messages, check_context, check_embed_input, check_params, missing_capability
from ..config import default_model_var
from ..dialects.base import get_dialect
from ..pipeline._blocking import Prepared
from ..pipeline._runtimes import Runtime, Runtimes
from ..types import Completion, ModelSpec, ProviderSpec
from . import _options
from ._chat_options import ChatOptions

if TYPE_CHECKING:
    from ..types import Embeddings

__all__ = ["Plan", "Preparer", "article", "parse_chat"]

Plan = tuple[str, Sequence[str], Callable[[str], Prepared], Any, bool]  # Pipeline.call's arguments


_SCALARS = (str, int, float, bool, type(None))  # params whose value is its own canonical form (not lists, dicts)
_MEMO_SIZE = 512  # distinct plain calls a Client remembers (then it starts over)
_MEMO_TEXT = 8_192  # characters of prompt and system prompt at most: the memo never holds large texts


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside pepperpy."""
    import sys

    package = os.path.dirname(os.path.dirname(__file__))  # pepperpy/, from pepperpy/client/
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level


_METHODS = {"embedding": "embed", "image": "generate_image", "speech": "synthesize", "transcription": "transcribe",
            "video": "generate_video", "realtime": "realtime"}


def article(mode: str) -> str:
    """``"an image"``, ``"a speech"``: a mode with its article, for messages."""
    return ("an " if mode[:1] in "aeiou" else "a ") + mode


class Preparer:
    """Resolving, checking and building one Client's calls (see the module docstring). Thread-safe: the
    warnings already given are a set behind a lock."""

    def __init__(self, catalog: Catalog, runtimes: Runtimes, fallbacks: dict[str, list[str]]) -> None:
        self.catalog = catalog
        self.runtimes = runtimes
        self.fallbacks = fallbacks  # Client(fallbacks=) by name, id or provider/id
        self._warned: set[str] = set()  # deprecated models and unlisted names already warned about
        self._lock = threading.Lock()
        # With a response cache: plain chat calls made before, by their arguments (``_remembered``)
        self.memo = False
        self._memo: dict[tuple[Any, ...], Prepared] = {}
        self._memo_of: tuple[Catalog, int] | None = None

    def after_fork(self) -> None:
        """In a forked child: a parent thread may have held the lock at the fork."""
        self._lock = threading.Lock()

    def chat_plan(self, hops: Sequence[str], prompt: str | None, messages: Sequence[Mapping[str, Any]] | None,
                   system: str | None, params: dict[str, Any], options: ChatOptions, cache: bool | None
                   ) -> Plan:
        """What ``Pipeline.call`` (or its async twin) takes for one plain chat call."""
        return ("complete", hops, lambda name: self.chat_request(name, prompt, messages, system, params, options),
                parse_chat, cache is not False)

    def complete_plan(self, prompt: str | None = None, *, model: str | None = None,
                       messages: Sequence[Mapping[str, Any]] | None = None, system: str | None = None,
                       temperature: float | None = None, max_tokens: int | None = None, top_p: float | None = None,
                       stop: str | Sequence[str] | None = None, fallbacks: Sequence[str] | None = None,
                       cache: bool | None = None, **params: Any) -> Plan | None:
        """``complete``'s arguments as a pipeline call, for ``acomplete`` on the event loop; None when the call
        may need more than one (``response_format``'s repair round)."""
        params = dict(params, temperature=temperature, max_tokens=max_tokens, top_p=top_p, stop=stop)
        options = ChatOptions.take(params)
        if options.fmt is not None:
            return None
        return self.chat_plan(self.hops(model, fallbacks), prompt, messages, system, params, options, cache)

    def embed_plan(self, input: str | Sequence[str], *, model: str | None = None,
                   fallbacks: Sequence[str] | None = None,
                    cache: bool | None = None, **params: Any) -> Plan:
        """``embed``'s arguments as a pipeline call."""
        texts = check_embed_input(input)

        def parse(p: Prepared, response: requests.Response) -> Embeddings:
            result = p.runtime.parse_embed(p.model, response)
            if len(result.vectors) != len(texts):  # a vector per text, or a caller's zip() silently misaligns
                raise errors.ProviderAPIError(
                    f"{result.provider} returned {len(result.vectors)} vectors for {len(texts)} texts",
                    provider=result.provider, model=result.model, status_code=response.status_code)
            return result

        return ("embed", self.hops(model, fallbacks, "embedding"), lambda name: self.embed_request(name, texts, params),
                parse, cache is not False)

    def model_for(self, model: str | None, mode: str) -> str:
        """``model``, else the default model of ``mode`` calls (``PEPPERPY_DEFAULT_<MODE>_MODEL``, or the user
        configuration file's ``defaults.<mode>``); ConfigurationError naming the variable when neither is set."""
        if model is not None:
            return model
        found = self.runtimes.settings.mode_default(mode)
        if found is None:
            raise errors.ConfigurationError(
                f"no model given, and no default {mode} model is set: pass model=... (e.g. model="
                f"{self.example(mode, '')}), or set {default_model_var(mode)} in the environment or .env (or "
                f"defaults.{mode} in the user configuration file {default_config_path()})")
        return found[0]

    def hops(self, model: str | None, fallbacks: Sequence[str] | None, mode: str = "chat") -> Sequence[str]:
        """The model (``model_for``: the ``mode``'s default when None), then its fallbacks: the call's own, else
        ``Client(fallbacks=)`` by name, id or provider/id."""
        model = self.model_for(model, mode)
        if fallbacks is None and self.fallbacks:
            spec = self.catalog.resolve(model)[1]
            fallbacks = next((self.fallbacks[k] for k in (model, spec.id, spec.name) if k in self.fallbacks), None)
        elif fallbacks:
            _options.check_fallbacks(fallbacks)
            for name in fallbacks:
                self.catalog.resolve(name)  # unknown names raise ModelNotFoundError instead of being skipped
        return (model, *fallbacks) if fallbacks else (model,)

    def chat_request(self, model: str, prompt: str | None, messages: Sequence[Mapping[str, Any]] | None,
                      system: str | None, params: dict[str, Any], options: ChatOptions, *,
                      stream: bool = False) -> Prepared:
        memo = self._remembered(model, prompt, messages, system, params, options, stream)
        if memo is not None and memo[1] is not None:
            return memo[1]
        provider, spec, body_messages, checked = self.prepare(model, prompt, messages, system, params)
        runtime = self.runtimes.get(provider)
        body_messages, checked = options.apply(runtime.dialect, body_messages, checked)
        request = runtime.dialect.build_chat(provider, spec, body_messages, checked, stream=stream)
        if memo is None:
            return Prepared(runtime, spec, request, checked, body_messages)
        from ..resilience.cache import ResponseCache  # loaded with the Client's cache

        key = ResponseCache.key(provider.name, spec.wire_name, request, runtime.scope)
        prepared = self._memo[memo[0]] = Prepared(runtime, spec, request, checked, body_messages, cache_key=key)
        return prepared

    def _remembered(self, model: str, prompt: str | None, messages: Sequence[Mapping[str, Any]] | None,
                    system: str | None, params: dict[str, Any], options: ChatOptions, stream: bool
                    ) -> tuple[tuple[Any, ...], Prepared | None] | None:
        """For a Client with a response cache, a plain chat call (a prompt, scalar params, nothing pepperpy
        builds per call) is prepared, checked and keyed once: ``(its arguments, what they were prepared into
        before or None)``; None for any other call. The same arguments on the same catalog and runtimes make the
        same request (``prepare`` and the dialects read nothing else), so a cache hit repeats none of that work."""
        if (not self.memo or stream or messages is not None or options.fmt is not None or type(prompt) is not str
                or type(model) is not str or (system is not None and type(system) is not str)
                or len(prompt) + len(system or "") > _MEMO_TEXT):
            return None
        values = tuple(params.values())
        if values.count(None) == len(values):  # the common call: no params given (only their names count)
            return self._recall((model, prompt, system, *params))
        args: list[Any] = [model, prompt, system]
        for name, value in params.items():
            kind = type(value)
            if kind not in _SCALARS:
                return None
            # by type too, and floats by repr: 1, 1.0 and True are equal keys, -0.0 and 0.0 too, and each may
            # be checked or sent differently
            args.append((name, kind, repr(value) if kind is float else value))
        return self._recall(tuple(args))

    def _recall(self, key: tuple[Any, ...]) -> tuple[tuple[Any, ...], Prepared | None]:
        made_for = self._memo_of  # another catalog, or the runtimes rebuilt (transport, fork): forget it all
        if made_for is None or made_for[0] is not self.catalog or made_for[1] != self.runtimes.generation:
            self._memo, self._memo_of = {}, (self.catalog, self.runtimes.generation)
        found = self._memo.get(key)
        if found is None and len(self._memo) >= _MEMO_SIZE:
            self._memo = {}
        return key, found

    def embed_request(self, model: str, texts: list[str], params: dict[str, Any]) -> Prepared:
        provider, spec = self.catalog.resolve(model)
        self.warn_once(provider, spec)
        if spec.mode != "embedding" and not spec.open:
            raise errors.ValidationError(f"{spec.name} is {article(spec.mode)} model; embed() needs an embedding model "
                                         f"such as {self.example('embedding', provider.name)}", param="model",
                                         value=model)
        runtime = self.runtimes.get(provider)
        checked = check_params(spec, params, runtime.dialect.params | runtime.dialect.embed_params)
        return Prepared(runtime, spec, runtime.dialect.build_embed(provider, spec, texts, checked), checked,
                        texts=texts)

    def prepare(self, model: str, prompt: str | None, messages: Sequence[Mapping[str, Any]] | None,
                 system: str | None, params: dict[str, Any], *, preflight: bool = True
                 ) -> tuple[ProviderSpec, ModelSpec, list[dict[str, Any]], dict[str, Any]]:
        provider, spec = self.catalog.resolve(model)
        self.warn_once(provider, spec)
        if spec.mode != "chat":
            method = _METHODS.get(spec.mode, spec.mode)
            raise errors.ValidationError(f"{spec.name} is {article(spec.mode)} model; use client.{method}(), or a chat "
                                         f"model such as {self.example('chat', provider.name)}", param="model",
                                         value=model)
        turns = build_messages(prompt, messages, system)
        if preflight:
            check_context(spec, turns)  # certainly too long: ContextLengthError, and nothing is sent
        checked = check_params(spec, params, get_dialect(provider.dialect).params)
        missing = missing_capability(spec, turns, checked)
        if missing is not None:  # refused here rather than failing (or being retried) at the provider
            what = _CAPABILITY_WORDS.get(missing, f"what needs {missing!r}")
            raise errors.ValidationError(
                f"{spec.name} does not take {what}: its catalog entry lists no {missing!r} capability; use a model "
                f"that does, such as {self.example('chat', provider.name, missing)}",
                param="tools" if missing == "tools" else "messages", value=missing)
        return provider, spec, turns, checked

    def warn_once(self, provider: ProviderSpec, spec: ModelSpec) -> None:
        """Warn about a deprecated model, or a name the catalog does not list, once per Client and name."""
        unlisted = spec.open and not provider.open_models
        if (spec.deprecated is None and not unlisted) or spec.name in self._warned:
            return
        import warnings

        with self._lock:  # once per Client, even when threads make their first calls together
            if spec.name in self._warned:
                return
            self._warned.add(spec.name)
        if spec.deprecated is None:  # an unlisted name on a hosted provider
            close = [name for name in self.catalog.close_matches(spec.name) if "/" in name][:1]
            typo = f" (did you mean {close[0]!r}?)" if close else ""
            warnings.warn(f"{spec.name} is not in the catalog{typo}: sent to {provider.name} as typed, with no "
                          f"pre-flight checks and cost None. List it in a catalog file to give it limits and "
                          f"prices (docs/catalog.md), or pass strict_models=True to refuse unlisted names",
                          UserWarning, stacklevel=_caller_stacklevel())
            return
        current = [m for m in self.catalog.models(provider=spec.provider, mode=spec.mode) if m.deprecated is None]
        if spec.pricing is not None:  # the nearest in price first: a like-for-like successor, not the flagship
            current.sort(key=lambda m: abs(_price(m) - _price(spec)))
        replacements = [m.name for m in current[:2]]
        instead = f"; consider {' or '.join(replacements)}" if replacements else ""
        if _is_past(spec.deprecated):
            text = f"{spec.name} was retired on {spec.deprecated} by its provider: calls to it may fail{instead}"
        else:
            text = f"{spec.name} is deprecated: its provider retires it on {spec.deprecated}{instead}"
        warnings.warn(text, FutureWarning, stacklevel=_caller_stacklevel())

    def media_model(self, name: str, mode: str, method: str) -> tuple[ProviderSpec, ModelSpec, Runtime]:
        """The provider, model and runtime for a media call; ValidationError when the model's mode is not
        ``mode`` (naming one that is), before credentials are looked at."""
        provider, spec = self.catalog.resolve(name)
        self.warn_once(provider, spec)  # a deprecated model, or a name the catalog does not list
        hears = mode == "transcription" and spec.mode == "chat" and "audio" in spec.capabilities \
            and get_dialect(provider.dialect).transcribes_with_chat
        if spec.mode != mode and not spec.open and not hears:
            raise errors.ValidationError(f"{spec.name} is {article(spec.mode)} model; {method}() needs "
                                         f"{article(mode)} model such as {self.example(mode, provider.name)}",
                                         param="model", value=name)
        return provider, spec, self.runtimes.get(provider)

    def example(self, mode: str, provider: str, capability: str | None = None) -> str:
        """A model to suggest: the provider's default when it fits; else, of the provider's models that fit,
        a current one before a retiring one: the cheapest chat model (catalogs list flagships first), the first
        listed of other modes; else the same among every provider's."""
        def fits(m: ModelSpec) -> bool:
            return m.mode == mode and (capability is None or capability in m.capabilities)

        spec = self.catalog.providers.get(provider)
        default = spec.options.get("default_model") if spec is not None else None
        if default:
            try:
                chosen: ModelSpec | None = self.catalog.resolve(f"{provider}/{default}")[1]
            except errors.ModelNotFoundError:
                chosen = None
            if chosen is not None and fits(chosen) and chosen.deprecated is None:
                return repr(chosen.name)
        for scope in (provider, None) if spec is not None else (None,):
            found = [m for m in self.catalog.models(provider=scope) if fits(m)]
            current = [m for m in found if m.deprecated is None] or found
            if current:
                return repr((min(current, key=_price) if mode == "chat" else current[0]).name)
        return f"one from client.models(capability={capability!r})" if capability else "one from client.models()"


_CAPABILITY_WORDS = {"tools": "tools", "vision": "images", "audio": "audio input"}


def _is_past(day: str) -> bool:
    """Whether a catalog date (``YYYY-MM-DD``) is today or earlier."""
    import datetime

    try:
        return datetime.date.fromisoformat(str(day)) <= datetime.date.today()
    except ValueError:
        return False


def _price(model: ModelSpec) -> float:
    return model.pricing.input + model.pricing.output if model.pricing is not None else float("inf")


def parse_chat(p: Prepared, response: requests.Response) -> Completion:
    return p.runtime.parse_chat(p.model, response)
