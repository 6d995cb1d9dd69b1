"""The checks of a catalog file beyond its JSON Schema: duplicate names, ranges, dates, retired entries, dialect
names (``semantic_problems``), the age of its figures (``age_problems``), and a file's every problem at once
(``file_problems``, ``check_file``: what ``pepperpy catalog validate`` reports)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeGuard

from .._redact import header_problem
from ..errors import CatalogError
from ._files import field_path, line_of, read_file, schema_problems

__all__ = ["age_problems", "check_file", "dialect_known", "file_problems", "semantic_problems", "unknown_dialect"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def dialect_known(name: str) -> bool:
    """Whether a catalog file may name this dialect: shipped, registered with ``pepperpy.register_dialect``, or
    declared by an installed package (whose entry points are only read for such a name)."""
    from ..dialects import _registry

    return _registry.is_known(name)


def unknown_dialect(name: str) -> str:
    """The message for a dialect name nobody knows, listing the known ones."""
    from ..dialects import _registry

    return _registry.unknown_dialect(name)


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
    dialect = data.get("dialect")
    if isinstance(dialect, str) and re.fullmatch(r"[a-z][a-z0-9_-]*", dialect) and not dialect_known(dialect):
        problem(unknown_dialect(dialect), ["dialect"])
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
    _retired_problems(data.get("retired"), seen, problem)
    return problems


def _retired_problems(retired: Any, listed: set[str], problem: Callable[[str, list[str | int]], None]) -> None:
    """A retired name must not also be a listed one, nor retired twice; its replacement must be a model the
    file lists (when it lists any: a later file may retire names of a provider an earlier one lists)."""
    seen: set[str] = set()
    for i, entry in enumerate(retired if isinstance(retired, list) else ()):
        if not isinstance(entry, dict):
            continue
        names: list[tuple[Any, list[str | int]]] = [(entry.get("id"), ["retired", i, "id"])]
        aliases = entry.get("aliases")
        names += [(a, ["retired", i, "aliases", j]) for j, a in enumerate(aliases if isinstance(aliases, list) else ())]
        for name, where in names:
            if not isinstance(name, str):
                continue
            if name in listed:
                problem(f"{name!r} is listed as a current model of this file too: a name is either listed or "
                        f"retired", where)
            elif name in seen:
                problem(f"{name!r} is retired twice in this file", where)
            seen.add(name)
        replacement = entry.get("replacement")
        if isinstance(replacement, str) and listed and replacement not in listed:
            problem(f"the replacement {replacement!r} is not a model of this file; name one of its models (an id or "
                    f"an alias)", ["retired", i, "replacement"])
        _check_date(entry.get("date"), ["retired", i, "date"], problem)


def _check_date(value: object, where: list[str | int], problem: Callable[[str, list[str | int]], None]) -> None:
    """A YYYY-MM-DD string that is no real day (the schema checks only the shape)."""
    if isinstance(value, str) and _DATE.match(value):
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            problem(f"{value!r} is not a real date (YYYY-MM-DD)", where)


_FIGURES = ("context_window", "max_output_tokens", "dimensions", "pricing")


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
