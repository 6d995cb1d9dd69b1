"""A JSON value that fits a JSON Schema: what the fakes answer when a request asks for structured output and
no reply is queued (so code using ``response_format`` runs offline without scripting every answer).

Strings are ``text`` (the echo of the prompt) unless an ``enum``, ``const`` or ``format`` says otherwise;
numbers are their ``minimum`` or 0; arrays have ``minItems`` items (at least one); objects have every
property; unions take their first member that is not null. ``pattern`` and length limits are not honoured.
Only stdlib.

>>> sample({"type": "object", "properties": {"n": {"type": "integer", "minimum": 2}, "s": {"type": "string"}}}, "hi")
{'n': 2, 's': 'hi'}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

ANY_OBJECT = {"type": "object", "properties": {"echo": {"type": "string"}}}  # a JSON mode without a schema
SCHEMA_MARKER = "It must match this JSON Schema:\n"  # how pepperpy states a schema in a prompt (StackSpot)

_FORMATS = {"date": "2025-01-01", "date-time": "2025-01-01T00:00:00Z", "time": "00:00:00", "uuid":
            "00000000-0000-4000-8000-000000000000", "email": "echo@example.com", "uri": "https://example.com/"}


def sample(schema: Any, text: str = "echo", root: Any = None, depth: int = 0) -> Any:
    """A value valid under ``schema`` (best effort, see the module docstring)."""
    root = schema if root is None else root
    if not isinstance(schema, Mapping) or depth > 12:
        return None if depth > 12 else text
    if isinstance(schema.get("$ref"), str):
        return sample(_resolve(schema["$ref"], root), text, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        members = [m for m in schema.get(key) or () if not (isinstance(m, Mapping) and m.get("type") == "null")]
        if members:
            return sample(members[0], text, root, depth + 1)
    kinds = schema.get("type")
    kind = next((k for k in kinds if k != "null"), "null") if isinstance(kinds, list) else kinds
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties") or {}
        return {name: sample(sub, text, root, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            return [sample(sub, text, root, depth + 1) for sub in prefix]
        count = max(1, int(schema.get("minItems") or 0))
        return [sample(items, text, root, depth + 1) for _ in range(count)] if isinstance(items, Mapping) else []
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        value = low if isinstance(low, (int, float)) else 0
        value = value + 1 if "exclusiveMinimum" in schema and "minimum" not in schema else value
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _FORMATS.get(str(schema.get("format")), text)


def _resolve(ref: str, root: Any) -> Any:
    target = root
    for part in (p for p in ref.removeprefix("#").split("/") if p):
        target = target.get(part, {}) if isinstance(target, Mapping) else {}
    return target


def schema_in_prompt(prompt: str) -> Any:
    """The schema pepperpy wrote into a prompt for a wire without a JSON mode, or None."""
    _, marker, rest = prompt.partition(SCHEMA_MARKER)
    if not marker:
        return None
    try:
        return json.JSONDecoder().raw_decode(rest)[0]
    except ValueError:
        return None
