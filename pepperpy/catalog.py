"""The catalog: YAML files -> JSON Schema -> frozen specs -> one name index.

The packaged files load first; extra files or folders (``Client(catalog=...)``, ``PEPPERPY_CATALOG_PATH``)
load after them, in order. A later file may add a provider, extend an existing one (its provider-level keys
override, its models add or replace ``(provider, id)`` pairs), or redirect a bare name.

Name resolution, in order:
1. ``"<provider>/<id-or-alias>"`` for a listed model;
2. a bare id or alias (when several providers list it, the one loaded last wins: user files override);
3. ``"<provider>/<anything>"`` when the provider has ``open_models: true`` (``<anything>`` goes on the wire);
4. the same, case-insensitively; otherwise ModelNotFoundError with close matches.
"""

from __future__ import annotations

import difflib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import CatalogError, ModelNotFoundError
from .types import ModelSpec, ParamRange, Pricing, ProviderSpec

SCHEMA_PATH = Path(__file__).with_name("catalog.schema.json")
CATALOG_PATH_ENV = "PEPPERPY_CATALOG_PATH"
_OPEN_CAPABILITIES = frozenset({"streaming", "system_prompt"})


def packaged_catalog_dir() -> Path:
    """The folder of YAML files shipped with pepperpy (inside the wheel, or ``catalog/`` in a checkout)."""
    installed = Path(__file__).with_name("_catalog_data")
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "catalog"


def catalog_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files and folders (``*.yaml`` / ``*.yml``, sorted) into a list of files."""
    files: list[Path] = []
    for entry in paths:
        path = Path(entry).expanduser()
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        elif path.is_file():
            files.append(path)
        else:
            raise CatalogError("no such catalog file or folder", file=str(path))
    return files


# --------------------------------------------------------------------------- YAML and schema

def _loader() -> type:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(base):  # type: ignore[valid-type,misc]
        """Safe loader that keeps dates as strings ('deprecated: 2026-06-01')."""

    _Loader.yaml_implicit_resolvers = {
        key: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in base.yaml_implicit_resolvers.items()
    }
    return _Loader


class _Validator:
    """The schema validator, built once per process on first use (building it costs milliseconds)."""

    _lock = threading.Lock()
    _instance: Any = None

    @classmethod
    def get(cls) -> Any:
        with cls._lock:
            if cls._instance is None:
                from jsonschema import Draft202012Validator

                schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
                cls._instance = Draft202012Validator(schema)
            return cls._instance


def _line_of(text: str, path: Sequence[str | int]) -> int | None:
    """The 1-based line of the YAML node at ``path`` (the deepest node that exists)."""
    import yaml

    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == step), None)
            key = next((k for k, _ in node.value if k.value == step), None)
            if match is None:
                break
            line = (key or match).start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _field(path: Sequence[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))


def read_file(path: Path) -> tuple[str, Any]:
    """Read and parse one YAML file; CatalogError (with the line) when it is not valid YAML."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read: {exc.strerror}", file=str(path)) from exc
    try:
        return text, yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(f"invalid YAML: {problem}", file=str(path),
                           line=mark.line + 1 if mark else None) from exc


def check_file(path: Path) -> list[CatalogError]:
    """Every problem of one file, for ``pepperpy catalog validate``; empty when it is fine."""
    try:
        text, data = read_file(path)
    except CatalogError as exc:
        return [exc]
    problems = _schema_problems(path, text, data)
    if not problems:
        try:
            _check_semantics(path, text, data)
        except CatalogError as exc:
            problems.append(exc)
    return problems


