"""The ``pepperpy`` command's catalog commands: ``models``, ``providers`` and ``catalog validate``."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from .. import errors
from .._redact import safe_url
from ..catalog._registry import Catalog, catalog_files, packaged_catalog_dir
from ..client._client import Client
from ..config import Settings, credential_fields, key_vars
from ..types import ModelSpec, ProviderSpec

__all__ = ["list_models", "list_providers", "make_client", "print_table", "sync_catalog", "validate_catalog"]

EXIT_OK, EXIT_ERROR = 0, 1


def make_client(args: argparse.Namespace) -> Client:
    """The Client of a command: its ``--catalog``, ``--timeout``, ``--max-retries`` and ``--budget``."""
    return Client(catalog=args.catalog or None, timeout=getattr(args, "timeout", None),
                  max_retries=getattr(args, "max_retries", None), budget=getattr(args, "budget", None))


def list_models(args: argparse.Namespace) -> int:
    with make_client(args) as client:
        if args.provider is not None and args.provider not in client.catalog.providers:
            raise errors.ConfigurationError(_unknown("provider", args.provider, client.catalog.providers,
                                                     "`pepperpy providers` lists them."))
        known = sorted({c for m in client.catalog.iter_models() for c in m.capabilities})
        if args.capability is not None and args.capability not in known:
            raise errors.ConfigurationError(_unknown("capability", args.capability, known,
                                                     f"Known: {', '.join(known)}."))
        found = client.models(args.provider, args.mode, args.capability, True if args.available else None)
    if not found:
        print("no model matches these filters", file=sys.stderr)
        return EXIT_OK
    header = ("model", "provider", "context", "max output", "$/1M in/out", "capabilities")
    print_table([header, *(_model_row(m) for m in found)])
    return EXIT_OK


def _model_row(model: ModelSpec) -> tuple[str, ...]:
    pricing = model.pricing
    per_second = pricing.video_cost(1) if pricing is not None and pricing.per_second is not None else None
    if pricing is None:
        price = "-"
    elif per_second is not None:
        price = f"{per_second:g}/s"
    elif pricing.per_token:
        price = f"{pricing.input:g}/{pricing.output:g}"
    elif pricing.per_million_characters is not None:
        price = f"{pricing.per_million_characters:g}/1M chars"
    elif pricing.per_minute is not None:
        price = f"{pricing.per_minute:g}/min"
    elif pricing.per_image:
        price = "per image"
    else:
        price = "free"
    return (model.id + (" (deprecated)" if model.deprecated else ""), model.provider,
            _count(model.context_window), _count(model.max_output_tokens), price,
            ",".join(sorted(model.capabilities)))


def list_providers(args: argparse.Namespace) -> int:
    settings = Settings(use_keyring=False)  # for base URLs only; credentials come from the Client
    with make_client(args) as client:
        rows = [("provider", "dialect", "base URL", "credentials")]
        for provider in sorted(client.catalog.providers.values(), key=lambda p: p.name):
            try:
                url = safe_url(settings.base_url(provider))
            except errors.ConfigurationError as exc:  # a bad PEPPERPY_PROVIDER_<NAME>_BASE_URL
                url = f"invalid: {exc}"
            rows.append((provider.name, provider.dialect, url, _credentials(client, settings, provider)))
    print_table(rows)
    return EXIT_OK


def _credentials(client: Client, settings: Settings, provider: ProviderSpec) -> str:
    """"set", "not needed" or "missing: set X or Y"; never a value."""
    missing = []
    try:
        found = client.has_credentials(provider.name)
    except errors.ConfigurationError as exc:  # a key that cannot be sent: say so on its row, never its value
        return f"invalid: {exc}"
    if not found:
        names = key_vars(provider)  # PEPPERPY_PROVIDER_<NAME>_API_KEY first: show it last, as the fallback
        missing.append(" or ".join([*names[1:], names[0]]))
    for field in credential_fields(provider):  # StackSpot's client id and realm: any source counts
        if client.settings.credential_source(provider, field) is None:
            missing.append(" or ".join(str(n) for n in provider.options.get(field + "_env") or ()))
    if missing:
        return "missing: set " + "; and ".join(missing)
    return "set" if provider.requires_api_key else "not needed"


def validate_catalog(args: argparse.Namespace) -> int:
    paths: list[str | os.PathLike[str]] = list(args.paths)
    if not paths:
        extra = os.environ.get("PEPPERPY_CATALOG_PATH", "").split(os.pathsep)
        paths = [packaged_catalog_dir(), *(p for p in extra if p)]
    problems: list[errors.CatalogError] = []
    files: list[Path] = []
    unreadable = 0
    for path in paths:
        try:
            files.extend(catalog_files([path]))
        except errors.CatalogError as exc:
            problems.append(exc)
            unreadable += 1
    passed: list[Path] = []
    from ..catalog._checks import check_file  # only a check of files needs it

    for file in files:
        found = check_file(file)
        problems.extend(found)
        if not found:
            passed.append(file)
        if args.max_age is not None:  # a file too old still merges: its figures are stale, not broken
            problems.extend(check_file(file, max_age=args.max_age)[len(found):])
    # Each of these files is fine alone; now merged on top of the packaged catalog, as a Client loads them
    # (a new provider without `dialect` only fails here).
    named = {file.resolve() for file in files}
    packaged = [file for file in catalog_files([packaged_catalog_dir()]) if file.resolve() not in named]
    problems.extend(Catalog.merge_problems([*packaged, *passed]))
    for problem in problems:
        print(problem)
    if problems:
        print(_summary(problems, files, unreadable), file=sys.stderr)
        return EXIT_ERROR
    print(f"ok: {_count_of(len(files), 'file')}, no problems", file=sys.stderr)
    return EXIT_OK


def _summary(problems: Sequence[errors.CatalogError], files: Sequence[Path], unreadable: int) -> str:
    """``3 problems in 1 of 5 files``; paths that are no catalog file or folder are counted apart."""
    checked = {str(file) for file in files}
    with_problems = {problem.file for problem in problems if problem.file in checked}
    text = _count_of(len(problems), "problem")
    if files:
        text += f" in {len(with_problems)} of {_count_of(len(files), 'file')}"
    if unreadable:
        text += f"{', ' if files else ': '}{_count_of(unreadable, 'path')} with no catalog file"
    return text


def _count_of(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def sync_catalog(args: argparse.Namespace) -> int:
    with make_client(args) as client:
        diff = client.sync_catalog(args.provider)
    for line in diff.lines():
        print(line)
    if args.write:
        path = diff.write(args.write)
        if path is None:
            print(f"nothing to write: the catalog lists every model {diff.provider} offers")
        else:
            print(f"wrote {path}; check it with `pepperpy catalog validate {args.write}`, use it with "
                  f"`--catalog {args.write}`")
    return EXIT_OK


def _unknown(kind: str, name: str, known: Iterable[str], hint: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    return f"no {kind} {name!r}" + (f"; did you mean {', '.join(map(repr, close))}?" if close else ".") + " " + hint


def _count(value: int | None) -> str:
    return f"{value:,}" if value is not None else "-"


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())
