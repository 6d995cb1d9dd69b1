"""Read a docstring's description and its parameter descriptions, in Google, NumPy or Sphinx style.

A tool's JSON Schema takes the function's description and each parameter's ``description`` from here, and
a dataclass's fields take theirs from its ``Attributes:`` section, so the model reads what the user wrote.

>>> doc = parse_docstring('''Weather now.
...
... Args:
...     city: The city, e.g. "Paris".
... ''')
>>> doc.description, doc.params
('Weather now.', {'city': 'The city, e.g. "Paris".'})
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

__all__ = ["Docstring", "parse_docstring"]

# Google sections that list names; any other "Word:" header (Returns:, Raises:, Example:) ends them.
_GOOGLE_PARAMS = frozenset({"args", "arguments", "parameters", "params", "keyword args", "keyword arguments",
                            "other parameters", "attributes", "kwargs"})
_GOOGLE_HEADER = re.compile(r"^([A-Za-z][A-Za-z ]*):\s*$")
_GOOGLE_ITEM = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_PARAMS = frozenset({"parameters", "other parameters", "attributes", "keyword arguments"})
_NUMPY_RULE = re.compile(r"^\s*-{3,}\s*$")
_SPHINX_FIELD = re.compile(r"^:(\w+)(?:\s+([^:]*?))?:\s*(.*)$")
_SPHINX_PARAMS = frozenset({"param", "parameter", "arg", "argument", "key", "keyword"})


@dataclass(frozen=True)
class Docstring:
    """The free text before the first section, and ``name -> description`` for each documented parameter."""

    description: str = ""
    params: dict[str, str] = field(default_factory=dict)


def parse_docstring(doc: str | None) -> Docstring:
    """Split a docstring into its description and its parameter descriptions (whichever style it uses)."""
    lines = inspect.cleandoc(doc or "").splitlines()
    params: dict[str, str] = {}
    end = len(lines)  # where the description stops: the first section of any style
    i = 0
    while i < len(lines):
        line = lines[i]
        header = _GOOGLE_HEADER.match(line)
        if i + 1 < len(lines) and line.strip() and _NUMPY_RULE.match(lines[i + 1]):
            end = min(end, i)
            i = _numpy_section(lines, i + 2, line.strip().lower(), params)
        elif header and not line.startswith(" "):
            end = min(end, i)
            i = _google_section(lines, i + 1, header.group(1).strip().lower(), params)
        elif line.startswith(":") and _SPHINX_FIELD.match(line):
            end = min(end, i)
            i = _sphinx_field(lines, i, params)
        else:
            i += 1
    description = "\n".join(lines[:end]).strip()
    return Docstring(re.sub(r"\n{3,}", "\n\n", description), params)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _block(lines: list[str], start: int) -> int:
    """The index after a section body: the lines until one that is not indented (blank lines included)."""
    i = start
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
        i += 1
    return i


def _join(parts: list[str]) -> str:
    return " ".join(p.strip() for p in parts if p.strip())


def _google_section(lines: list[str], start: int, name: str, params: dict[str, str]) -> int:
    end = _block(lines, start)
    if name not in _GOOGLE_PARAMS:
        return end
    body = [line for line in lines[start:end]]
    base = min((_indent(line) for line in body if line.strip()), default=0)
    current: str | None = None
    for line in body:
        if not line.strip():
            continue
        match = _GOOGLE_ITEM.match(line.strip()) if _indent(line) == base else None
        if match:
            current = match.group(1)
            params[current] = match.group(2).strip()
        elif current is not None:
            params[current] = _join([params[current], line])
    return end


def _numpy_section(lines: list[str], start: int, name: str, params: dict[str, str]) -> int:
    # The body runs until the next "Header / -----" pair; item lines sit at column 0, their text below.
    end = start
    while end < len(lines) and not (end + 1 < len(lines) and lines[end].strip()
                                    and _NUMPY_RULE.match(lines[end + 1])):
        if lines[end].startswith(":"):
            break
        end += 1
    if name not in _NUMPY_PARAMS:
        return end
    names: list[str] = []
    for line in lines[start:end]:
        if not line.strip():
            continue
        if not line.startswith((" ", "\t")):
            names = [n.strip().lstrip("*") for n in line.split(":", 1)[0].split(",") if n.strip()]
            for each in names:
                params[each] = ""
        else:
            for each in names:
                params[each] = _join([params[each], line])
    return end


def _sphinx_field(lines: list[str], start: int, params: dict[str, str]) -> int:
    match = _SPHINX_FIELD.match(lines[start])
    assert match is not None
    kind, argument, text = match.groups()
    parts = [text]
    i = start + 1
    while i < len(lines) and lines[i].startswith((" ", "\t")) and lines[i].strip():
        parts.append(lines[i])
        i += 1
    if kind in _SPHINX_PARAMS and argument:
        params[argument.split()[-1].lstrip("*")] = _join(parts)  # ":param str city:" names the last word
    return i
