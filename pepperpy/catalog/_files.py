"""Catalog files: YAML parsing, JSON Schema validation, and every problem with its file, line and field.

Only user files come through here when a Client is built: the packaged catalog loads from its packed form
(``pepperpy._catalog_cache``), so ``yaml`` and ``jsonschema`` are imported only for files people wrote,
``pepperpy catalog validate`` and ``make catalog``.
"""

from __future__ import annotations

import datetime
import difflib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeGuard

from .._redact import header_problem
from ..errors import CatalogError

__all__ = [
    "CATALOG_PATH_ENV", "SCHEMA_PATH", "age_problems", "catalog_files", "check_file", "field_path",
    "file_problems", "line_of", "packaged_catalog_dir", "parse_text", "read_file",
    "schema_problems", "semantic_problems", "unknown_key"
]

SCHEMA_PATH = Path(__file__).with_name("schema.json")
CATALOG_PATH_ENV = "PEPPERPY_CATALOG_PATH"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def check_file(path: Path, *, max_age: int | None = None, today: datetime.date | None = None
               ) -> list[CatalogError]:
    """Every problem of one file, for ``pepperpy catalog validate``; empty when it is fine. With ``max_age``
    (days), also a ``checked:`` date older than that (``today``: the date to count from)."""
    try:
        text, data = read_file(path)
    except CatalogError as exc:
        return [exc]
    problems = file_problems(data, file=str(path), text=text)
    if max_age is not None:
        problems.extend(age_problems(data, file=str(path), text=text, max_age=max_age,
                                     today=today or datetime.date.today()))
    return problems


def file_problems(data: Any, *, file: str, text: str) -> list[CatalogError]:
    """Every schema and semantic problem of one parsed file, in line order."""
    problems = schema_problems(data, file=file, text=text)
    if isinstance(data, dict):
        problems.extend(semantic_problems(data, file=file, text=text))
    return sorted(problems, key=lambda p: p.line or 0)