def _schema_problems(path: Path, text: str, data: Any) -> list[CatalogError]:
    if not isinstance(data, dict):
        return [CatalogError("a catalog file must be a mapping with 'provider' and 'models'", file=str(path),
                             line=1)]
    errors = sorted(_Validator.get().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    problems = []
    for err in errors:
        where = list(err.absolute_path)
        message = err.message
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            if extra:
                where.append(extra[0])
                allowed = ", ".join(sorted(err.schema.get("properties", {})))
                message = f"unknown key {extra[0]!r} (allowed: {allowed})"
        elif err.validator == "oneOf" and where and "params" in where:
            message = f"{err.instance!r} is not a range: use {{min: N, max: N}}, or false when unsupported"
        problems.append(CatalogError(message, file=str(path), line=_line_of(text, where),
                                     field=_field(where) or "(top)"))
    return problems


def _check_semantics(path: Path, text: str, data: dict[str, Any]) -> None:
    seen: set[str] = set()
    for i, model in enumerate(data.get("models") or ()):
        for name in (model["id"], *model.get("aliases", ())):
            if name in seen:
                where: list[str | int] = ["models", i, "id"]
                raise CatalogError(f"{name!r} is listed twice in this file", file=str(path),
                                   line=_line_of(text, where), field=_field(where))
            seen.add(name)
        if model["mode"] == "chat" and "max_output_tokens" not in model:
            where = ["models", i]
            raise CatalogError("a chat model needs max_output_tokens", file=str(path),
                               line=_line_of(text, where), field=_field(where))
        if model.get("max_output_tokens", 0) > model["context_window"]:
            where = ["models", i, "max_output_tokens"]
            raise CatalogError("max_output_tokens is larger than context_window", file=str(path),
                               line=_line_of(text, where), field=_field(where))
        for pname, prange in (model.get("params") or {}).items():
            if isinstance(prange, dict) and prange.get("min", -1e300) > prange.get("max", 1e300):
                where = ["models", i, "params", pname]
                raise CatalogError("min is larger than max", file=str(path), line=_line_of(text, where),
                                   field=_field(where))


# --------------------------------------------------------------------------- specs

def _model_spec(provider: str, raw: Mapping[str, Any]) -> ModelSpec:
    params = {name: ParamRange(supported=False) if value is False else ParamRange(value.get("min"), value.get("max"))
              for name, value in (raw.get("params") or {}).items()}
    pricing = raw.get("pricing")
    return ModelSpec(
        id=raw["id"], provider=provider, mode=raw["mode"], api_name=raw.get("api_name", ""),
        aliases=tuple(raw.get("aliases", ())), context_window=raw.get("context_window"),
        max_output_tokens=raw.get("max_output_tokens"), capabilities=frozenset(raw.get("capabilities", ())),
        params=MappingProxyType(params),
        pricing=Pricing(pricing["input"], pricing["output"], pricing.get("cached_input")) if pricing else None,
        dimensions=raw.get("dimensions"), deprecated=raw.get("deprecated"), source=raw.get("source"),
        notes=raw.get("notes"))


_PROVIDER_KEYS = ("dialect", "base_url", "api_key_env", "requires_api_key", "open_models", "headers",
                  "timeout", "limits", "breaker", "options", "docs")


def _provider_spec(path: Path, text: str, data: Mapping[str, Any], previous: ProviderSpec | None) -> ProviderSpec:
    name = data["provider"]
    if previous is None and ("dialect" not in data or "base_url" not in data):
        missing = "dialect" if "dialect" not in data else "base_url"
        raise CatalogError(f"a new provider needs '{missing}'", file=str(path), line=_line_of(text, []),
                           field=missing)
    models = {m.id: m for m in previous.models} if previous else {}
    for raw in data.get("models") or ():
        models[raw["id"]] = _model_spec(name, raw)
    values: dict[str, Any] = {}
    for key in _PROVIDER_KEYS:
        if key in data:
            value = data[key]
            if key == "api_key_env":
                value = tuple(value)
            elif key in ("headers", "limits", "breaker", "options"):
                value = MappingProxyType(dict(value))
            elif key == "base_url":
                value = value.rstrip("/")
            elif key == "timeout":
                value = float(value)
            values[key] = value
    if previous is not None:
        return replace(previous, models=tuple(models.values()), file=str(path), **values)
    return ProviderSpec(name=name, models=tuple(models.values()), file=str(path), **values)


class Catalog:
    """Every provider and model known to one Client, and the name index over them.

    >>> catalog = Catalog.load()                       # doctest: +SKIP
    >>> provider, model = catalog.resolve("gpt-4o")    # doctest: +SKIP
    """

    def __init__(self, providers: Mapping[str, ProviderSpec]) -> None:
        self.providers: Mapping[str, ProviderSpec] = MappingProxyType(dict(providers))
        index: dict[str, tuple[ProviderSpec, ModelSpec]] = {}
        qualified: dict[str, tuple[ProviderSpec, ModelSpec]] = {}
        for provider in self.providers.values():
            for model in provider.models:
                for name in (model.id, *model.aliases):
                    index[name] = (provider, model)
                    qualified[f"{provider.name}/{name}"] = (provider, model)
        index.update(qualified)  # "<provider>/<id>" beats a bare id that happens to contain a slash
        self._index = index
        self._lower = {name.lower(): entry for name, entry in index.items()}
        self._open: dict[str, tuple[ProviderSpec, ModelSpec]] = {}
        self._open_lock = threading.Lock()

    @classmethod
    def load(cls, extra: Iterable[str | os.PathLike[str]] = (), *, include_env: bool = True,
             environ: Mapping[str, str] | None = None) -> Catalog:
        """Load the packaged catalog, then ``PEPPERPY_CATALOG_PATH``, then ``extra``."""
        env = os.environ if environ is None else environ
        paths: list[str | os.PathLike[str]] = [packaged_catalog_dir()]
        if include_env and env.get(CATALOG_PATH_ENV):
            paths.extend(p for p in env[CATALOG_PATH_ENV].split(os.pathsep) if p)
        paths.extend(extra)
        return cls.from_files(catalog_files(paths))

    @classmethod
    def from_files(cls, files: Iterable[Path]) -> Catalog:
        providers: dict[str, ProviderSpec] = {}
        for path in files:
            text, data = read_file(path)
            problems = _schema_problems(path, text, data)
            if problems:
                raise problems[0]
            _check_semantics(path, text, data)
            name = data["provider"]
            providers[name] = _provider_spec(path, text, data, providers.get(name))
        return cls(providers)

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any]]) -> Catalog:
        """A copy with provider-level settings replaced (``headers`` and ``options`` are merged).

        >>> catalog.with_overrides({"openai": {"base_url": "http://localhost:8000/v1"}})   # doctest: +SKIP
        """
        providers = dict(self.providers)
        for name, values in overrides.items():
            spec = self.provider(name)
            unknown = set(values) - set(_PROVIDER_KEYS)
            if unknown:
                raise CatalogError(f"unknown provider setting {sorted(unknown)[0]!r} "
                                   f"(allowed: {', '.join(_PROVIDER_KEYS)})", field=f"providers.{name}")
            changes: dict[str, Any] = {}
            for key, value in values.items():
                if key in ("headers", "options"):
                    value = MappingProxyType({**getattr(spec, key), **value})
                elif key in ("limits", "breaker"):
                    value = MappingProxyType(dict(value))
                elif key == "api_key_env":
                    value = tuple(value)
                elif key == "base_url":
                    value = str(value).rstrip("/")
                changes[key] = value
            spec = replace(spec, **changes)
            providers[name] = spec
        return Catalog(providers)

    # ------------------------------------------------------------------ lookups

    def resolve(self, name: str) -> tuple[ProviderSpec, ModelSpec]:
        """(provider, model) for a model name; raises ModelNotFoundError with suggestions."""
        entry = self._index.get(name) or self._open.get(name)
        if entry is not None:
            return entry
        prefix, _, rest = name.partition("/")
        provider = self.providers.get(prefix)
        if provider is not None and provider.open_models and rest:
            model = ModelSpec(id=rest, provider=prefix, capabilities=_OPEN_CAPABILITIES, open=True)
            with self._open_lock:
                if len(self._open) > 4096:  # bounded: open names come from callers
                    self._open.clear()
                self._open[name] = (provider, model)
            return provider, model
        entry = self._lower.get(name.lower())
        if entry is not None:
            return entry
        candidates = list(self._index)
        suggestions = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
        if not suggestions and "/" not in name:
            suggestions = [c for c in candidates if "/" not in c and name.lower() in c.lower()][:3]
        hint = ""
        if provider is not None and not provider.open_models:
            hint = (f" Provider {prefix!r} lists no model {rest!r}; add it to a catalog YAML file "
                    f"(see docs/catalog.md).")
        raise ModelNotFoundError(name, suggestions, hint)

    def provider(self, name: str) -> ProviderSpec:
        try:
            return self.providers[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self.providers), n=3)
            extra = f"; did you mean {', '.join(close)}?" if close else ""
            raise ModelNotFoundError(name, close, f" No provider {name!r}{extra}") from None

    def models(self, provider: str | None = None, mode: str | None = None,
               capability: str | None = None) -> list[ModelSpec]:
        return [m for m in self.iter_models()
                if (provider is None or m.provider == provider) and (mode is None or m.mode == mode)
                and (capability is None or capability in m.capabilities)]

    def iter_models(self) -> Iterator[ModelSpec]:
        for provider in self.providers.values():
            yield from provider.models

    def __len__(self) -> int:
        return sum(len(p.models) for p in self.providers.values())
