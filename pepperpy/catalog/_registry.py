"""The catalog: YAML files -> JSON Schema -> frozen specs -> one name index.

The packaged files load first; extra files or folders (``Client(catalog=...)``, ``PEPPERPY_CATALOG_PATH``)
load after them, in order. A later file may add a provider, extend an existing one (its provider-level keys
override, its models add or replace ``(provider, id)`` pairs), or redirect a bare name.

Name resolution, in order:
1. ``"<provider>/<id-or-alias>"`` for a listed model;
2. a bare id or alias (when several providers list it, the one loaded last wins: user files override), then a
   model's ``api_name`` (the name the provider itself uses);
3. ``"<provider>/<anything>"`` when the provider has ``open_models: true`` (``<anything>`` goes on the wire);
4. the same, case-insensitively;
5. a dated snapshot (``gpt-4o-2024-11-20``, ``claude-x-20250101``, ``gemini-y-001``) or a fine-tune
   (``ft:gpt-4o-mini:org::id``) of a listed model: that model's entry (limits, capabilities, prices), sent as typed;
6. any other ``"<provider>/<name>"``: sent as typed with no pre-flight checks and no price (the Client warns
   once per name); otherwise ModelNotFoundError with close matches and how to call an unlisted model.
``strict=True`` stops after step 4: only what the catalog lists resolves (open_models providers stay open).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._lazy import lazy
from ..errors import CatalogError, ConfigurationError, ModelNotFoundError, ModelRetiredError, ValidationError
from ..types import ModelSpec, ProviderSpec, RetiredModel
from ..types._evolve import evolve
from ._files import CATALOG_PATH_ENV, catalog_files, packaged_catalog_dir, schema_problems
from ._specs import DEFAULT_DIALECT, Deferred, build, merge, model_spec, provider_spec

__all__ = ["CAPABILITIES", "DEFAULT_DIALECT", "MODES", "Catalog", "catalog_files", "check_file", "model_spec",
           "packaged_catalog_dir"]

if TYPE_CHECKING:
    from ._checks import check_file

__getattr__, _ = lazy(__name__, {"check_file": "pepperpy.catalog._checks"})  # for the files people write

_OPEN_CAPABILITIES = frozenset({"streaming", "system_prompt"})
# The schema's enums for a model's mode and capabilities (a test keeps them equal), for checking filters
MODES = ("chat", "embedding", "image", "speech", "transcription", "video", "realtime")
CAPABILITIES = ("streaming", "tools", "json_output", "vision", "reasoning", "system_prompt", "audio", "pdf",
                "prompt_caching", "batch")

_FINE_TUNE = r"^ft:(?P<base>[^:]+):"  # OpenAI's ft:<base model>:<org>:<suffix>:<id>
# a date or version after a model name: -2024-11-20, -20241022, -0613 / -2411, -001, @20240620
_DATED = r"^(?P<base>.+?)(?:-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{3,4}|@\d{8})$"  # compiled when first used


def _is_past(day: str) -> bool:
    import datetime

    try:
        return datetime.date.fromisoformat(day) <= datetime.date.today()
    except ValueError:
        return True


def _base_names(name: str) -> list[str]:
    """The listed names a fine-tune or dated snapshot called ``name`` may inherit from, closest first."""
    bases = []
    tuned = re.match(_FINE_TUNE, name)
    if tuned:
        name = tuned["base"]
        bases.append(name)
    dated = re.match(_DATED, name)
    if dated:  # Mistral's dated names stand for its "-latest" ids
        bases += [dated["base"], dated["base"] + "-latest"]
    return bases


_Key = tuple[str, str, "str | None"]  # (provider, model id, the name a snapshot sends; None: the model's own)


class _Providers(Mapping[str, ProviderSpec]):
    """A Catalog's providers by name, each spec made on first use (``Catalog._spec``)."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def __getitem__(self, name: str) -> ProviderSpec:
        return self._catalog._spec(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._catalog._sources)

    def __len__(self) -> int:
        return len(self._catalog._sources)

    def __contains__(self, name: object) -> bool:
        return name in self._catalog._sources

    def __repr__(self) -> str:
        return f"<providers {', '.join(self._catalog._sources)}>"


