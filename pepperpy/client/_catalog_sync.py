"""``client.sync_catalog(provider)`` and ``pepperpy catalog sync``: the catalog against the provider's own listing.

The provider's model-listing API (``dialects._listing``: OpenAI-compatible ``/models`` with OpenRouter's
figures, Anthropic ``/v1/models``, Gemini ``/models``, Ollama ``/api/tags`` + ``/api/show``) is read page by
page through the provider's Transport (its credentials, pool and error translation; not the call pipeline:
nothing is cached, retried or audited), and compared with the catalog as a ``CatalogDiff``: the models the
provider offers that the catalog lacks, the catalog models it no longer lists, and the limits and prices
that differ where the listing reports them. ``CatalogDiff.write(folder)`` writes the new models as a catalog
file, with only the figures the listing gave. A mode the listing does not state is taken only from an id family
the provider documents (``dialects._listing.documented_mode``: OpenAI's ``text-embedding-*``...); else the model is
written with ``# mode: unknown — set it`` and the diff says so, rather than becoming a chat model silently.

>>> diff = client.sync_catalog("openai")               # doctest: +SKIP
>>> [m.id for m in diff.added], [c.field for c in diff.changed]   # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import errors
from ..catalog._registry import Catalog, model_spec
from ..dialects._listing import documented_mode
from ..dialects.base import get_dialect
from ..pipeline import _decode
from ..pipeline._runtimes import Runtime
from ..types import ModelSpec, ProviderSpec

__all__ = ["MAX_PAGES", "CatalogDiff", "ModelChange", "diff_listing", "list_models", "require_listing",
           "sync_catalog"]

MAX_PAGES = 100  # a listing longer than this many pages is a server going round in circles
_MARKER = "# Written by `pepperpy catalog sync"
_COMPARED = ("context_window", "max_output_tokens", "pricing.input", "pricing.output", "pricing.cached_input")


@dataclass(frozen=True)
class ModelChange:
    """A figure the provider's listing reports differently from the catalog (``catalog`` None: the catalog
    does not say)."""

    model: str
    field: str
    catalog: float | None
    provider: float


@dataclass(frozen=True)
class CatalogDiff:
    """What differs between the catalog and a provider's model listing.

    ``listed`` is every model the listing returned that pepperpy can call (chat or embedding), each with only
    the figures the listing gives; ``added`` those the catalog lacks; ``removed`` the catalog's models the
    listing no longer returns; ``changed`` the limits and prices that differ; ``inherited`` the dated snapshots
    and fine-tunes it lists of catalog models (they resolve already); ``unmapped`` the listed models it calls
    neither chat nor embedding, with what it says they do (left out of ``write``); ``unknown_mode`` the ids of
    added models whose mode neither the listing nor a documented id family tells (written, with a comment).
    """

    provider: str
    listed: tuple[ModelSpec, ...]
    added: tuple[ModelSpec, ...]
    removed: tuple[ModelSpec, ...]
    changed: tuple[ModelChange, ...]
    inherited: tuple[str, ...] = ()
    unmapped: tuple[tuple[str, str], ...] = ()
    unknown_mode: tuple[str, ...] = ()

    @property
    def differs(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def lines(self) -> list[str]:
        """The diff as ``pepperpy catalog sync`` prints it."""
        known = len(self.listed) + len(self.unmapped)
        if not self.differs:
            out = [f"{self.provider}: the catalog matches the provider's listing ({known} models)"]
        else:
            out = [f"{self.provider}: {known} models listed by the provider; {len(self.added)} new, "
                   f"{len(self.removed)} no longer listed, {_count(len(self.changed), 'figure')} changed"]
        out += [f"  + {m.id}{_figures(m, m.id in self.unknown_mode)}" for m in self.added]
        out += [f"  - {m.id} (in the catalog, no longer listed)" for m in self.removed]
        out += [f"  ~ {c.model}: {c.field} {_value(c.catalog)} -> {_value(c.provider)}" for c in self.changed]
        if self.inherited:
            out.append(f"  = {_count(len(self.inherited), 'dated snapshot or fine-tune')} of catalog models, "
                       f"resolved already: {_some(self.inherited)}")
        if self.unmapped:
            out.append(f"  ? {_count(len(self.unmapped), 'model')} neither chat nor embedding by the listing, left "
                       f"out: {_some([f'{name} ({what})' for name, what in self.unmapped])}")
        return out

    def write(self, folder: str | os.PathLike[str], *, today: datetime.date | None = None) -> Path | None:
        """Write the new models to ``<folder>/<provider>-synced.yaml``, a catalog file for that folder; None
        when there is nothing to write. Models of an earlier sync's file that the provider still lists are
        kept as they are (with your edits); a file of that name that sync did not write is never replaced."""
        path = Path(folder).expanduser() / f"{self.provider}-synced.yaml"
        kept: list[Mapping[str, Any]] = []
        if path.exists():
            kept = _earlier(path, {m.id for m in self.listed})
        entries: list[Mapping[str, Any]] = [*kept]
        seen = {str(entry.get("id")) for entry in kept}
        entries += [_entry(m) for m in self.added if m.id not in seen]
        if not entries:
            return None
        text = _catalog_file(self.provider, entries, today or datetime.date.today(), set(self.unknown_mode))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)  # whole or not at all
        return path


def require_listing(provider: ProviderSpec) -> None:
    """ValidationError, in one line, for a provider without a model-listing API (before any credential)."""
    if get_dialect(provider.dialect).build_list_models(provider, None) is None:
        raise _no_listing(provider)


def _no_listing(provider: ProviderSpec) -> errors.ValidationError:
    return errors.ValidationError(f"{provider.name} has no model-listing API ({provider.dialect} dialect), so there "
                                  f"is nothing to sync: its catalog entries are kept by hand", param="provider",
                                  value=provider.name)


def list_models(runtime: Runtime) -> list[dict[str, Any]]:
    """Every model of the provider's listing as catalog entries, page after page (``dialects._listing``).

    ValidationError for a provider without a listing API; ProviderError as any call would raise it."""
    spec, dialect = runtime.spec, runtime.dialect
    request = dialect.build_list_models(spec, None)
    if request is None:
        raise _no_listing(spec)
    entries: list[dict[str, Any]] = []
    cursors: set[str] = set()
    for _ in range(MAX_PAGES):
        page, cursor = _read(runtime, request, dialect.parse_list_models)
        entries += page
        if cursor is None:
            break
        if cursor in cursors:
            raise errors.ProviderAPIError(f"{spec.name}'s model listing repeats its page cursor {cursor!r}",
                                          provider=spec.name)
        cursors.add(cursor)
        next_request = dialect.build_list_models(spec, cursor)
        if next_request is None:
            break
        request = next_request
    else:
        raise errors.ProviderAPIError(f"{spec.name}'s model listing did not end within {MAX_PAGES} pages",
                                      provider=spec.name)
    detailed = []
    for entry in entries:
        details = dialect.build_model_details(spec, entry)
        detailed.append(entry if details is None else
                        _read(runtime, details, lambda payload, e=entry: dialect.parse_model_details(payload, e)))
    return detailed


def sync_catalog(runtime: Runtime, catalog: Catalog) -> CatalogDiff:
    """The diff between ``catalog``'s entry for the runtime's provider and the provider's listing."""
    return diff_listing(catalog, runtime.spec, list_models(runtime))


