"""Catalog data into specs: a validated file's provider and models as a frozen ProviderSpec, each file applied on
top of the earlier files of the same provider (``_merge``), and settings given in code on top of those
(``provider_spec``, for ``Catalog.with_overrides``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import CatalogError
from ..types import ModelSpec, ParamRange, Pricing, ProviderSpec, RetiredModel
from ..types._evolve import evolve
from ..types._value import Value
from ._files import line_of
from ._packed import load_validated

__all__ = ["DEFAULT_DIALECT", "Deferred", "build", "merge", "model_spec", "provider_spec"]

DEFAULT_DIALECT = "openai"  # a new provider's wire format when its file names none: most servers speak it

def _model_spec(provider: str, raw: Mapping[str, Any]) -> ModelSpec:
    params = {name: ParamRange(supported=False) if value is False else ParamRange(value.get("min"), value.get("max"))
              for name, value in (raw.get("params") or {}).items()}
    upload = raw.get("max_upload_mb")
    return ModelSpec(
        id=raw["id"], provider=provider, mode=raw.get("mode", "chat"), api_name=raw.get("api_name", ""),
        aliases=tuple(raw.get("aliases", ())), snapshots=tuple(raw.get("snapshots", ())),
        context_window=raw.get("context_window"),
        max_output_tokens=raw.get("max_output_tokens"), capabilities=frozenset(raw.get("capabilities", ())),
        params=MappingProxyType(params),
        prices=_prices(raw.get("pricing")),
        dimensions=raw.get("dimensions"), deprecated=raw.get("deprecated"), source=raw.get("source"),
        notes=raw.get("notes"), sizes=tuple(raw.get("sizes", ())), seconds=tuple(raw.get("seconds", ())),
        voices=tuple(raw.get("voices", ())), formats=tuple(raw.get("formats", ())),
        qualities=tuple(raw.get("qualities", ())), max_upload_bytes=int(upload * 1_000_000) if upload else None,
        outputs=tuple(raw.get("outputs", ())), input_audio_rate=(raw.get("audio_rates") or {}).get("input"),
        output_audio_rate=(raw.get("audio_rates") or {}).get("output"), display_name=raw.get("display_name"))


def model_spec(provider: str, entry: Mapping[str, Any]) -> ModelSpec:
    """The ModelSpec of one model entry as a catalog file gives it (already validated)."""
    return _model_spec(provider, entry)


def _prices(raw: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> tuple[Pricing, ...]:
    """A model's prices, oldest first: ``pricing:`` is one price, or a list of prices with ``from`` / ``until``
    dates (their order checked by ``catalog._checks``)."""
    if not raw:
        return ()
    entries = [raw] if isinstance(raw, Mapping) else list(raw)
    return tuple(_pricing(entry) for entry in entries)


def _pricing(raw: Mapping[str, Any]) -> Pricing:
    batch = raw.get("batch")
    per_second = raw.get("per_second")
    per_image = raw.get("per_image")
    return Pricing(raw.get("input", 0.0), raw.get("output", 0.0), raw.get("cached_input"),
                   batch=Pricing(batch["input"], batch["output"], batch.get("cached_input")) if batch else None,
                   per_second=MappingProxyType(dict(per_second)) if isinstance(per_second, Mapping) else per_second,
                   audio_input=raw.get("audio_input"), image_input=raw.get("image_input"),
                   per_image=MappingProxyType(dict(per_image)) if per_image else None,
                   per_million_characters=raw.get("per_million_characters"), per_minute=raw.get("per_minute"),
                   cached_audio_input=raw.get("cached_audio_input"), audio_output=raw.get("audio_output"),
                   since=raw.get("from"), until=raw.get("until"))


_PROVIDER_KEYS = ("dialect", "base_url", "api_key_env", "requires_api_key", "open_models", "headers",
                  "timeout", "limits", "breaker", "options", "docs", "checked", "batch_discount", "display_name")


def _retired(raw: Mapping[str, Any]) -> RetiredModel:
    return RetiredModel(id=raw["id"], date=raw["date"], replacement=raw["replacement"],
                        aliases=tuple(raw.get("aliases", ())), by=raw.get("by"), source=raw.get("source"),
                        notes=raw.get("notes"))


def provider_spec(data: Mapping[str, Any], previous: ProviderSpec | None, file: str | None) -> ProviderSpec:
    """The spec of validated provider data, applied on top of ``previous`` (an earlier file of the same
    provider, or the catalog's entry for settings given in code): its keys override, ``headers`` and
    ``options`` merge, its models add or replace ``(provider, id)`` pairs."""
    name = data["provider"]
    models = {m.id: m for m in previous.models} if previous else {}
    for raw in data.get("models") or ():
        models[raw["id"]] = _model_spec(name, raw)
    retired = {r.id: r for r in previous.retired} if previous else {}
    for raw in data.get("retired") or ():
        retired[raw["id"]] = _retired(raw)
    values: dict[str, Any] = {"retired": tuple(retired.values())}
    for key in _PROVIDER_KEYS:
        if key in data:
            value = data[key]
            if key == "api_key_env":
                value = tuple(value)
            elif key in ("headers", "options") and previous is not None:  # a later file extends them
                value = MappingProxyType({**getattr(previous, key), **value})
            elif key in ("headers", "limits", "breaker", "options"):
                value = MappingProxyType(dict(value))
            elif key == "base_url":
                value = value.rstrip("/")
            elif key == "timeout":
                value = float(value)
            values[key] = value
    if previous is not None:
        return evolve(previous, models=tuple(models.values()), file=file, **values)
    return ProviderSpec(name=name, models=tuple(models.values()), file=file, **values)


def _file_spec(path: Path, content: bytes, data: Mapping[str, Any], previous: ProviderSpec | None) -> ProviderSpec:
    if previous is None:
        return provider_spec(_new_provider(path, content, data), None, str(path))
    _check_dialect(path, content, data)
    return provider_spec(data, previous, str(path))


def _check_dialect(path: Path, content: bytes, data: Mapping[str, Any]) -> None:
    dialect = data.get("dialect")
    from ..dialects import _registry as dialects

    if isinstance(dialect, str) and not dialects.is_known(dialect):  # validated when a plugin was there, perhaps
        raise CatalogError(dialects.unknown_dialect(dialect), file=str(path), line=line_of(content.decode("utf-8"),
                                                                                   ["dialect"]), field="dialect")


def _new_provider(path: Path, content: bytes, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A provider's first file, checked as such (its dialect known, its base URL given), its dialect filled in."""
    _check_dialect(path, content, data)
    if "base_url" not in data:
        raise CatalogError("a new provider needs 'base_url' (where its API lives, e.g. "
                           "http://localhost:8000/v1)", file=str(path), line=line_of(content.decode("utf-8"), []),
                           field="base_url")
    return {"dialect": DEFAULT_DIALECT, **data}


class Deferred(Value):
    """A provider of the packaged catalog, checked but not built yet: its specs are made when it is first used
    (``build``). The packaged files hold 120-odd models, and most programs call one or two providers."""

    path: Path
    content: bytes
    data: Mapping[str, Any]


def build(source: ProviderSpec | Deferred) -> ProviderSpec:
    """The spec of a provider, built now when it was deferred."""
    return source if isinstance(source, ProviderSpec) else provider_spec(source.data, None, str(source.path))


def merge(files: Iterable[Path], problems: list[CatalogError], *, defer: Path | None = None
          ) -> dict[str, ProviderSpec | Deferred]:
    """Providers by name, each file applied on top of the earlier ones. Every problem of every file is
    appended to ``problems`` (a file with any is left out) and the merge goes on. A provider whose only file so
    far is in ``defer`` (the packaged catalog's folder, validated when it was packed) stays ``Deferred``."""
    providers: dict[str, ProviderSpec | Deferred] = {}
    for path in files:
        try:
            raw, data = load_validated(path)
            name = data["provider"]
            if defer is not None and name not in providers and path.parent == defer:
                providers[name] = Deferred(path, raw, _new_provider(path, raw, data))
                continue
            previous = providers.get(name)
            try:
                spec = _file_spec(path, raw, data, build(previous) if previous is not None else None)
            except (KeyError, TypeError, ValueError, AttributeError):  # a damaged cache entry? validate again
                raw, data = load_validated(path, use_cache=False)
                spec = _file_spec(path, raw, data, build(previous) if previous is not None else None)
        except CatalogError as exc:
            problems.extend(exc.problems)
            continue
        providers[spec.name] = spec
    return providers
