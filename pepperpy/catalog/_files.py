"""Catalog files: finding them, YAML parsing and JSON Schema validation, each problem with its file, line and field
(the checks JSON Schema cannot express are in ``_checks``).

Only user files come through here when a Client is built: the packaged catalog loads from its packed form
(``pepperpy._catalog_cache``), so ``yaml`` and ``jsonschema`` are imported only for files people wrote,
``pepperpy catalog validate`` and ``make catalog``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import CatalogError

__all__ = [
    "CATALOG_PATH_ENV", "SCHEMA_PATH", "catalog_files", "field_path", "line_of", "packaged_catalog_dir", "parse_text",
    "read_file", "schema_problems", "unknown_key"
]

SCHEMA_PATH = Path(__file__).with_name("schema.json")
CATALOG_PATH_ENV = "PEPPERPY_CATALOG_PATH"


def packaged_catalog_dir() -> Path:
    """The folder of YAML files shipped with pepperpy (inside the wheel, or ``catalog/`` in a checkout)."""
    installed = Path(__file__).parent.parent / "_catalog_data"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent.parent / "catalog"


def catalog_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files and folders (``*.yaml`` / ``*.yml``, sorted) into a list of files.

    CatalogError for a path that does not exist, or a folder without any such file.
    """
    files: list[Path] = []
    for entry in paths:
        path = Path(entry).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
            if not found:  # a typo'd or empty folder would otherwise add nothing, silently
                raise CatalogError("no .yaml files (catalog files in a folder end in .yaml or .yml)",
                                   file=str(path))
            files.extend(found)
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


def line_of(text: str, path: Sequence[str | int]) -> int | None:
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


def field_path(path: Sequence[str | int], prefix: str = "") -> str:
    """``models[2].params.top_p``; after ``prefix`` when one is given (``providers['openai'].timeout``)."""
    steps = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i or prefix else str(p))
                    for i, p in enumerate(path))
    return prefix + steps


def read_file(path: Path) -> tuple[str, Any]:
    """Read and parse one YAML file; CatalogError (with the line) when it is not valid YAML."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read: {exc.strerror}", file=str(path)) from exc
    return parse_text(path, raw)


def parse_text(path: Path, raw: bytes) -> tuple[str, Any]:
    """Parse one file's bytes as YAML; CatalogError (with the line) when it is not valid YAML."""
    import yaml

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError("not UTF-8 text", file=str(path)) from exc
    try:
        return text, yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(f"invalid YAML: {problem}", file=str(path),
                           line=mark.line + 1 if mark else None) from exc


# Schema ``pattern`` failures, said in words: the regular expression itself helps nobody.
_PATTERN_MESSAGES = {
    r"^https?://[^\s]+$": "is not an http(s) URL, e.g. https://api.example.com/v1",
    r"^https?://": "is not an http(s) URL, e.g. https://example.com/pricing",
    r"^https://": "is not an https URL, e.g. https://docs.example.com",
    r"^[a-z0-9_-]+$": "is not a valid provider name: use only lowercase letters a-z, digits 0-9, '_' and '-'",
    r"^[a-z][a-z0-9_-]*$": "is not a dialect name: lowercase letters a-z, digits 0-9, '_' and '-', starting with "
                           "a letter",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "is not an environment variable name: use letters, digits and '_', "
                                 "not starting with a digit",
    r"^[a-z_][a-z0-9_]*$": "is not a parameter name: use lowercase letters, digits and '_', e.g. top_p",
    r"^\S+$": "must be one word, without spaces",
    r"^\d{4}-\d{2}-\d{2}$": "is not a date: use YYYY-MM-DD",
}


def schema_problems(data: Any, *, file: str | None, text: str = "", prefix: str = "") -> list[CatalogError]:
    """Every schema problem of one provider's data: a file's (``text`` gives the lines) or the settings given
    in code (``Client(providers=...)``, whose fields are named after ``prefix``)."""
    if not isinstance(data, dict):
        return [CatalogError("a catalog file must be a mapping with 'provider' and 'models'", file=file,
                             line=1)]
    errors = sorted((e for found in _Validator.get().iter_errors(data) for e in _branch(found)),
                    key=lambda e: list(map(str, e.absolute_path)))
    problems = []

    def problem(message: str, where: list[str | int]) -> None:
        problems.append(CatalogError(message, file=file, line=line_of(text, where) if text else None,
                                     field=field_path(where, prefix) or "(top)"))

    for err in errors:
        where = list(err.absolute_path)
        message = err.message
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = sorted(err.schema.get("properties", {}))
            other = _other_level(where)
            for extra in sorted(set(err.instance) - set(known), key=str):  # each unknown key, each with its line
                problem(unknown_key(str(extra), known, other), [*where, extra])
            continue
        if err.validator == "oneOf" and where and "params" in where:
            message = f"{err.instance!r} is not a range: use {{min: N, max: N}}, or false when unsupported"
        elif err.validator == "pattern" and err.validator_value in _PATTERN_MESSAGES:
            message = f"{err.instance!r} {_PATTERN_MESSAGES[err.validator_value]}"
            if "propertyNames" in err.schema_path:  # the bad name is a key: point at it, not at its mapping
                where.append(err.instance)
        problem(message, where)
    return problems


def _branch(err: Any) -> list[Any]:
    """A model's ``pricing`` is one price or a list of them (``oneOf``): the problems of the form it has,
    rather than "is not valid under any of the given schemas"."""
    where = list(err.absolute_path)
    if err.validator != "oneOf" or not where or where[-1] != "pricing" or not err.context:
        return [err]
    form = 1 if isinstance(err.instance, list) else 0
    found = [sub for sub in err.context if sub.relative_schema_path and sub.relative_schema_path[0] == form]
    return [e for sub in found for e in _branch(sub)] or [err]


def unknown_key(name: str, known: Sequence[str], other: tuple[str, Sequence[str]] | None = None) -> str:
    """``unknown key 'contxt_window'; did you mean 'context_window'? (allowed: ...)``; ``other`` is the keys of
    the other level (a model's, for a provider-level key) and what to say about a key found there."""
    close = _close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if not close and other is not None:
        elsewhere = _close_matches(name, other[1], n=1, cutoff=0.6)
        if elsewhere:
            hint = f"; {elsewhere[0]!r} is {other[0]}"
    return f"unknown key {name!r}{hint} (allowed: {', '.join(known)})"


def _other_level(where: Sequence[str | int]) -> tuple[str, Sequence[str]] | None:
    """The keys of the other level of a file, for a key put at the wrong one (``context_window`` at the top)."""
    schema = _Validator.get().schema
    if not where:
        return "a model field: put it under a model in models:", sorted(schema["$defs"]["model"]["properties"])
    if len(where) == 2 and where[0] == "models":
        return "a provider field: put it at the top of the file, not under a model", sorted(schema["properties"])
    return None


def _close_matches(word: str, possibilities: Iterable[str] | list[str], **options: Any) -> list[str]:
    import difflib  # only a mistake needs it

    return difflib.get_close_matches(word, list(possibilities), **options)