class Catalog:
    """Every provider and model known to one Client, and the name index over them.

    >>> catalog = Catalog.load()                       # doctest: +SKIP
    >>> provider, model = catalog.resolve("gpt-4o")    # doctest: +SKIP
    """

    def __init__(self, providers: Mapping[str, ProviderSpec | Deferred], *, strict: bool = False) -> None:
        self._sources: dict[str, ProviderSpec | Deferred] = dict(providers)
        self._build_lock = threading.Lock()
        self.providers: Mapping[str, ProviderSpec] = _Providers(self)
        self.strict = strict
        # The name index holds keys (provider, model id, the name sent for a snapshot); the specs they stand for
        # are made when first resolved (``_entry``), so an unused provider of the packaged catalog is never built
        index: dict[str, _Key] = {}
        qualified: dict[str, _Key] = {}
        for provider, models in self._summaries():
            for model_id, aliases, snapshots, _, _ in models:
                for name in (model_id, *aliases):
                    index[name] = qualified[f"{provider}/{name}"] = (provider, model_id, None)
                for name in snapshots:  # a dated name goes on the wire as typed
                    index[name] = qualified[f"{provider}/{name}"] = (provider, model_id, name)
        for provider, models in self._summaries():  # the provider's own name of a model, when no id took it
            for model_id, _, _, api_name, _ in models:
                if api_name:
                    qualified.setdefault(f"{provider}/{api_name}", (provider, model_id, None))
                    if api_name.partition("/")[0] not in self._sources:  # "openai/x" keeps meaning openai
                        index.setdefault(api_name, (provider, model_id, None))
        index.update(qualified)  # "<provider>/<id>" beats a bare id that happens to contain a slash
        self._keys = index
        self._lower = {name.lower(): key for name, key in index.items()}
        self._current = frozenset(f"{provider}/{model_id}" for provider, models in self._summaries()
                                  for model_id, _, _, _, deprecated in models if deprecated is None)
        self._index: dict[str, tuple[ProviderSpec, ModelSpec]] = {}  # the keys resolved so far, as specs
        retired: dict[str, tuple[str, str]] = {}
        for provider, entries in self._retired_names():  # bare names first: "<provider>/<name>" wins, as above
            retired.update((name, (provider, entry_id)) for entry_id, names in entries for name in names)
        for provider, entries in self._retired_names():
            retired.update((f"{provider}/{name}", (provider, entry_id)) for entry_id, names in entries
                           for name in names)
        self._retired = {name.lower(): entry for name, entry in retired.items()}
        self._open: dict[str, tuple[ProviderSpec, ModelSpec]] = {}
        self._open_lock = threading.Lock()

    def _summaries(self) -> Iterator[tuple[str, list[tuple[str, tuple[str, ...], tuple[str, ...], str, Any]]]]:
        """Each provider's models as (id, aliases, snapshots, api_name, deprecated), from its spec or its data."""
        for name, source in self._sources.items():
            if isinstance(source, Deferred):
                yield name, [(m["id"], tuple(m.get("aliases", ())), tuple(m.get("snapshots", ())),
                              m.get("api_name", ""), m.get("deprecated")) for m in source.data.get("models") or ()]
            else:
                yield name, [(m.id, m.aliases, m.snapshots, m.api_name, m.deprecated) for m in source.models]

    def _retired_names(self) -> Iterator[tuple[str, list[tuple[str, tuple[str, ...]]]]]:
        for name, source in self._sources.items():
            if isinstance(source, Deferred):
                yield name, [(r["id"], (r["id"], *r.get("aliases", ()))) for r in source.data.get("retired") or ()]
            else:
                yield name, [(r.id, r.names) for r in source.retired]

    def _spec(self, name: str) -> ProviderSpec:
        """The provider's spec, built on first use (thread-safe: built once)."""
        source = self._sources[name]
        if isinstance(source, ProviderSpec):
            return source
        with self._build_lock:
            source = self._sources[name]
            if isinstance(source, Deferred):
                source = self._sources[name] = build(source)
        return source

    def _entry(self, name: str) -> tuple[ProviderSpec, ModelSpec] | None:
        """(provider, model) for a listed name, its specs made on first use; None for a name not listed."""
        entry = self._index.get(name)
        if entry is None:
            key = self._keys.get(name)
            if key is None:
                return None
            entry = self._index[name] = self._materialize(key)
        return entry

    def _materialize(self, key: _Key) -> tuple[ProviderSpec, ModelSpec]:
        provider = self._spec(key[0])
        model = next(m for m in provider.models if m.id == key[1])
        return provider, (model if key[2] is None else evolve(model, api_name=key[2]))

    @classmethod
    def load(cls, extra: Iterable[str | os.PathLike[str]] = (), *, include_env: bool = True,
             environ: Mapping[str, str] | None = None, strict: bool = False) -> Catalog:
        """Load the packaged catalog, then ``PEPPERPY_CATALOG_PATH``, then ``extra``."""
        env = os.environ if environ is None else environ
        paths: list[str | os.PathLike[str]] = [packaged_catalog_dir()]
        if include_env and env.get(CATALOG_PATH_ENV):
            paths.extend(p for p in env[CATALOG_PATH_ENV].split(os.pathsep) if p)
        paths.extend(extra)
        problems: list[CatalogError] = []
        files: list[Path] = []
        for path in paths:
            try:
                files.extend(catalog_files([path]))
            except CatalogError as exc:  # a missing folder is one problem among the others
                problems.append(exc)
        return cls._from_files(files, problems, strict, defer=packaged_catalog_dir())

    @classmethod
    def from_files(cls, files: Iterable[Path], *, strict: bool = False) -> Catalog:
        """The catalog of these files, merged in order; one CatalogError listing every problem of every file."""
        return cls._from_files(files, [], strict)

    @classmethod
    def _from_files(cls, files: Iterable[Path], problems: list[CatalogError], strict: bool,
                    defer: Path | None = None) -> Catalog:
        providers = merge(files, problems, defer=defer)
        if problems:
            raise CatalogError.of(problems)
        return cls(providers, strict=strict)

    @staticmethod
    def merge_problems(files: Iterable[Path]) -> list[CatalogError]:
        """Every problem of merging these files in order (a new provider without ``base_url``...), for
        ``pepperpy catalog validate``; a file with a problem is left out and the merge goes on."""
        problems: list[CatalogError] = []
        merge(files, problems)
        return problems

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any]]) -> Catalog:
        """A copy with provider settings given in code applied as a later catalog file would apply them:
        checked by the same schema (a CatalogError names ``providers['openai'].timeout``), merged by the
        same code (``headers`` and ``options`` merge, ``models`` add or replace).

        >>> catalog.with_overrides({"openai": {"base_url": "http://localhost:8000/v1"}})   # doctest: +SKIP
        """
        providers = dict(self._sources)  # the providers not overridden stay unbuilt
        problems: list[CatalogError] = []
        for name, values in overrides.items():
            previous = self.provider(name)
            label = f"providers[{name!r}]"
            if not isinstance(values, Mapping) or "provider" in values:
                problems.append(CatalogError("takes a mapping of provider settings, e.g. {'base_url': "
                                             "'http://localhost:8000/v1'} (the provider is the key)", field=label))
                continue
            data = {"provider": name, **values}
            found = _override_problems(data, label)
            if found:
                problems.extend(found)
                continue
            providers[name] = provider_spec(data, previous, previous.file)
        if problems:
            raise CatalogError.of(problems)
        return Catalog(providers, strict=self.strict)

    # ------------------------------------------------------------------ lookups

    def resolve(self, name: str) -> tuple[ProviderSpec, ModelSpec]:
        """(provider, model) for a model name (the order is in the module docstring); ModelNotFoundError with
        suggestions and how to call a model the catalog does not list."""
        entry = self._index.get(name) or self._open.get(name) if isinstance(name, str) else None
        if entry is not None:
            return entry
        if isinstance(name, str) and name in self._keys:  # listed: its specs are made now, once
            found = self._entry(name)
            assert found is not None
            return found
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"model= takes a catalog model's name (an id, an alias or '<provider>/<id>'), e.g. "
                                  f"'gpt-4o-mini', not {name!r}", param="model", value=name)
        if name != name.strip():  # pasted with a space or a newline: not a name the provider would know either
            stripped = name.strip()
            known = stripped in self._keys or stripped.lower() in self._lower
            raise ModelNotFoundError(name, [stripped] if known else self.close_matches(stripped),
                                     " The name has spaces or line breaks around it; remove them.")
        if self._retired:
            self._refuse_retired(name)
        prefix, _, rest = name.partition("/")
        provider = self.providers.get(prefix)
        key = self._lower.get(name.lower())
        if key is not None and (provider is None or not provider.open_models):
            return self._materialize(key)
        if not self.strict:
            entry = self._inherited(provider, rest) if provider is not None else self._inherited(None, name)
            if entry is not None:
                return self._remember(name, entry)
        if provider is not None and rest and (provider.open_models or not self.strict):
            # open_models, or a hosted provider's unlisted name: sent as typed, nothing checked, no price
            return self._remember(name, (provider, ModelSpec(id=rest, provider=prefix, capabilities=_OPEN_CAPABILITIES,
                                                             open=True)))
        if provider is not None and not rest:  # "openai": a provider where a model was expected
            default = provider.options.get("default_model")
            chat = [m.name for m in provider.models if m.mode == "chat" and m.deprecated is None]
            if default:  # the provider's everyday model first (the list starts with its flagships)
                chat.insert(0, self.resolve(f"{name}/{default}")[1].name)
            chat = list(dict.fromkeys(chat))[:3]
            raise ModelNotFoundError(name, chat, f" {name!r} is a provider; name one of its models "
                                                 f"(`pepperpy models --provider {name}`).")
        suggestions = self.close_matches(name)
        if provider is not None:  # strict: a hosted provider's unlisted name
            hint = (f" Provider {prefix!r} lists no model {rest!r}: add it to a catalog YAML file (see "
                    f"docs/catalog.md), or leave strict_models off to send unlisted names as typed.")
        elif self.strict:
            hint = " strict_models refuses names the catalog does not list: add it to a catalog YAML file."
        else:
            bare = [key for key in self._keys if "/" not in key]  # a looser match only guesses the provider
            like = suggestions or _close_matches(name, bare, n=1, cutoff=0.5)
            where = self._keys[like[0]][0] if like else "<provider>"
            hint = (f" See client.models() for every model; to call one the catalog does not list, name its "
                    f"provider: {where + '/' + name!r} (sent as typed, without pre-flight checks; see "
                    f"docs/catalog.md).")
        raise ModelNotFoundError(name, suggestions, hint)

    def lists(self, name: str) -> bool:
        """Whether ``name`` is a name the catalog lists (an id, an alias, a snapshot, ``<provider>/<id>``)."""
        return name in self._keys

    def retired(self, name: str) -> tuple[ProviderSpec, RetiredModel] | None:
        """(provider, entry) when ``name`` (an id, alias or ``<provider>/<name>``, any case, or a dated snapshot of
        one) is a name its provider retired; None otherwise. Names the catalog lists are never retired."""
        if name in self._keys:
            return None
        for candidate in (name, *_base_names(name)):
            found = self._retired.get(candidate.lower())
            if found is not None:
                provider = self._spec(found[0])
                return provider, next(entry for entry in provider.retired if entry.id == found[1])
        return None

    def _refuse_retired(self, name: str) -> None:
        found = self.retired(name)
        if found is None:
            return
        provider, entry = found
        qualified = name.lower().startswith(provider.name + "/")
        replacement = f"{provider.name}/{entry.replacement}" if qualified else entry.replacement
        raise ModelRetiredError(name, retired_on=entry.date, retired_by=entry.by or provider.title,
                                replacement=replacement, past=_is_past(entry.date), note=entry.notes or "")

    def close_matches(self, name: str) -> list[str]:
        """Up to three listed names close to ``name``, current models only (a retiring one is no fix for a typo)."""
        candidates = [name for name, (provider, model_id, _) in self._keys.items()
                      if f"{provider}/{model_id}" in self._current]
        suggestions = _close_matches(name, candidates, n=3, cutoff=0.6)
        if not suggestions and "/" not in name:
            suggestions = [c for c in candidates if "/" not in c and name.lower() in c.lower()][:3]
        return suggestions

    def _inherited(self, provider: ProviderSpec | None, name: str) -> tuple[ProviderSpec, ModelSpec] | None:
        """The entry a dated snapshot or a fine-tune of a listed model inherits, sent as ``name`` (step 5)."""
        for base in _base_names(name):
            entry = self._entry(f"{provider.name}/{base}" if provider is not None else base)
            if entry is not None:
                owner, model = entry
                return owner, evolve(model, api_name=name, aliases=(), snapshots=())
        return None

    def _remember(self, name: str, entry: tuple[ProviderSpec, ModelSpec]) -> tuple[ProviderSpec, ModelSpec]:
        with self._open_lock:
            if len(self._open) > 4096:  # bounded: these names come from callers
                self._open.clear()
            self._open[name] = entry
        return entry

    def provider(self, name: str) -> ProviderSpec:
        """The provider of that name; ConfigurationError naming the known ones (a provider name comes from
        configuration: ``api_keys=``, ``providers=``, ``create_provider``)."""
        try:
            return self._spec(name)
        except KeyError:
            close = _close_matches(name, list(self.providers), n=3)
            guess = f"; did you mean {', '.join(map(repr, close))}?" if close else "."
            raise ConfigurationError(f"unknown provider {name!r}{guess} Known providers: "
                                     f"{', '.join(sorted(self.providers))} (add one with a catalog file, see "
                                     f"docs/catalog.md)") from None

    def models(self, provider: str | None = None, mode: str | None = None,
               capability: str | None = None) -> list[ModelSpec]:
        """The models matching every filter given; a filter no model could match (a misspelt provider, mode or
        capability) is an error, not an empty list."""
        if provider is not None:
            self.provider(provider)
        for label, value, known in (("mode", mode, MODES), ("capability", capability, CAPABILITIES)):
            if value is not None and value not in known:
                close = _close_matches(str(value), known, n=1, cutoff=0.6)
                guess = f"; did you mean {close[0]!r}?" if close else "."
                raise ValidationError(f"no {label} {value!r}{guess} Known: {', '.join(known)}", param=label,
                                      value=value)
        return [m for m in self.iter_models()
                if (provider is None or m.provider == provider) and (mode is None or m.mode == mode)
                and (capability is None or capability in m.capabilities)]

    def iter_models(self) -> Iterator[ModelSpec]:
        for provider in self.providers.values():
            yield from provider.models

    def __len__(self) -> int:
        return sum(len(models) for _, models in self._summaries())


def _override_problems(data: dict[str, Any], label: str) -> list[CatalogError]:
    """Every problem of settings given in code, by the catalog's schema and checks. Settings found valid are
    remembered by their content, as validated files are (``_packed``): a script that passes the same
    ``providers=`` every run validates them once, and imports no JSON Schema after that."""
    from ._packed import remember_valid, remembered_valid

    try:
        content = json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError):  # not JSON at all: the schema says what is wrong
        content = None
    if content is not None and remembered_valid(content):
        return []
    from ._checks import semantic_problems  # the checks load for files and overrides people wrote

    found = schema_problems(data, file=None, prefix=label) + semantic_problems(data, file=None, prefix=label)
    if not found and content is not None:
        remember_valid(content, data)
    return found


def _close_matches(word: str, possibilities: Iterable[str] | list[str], **options: Any) -> list[str]:
    import difflib  # only a mistake needs it

    return difflib.get_close_matches(word, list(possibilities), **options)