# Schema ``pattern`` failures, said in words: the regular expression itself helps nobody.
_PATTERN_MESSAGES = {
    r"^https?://[^\s]+$": "is not an http(s) URL, e.g. https://api.example.com/v1",
    r"^https?://": "is not an http(s) URL, e.g. https://example.com/pricing",
    r"^https://": "is not an https URL, e.g. https://docs.example.com",
    r"^[a-z0-9_-]+$": "is not a valid provider name: use only lowercase letters a-z, digits 0-9, '_' and '-'",
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
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if not close and other is not None:
        elsewhere = difflib.get_close_matches(name, other[1], n=1, cutoff=0.6)
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


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token


def semantic_problems(data: dict[str, Any], *, file: str | None, text: str = "",
                      prefix: str = "") -> list[CatalogError]:
    """The problems JSON Schema cannot express (duplicate names, max_output_tokens > context_window...).

    Every one of them, in file order. It runs on files that may also break the schema, so it reads
    defensively and skips what the schema already reports.
    """
    problems: list[CatalogError] = []

    def problem(message: str, where: list[str | int]) -> None:
        problems.append(CatalogError(message, file=file, line=line_of(text, where) if text else None,
                                     field=field_path(where, prefix)))

    headers = data.get("headers")
    for name, value in (headers.items() if isinstance(headers, dict) else ()):
        # checked here, not left to http.client: its UnicodeEncodeError would quote the value (maybe a key)
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            problem("is not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)", ["headers", name])
        elif isinstance(value, str):
            why = header_problem(value) or ("starts or ends with whitespace" if value != value.strip() else None)
            if why:
                problem(f"the value {why}", ["headers", name])
    _check_date(data.get("checked"), ["checked"], problem)
    models = data.get("models")
    seen: set[str] = set()
    for i, model in enumerate(models if isinstance(models, list) else ()):
        if not isinstance(model, dict):
            continue
        names: list[tuple[Any, list[str | int]]] = [(model.get("id"), ["models", i, "id"])]
        for key in ("aliases", "snapshots"):
            extra = model.get(key)
            names += [(name, ["models", i, key, j]) for j, name in enumerate(extra if isinstance(extra, list) else ())]
        for name, where in names:
            if not isinstance(name, str):
                continue
            if name in seen:
                problem(f"{name!r} is listed twice in this file", where)
            seen.add(name)
        output, context = model.get("max_output_tokens"), model.get("context_window")
        if _number(output) and _number(context) and output > context:
            problem("max_output_tokens is larger than context_window", ["models", i, "max_output_tokens"])
        _check_date(model.get("deprecated"), ["models", i, "deprecated"], problem)
        _check_prices(model.get("pricing"), ["models", i, "pricing"], problem)
        params = model.get("params")
        for pname, prange in (params.items() if isinstance(params, dict) else ()):
            if isinstance(prange, dict) and _number(prange.get("min")) and _number(prange.get("max")) \
                    and prange["min"] > prange["max"]:
                problem("min is larger than max", ["models", i, "params", pname])
    return problems


def _check_date(value: object, where: list[str | int], problem: Callable[[str, list[str | int]], None]) -> None:
    """A YYYY-MM-DD string that is no real day (the schema checks only the shape)."""
    if isinstance(value, str) and _DATE.match(value):
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            problem(f"{value!r} is not a real date (YYYY-MM-DD)", where)


def _check_prices(value: object, where: list[str | int],
                  problem: Callable[[str, list[str | int]], None]) -> None:
    """A list of dated prices: real dates, each price's ``from`` after the one before it (only the first may
    leave it out: it was in force from the start), and no ``until`` before its own ``from``."""
    entries = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    previous: str | None = None
    for j, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        at = [*where, j] if isinstance(value, list) else where
        start, end = entry.get("from"), entry.get("until")
        for key, day in (("from", start), ("until", end)):
            _check_date(day, [*at, key], problem)
        if isinstance(value, list) and j > 0 and not isinstance(start, str):
            problem("a later price needs 'from': the first day it is in force (YYYY-MM-DD)", at)
        if isinstance(start, str) and isinstance(end, str) and end < start:
            problem(f"until {end} is before from {start}", [*at, "until"])
        if isinstance(start, str) and previous is not None and start <= previous:
            problem(f"from {start} is not after the price before it (from {previous}); list prices oldest first",
                    [*at, "from"])
        if isinstance(start, str):
            previous = start


_FIGURES = ("context_window", "max_output_tokens", "dimensions", "pricing")


def age_problems(data: Any, *, file: str, text: str, max_age: int, today: datetime.date) -> list[CatalogError]:
    """``pepperpy catalog validate --max-age DAYS``: a file whose ``checked:`` date is older than that, or that
    has figures (limits, prices) but no date, so their age is unknown. A file without figures cannot go stale."""
    if not isinstance(data, dict):
        return []
    checked = data.get("checked")
    try:
        day = datetime.date.fromisoformat(checked) if isinstance(checked, str) else None
    except ValueError:
        return []  # the date problem itself is already reported
    models = data.get("models")
    if day is None and not any(isinstance(m, dict) and any(k in m for k in _FIGURES)
                               for m in (models if isinstance(models, list) else ())):
        return []
    if day is None:
        return [CatalogError(f"no checked: date, so the age of its figures is unknown (over --max-age {max_age}); "
                             f"add 'checked: YYYY-MM-DD' when you verify them", file=file,
                             line=line_of(text, ["provider"]), field="checked")]
    age = (today - day).days
    if age <= max_age:
        return []
    return [CatalogError(f"figures checked {checked}, {age} days ago (over --max-age {max_age}): check them "
                         f"against the provider (`pepperpy catalog sync {data.get('provider', 'PROVIDER')}` shows "
                         f"what its listing reports) and update the date", file=file,
                         line=line_of(text, ["checked"]), field="checked")]