def diff_listing(catalog: Catalog, provider: ProviderSpec, entries: Sequence[Mapping[str, Any]]) -> CatalogDiff:
    """The CatalogDiff of a listing already read (``list_models``)."""
    name = provider.name
    unknown: set[str] = set()
    entries = [_with_mode(name, entry, unknown) for entry in entries]
    mapped = [entry for entry in entries if "_unmapped" not in entry]
    listed = tuple(model_spec(name, {k: v for k, v in entry.items() if not k.startswith("_")}) for entry in mapped)
    ids = {str(entry["id"]) for entry in entries}
    by_name: dict[str, ModelSpec] = {}
    for model in provider.models:
        for known in (model.id, *model.aliases, *model.snapshots, model.api_name):
            if known:
                by_name.setdefault(known, model)
    added, inherited, changed = [], [], []
    for spec in listed:
        ours = by_name.get(spec.id)
        if ours is not None:
            if spec.id in (ours.id, ours.api_name):
                changed += _changes(ours, spec)
        elif _inherits(catalog, name, spec.id):
            inherited.append(spec.id)
        else:
            added.append(spec)
    removed = tuple(m for m in provider.models
                    if not any(known in ids for known in (m.id, *m.aliases, *m.snapshots, m.api_name) if known))
    unmapped = tuple((str(e["id"]), str(e["_unmapped"])) for e in entries if "_unmapped" in e
                     and str(e["id"]) not in by_name)
    return CatalogDiff(name, listed, tuple(added), removed, tuple(changed), tuple(inherited), unmapped,
                       tuple(m.id for m in added if m.id in unknown))


def _with_mode(provider: str, entry: Mapping[str, Any], unknown: set[str]) -> Mapping[str, Any]:
    """``entry`` with a mode: the listing's, else a documented id family's; else as it is, its id in ``unknown``."""
    if "mode" in entry or "_unmapped" in entry:
        return entry
    mode = documented_mode(provider, str(entry["id"]))
    if mode is None:
        unknown.add(str(entry["id"]))
        return entry
    if mode not in ("chat", "embedding"):  # a model sync does not write: said, as the listing's others are
        return {**entry, "_unmapped": f"{mode} by its id"}
    return {**entry, "mode": mode}


# --------------------------------------------------------------------------- helpers

def _read(runtime: Runtime, request: Any, parse: Any) -> Any:
    transport, spec = runtime.transport, runtime.spec
    response = transport.send(request)
    payload = _decode.json_body(transport, response, ModelSpec(id="", provider=spec.name))
    try:
        return parse(payload)
    except _decode.SHAPE_ERRORS as exc:
        raise errors.ProviderAPIError(
            f"{spec.name} answered its model listing ({request.path}) in a shape the {spec.dialect} dialect does "
            f"not know ({type(exc).__name__}: {exc}); does its base_url point at an API of that dialect?",
            provider=spec.name, status_code=response.status_code) from exc


def _inherits(catalog: Catalog, provider: str, name: str) -> bool:
    """Whether ``name`` resolves to a catalog model it is a dated snapshot or fine-tune of."""
    try:
        _, spec = catalog.resolve(f"{provider}/{name}")
    except errors.ModelNotFoundError:  # strict_models
        return False
    return not spec.open


def _changes(model: ModelSpec, listed: ModelSpec) -> list[ModelChange]:
    found = []
    for field in _COMPARED:
        ours, theirs = _figure(model, field), _figure(listed, field)
        if theirs is not None and (ours is None or abs(ours - theirs) > 1e-9 * max(1.0, abs(theirs))):
            found.append(ModelChange(model.name, field, ours, theirs))
    return found


def _figure(model: ModelSpec, field: str) -> float | None:
    if field.startswith("pricing."):
        value = getattr(model.pricing, field.partition(".")[2], None) if model.pricing is not None else None
    else:
        value = getattr(model, field)
    return None if value is None else float(value)


def _entry(model: ModelSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": model.id}
    if model.mode != "chat":
        entry["mode"] = model.mode
    for field in ("context_window", "max_output_tokens"):
        if getattr(model, field) is not None:
            entry[field] = getattr(model, field)
    if model.capabilities:
        entry["capabilities"] = sorted(model.capabilities)
    if model.pricing is not None:
        entry["pricing"] = {key: value for key in ("input", "output", "cached_input")
                            if (value := getattr(model.pricing, key)) is not None}
    return entry


def _earlier(path: Path, listed: set[str]) -> list[Mapping[str, Any]]:
    """The models of an earlier sync's file that the provider still lists, as written (edits included)."""
    from ..catalog._files import read_file

    text, data = read_file(path)
    if not text.startswith(_MARKER):
        raise errors.ValidationError(f"{path} exists and was not written by `pepperpy catalog sync`: move it, or "
                                     f"write to another folder", param="folder", value=str(path))
    models = data.get("models") if isinstance(data, dict) else None
    return [m for m in models or () if isinstance(m, Mapping) and str(m.get("id")) in listed]


UNKNOWN_MODE = "# mode: unknown — set it (chat, embedding, image, speech, transcription, video)"


def _catalog_file(provider: str, entries: Sequence[Mapping[str, Any]], today: datetime.date,
                  unknown: Collection[str] = ()) -> str:
    lines = [f"{_MARKER} {provider}` on {today.isoformat()}, from the provider's own model listing.",
             "# Only the figures the listing reports are here: a model without limits gets no pre-flight checks,",
             "# one without pricing a cost of None. Add what you know (capabilities, prices, aliases); a later sync",
             "# with --write keeps the models the provider still lists as they are here, and adds new ones.",
             f"provider: {provider}", f"checked: {today.isoformat()}", "models:"]
    for entry in entries:
        first = True
        for key, value in entry.items():
            lines.append(f"  {'- ' if first else '  '}{key}: {_yaml(value)}")
            if first and str(value) in unknown and "mode" not in entry:
                lines.append(f"    {UNKNOWN_MODE}")  # read as chat until set: said where it will be seen
            first = False
    return "\n".join(lines) + "\n"


def _yaml(value: Any) -> str:
    """A YAML flow value: JSON is YAML, except that mapping keys are written bare (catalog keys are names)."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {_yaml(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _figures(model: ModelSpec, unknown_mode: bool = False) -> str:
    parts = []
    if unknown_mode:
        parts.append("mode unknown: set it in the file")
    elif model.mode != "chat":
        parts.append(model.mode)
    if model.context_window is not None:
        parts.append(f"context {model.context_window:,}")
    if model.max_output_tokens is not None:
        parts.append(f"max output {model.max_output_tokens:,}")
    if model.pricing is not None:
        parts.append(f"${model.pricing.input:g}/${model.pricing.output:g} per 1M")
    return f" ({', '.join(parts)})" if parts else ""


def _value(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,g}" if value != int(value) else f"{int(value):,}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _some(names: Sequence[str], shown: int = 5) -> str:
    more = f", and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
