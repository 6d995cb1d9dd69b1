"""OpenAI's strict structured-output variant of a JSON Schema, made only where the schema allows.

Strict mode guarantees the answer matches the schema, but takes a subset of JSON Schema: every object lists
all its properties in ``required`` and has ``additionalProperties: false``; the root is an object; only some
keywords are known. `strict_schema` rewrites a schema that fits (an optional property becomes required and
nullable: a ``null`` then means "absent", which `drop_added_nulls` undoes on the answer) and returns None for
one that does not (free-form objects, ``dict[str, X]``, tuples, ``allOf``...), which is then sent with
``strict: false``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["allows_null", "drop_added_nulls", "strict_schema"]

# Keywords strict mode accepts (OpenAI's "Supported schemas"); any other one makes the schema non-strict.
_KNOWN = frozenset({
    "type", "properties", "required", "additionalProperties", "items", "anyOf", "enum", "const", "description",
    "title", "$defs", "definitions", "$ref", "pattern", "format", "multipleOf", "maximum", "exclusiveMaximum",
    "minimum", "exclusiveMinimum", "minItems", "maxItems", "default", "$schema", "$id", "$comment",
})
_DROPPED = frozenset({"default", "$schema", "$comment"})  # informative only; strict mode has no use for them


class _NotStrictError(Exception):
    pass


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """The strict variant of ``schema``, or None when it cannot be made strict."""
    root = copy.deepcopy(dict(schema))
    if root.get("type") != "object":
        return None  # the root must be an object, not a union or an array
    try:
        return _strict(root, root, depth=0)
    except _NotStrictError:
        return None


def _strict(node: Any, root: dict[str, Any], depth: int) -> dict[str, Any]:
    if not isinstance(node, dict) or not node or depth > 64:
        raise _NotStrictError  # {} (any value) or a nesting no provider would take
    unknown = set(node) - _KNOWN
    if unknown:
        raise _NotStrictError
    out = {k: v for k, v in node.items() if k not in _DROPPED}
    for key in ("$defs", "definitions"):
        if isinstance(node.get(key), dict):
            out[key] = {name: _strict(sub, root, depth + 1) for name, sub in node[key].items()}
    ref = node.get("$ref")
    if ref is not None:
        if set(out) - {"$ref", "description", "title"}:
            raise _NotStrictError
        return {"$ref": ref}  # strict mode refuses keywords beside $ref; the definition keeps its own text
    if "anyOf" in node:
        if set(out) - {"anyOf", "description", "title", "$defs", "definitions"}:
            raise _NotStrictError
        out["anyOf"] = [_strict(member, root, depth + 1) for member in node["anyOf"]]
        return out
    kinds = node.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if not kinds and "enum" not in node and "const" not in node:
        raise _NotStrictError
    if "object" in (kinds or ()):
        properties = node.get("properties")
        if not isinstance(properties, dict) or not properties or node.get("additionalProperties", False) is not False:
            raise _NotStrictError  # a free-form object, or dict[str, X]: strict mode has no way to say it
        required = set(node.get("required") or ())
        out["properties"] = {}
        for name, sub in properties.items():
            prop = _strict(sub, root, depth + 1)
            if name not in required and not allows_null(prop, root):
                prop = _nullable(prop)
            out["properties"][name] = prop
        out["required"] = list(properties)
        out["additionalProperties"] = False
    if "items" in node:
        out["items"] = _strict(node["items"], root, depth + 1)
    elif "array" in (kinds or ()):
        raise _NotStrictError  # an array of anything
    return out


def _nullable(prop: dict[str, Any]) -> dict[str, Any]:
    text: dict[str, Any] = {k: prop[k] for k in ("description", "title") if k in prop and "$ref" not in prop}
    inner = {k: v for k, v in prop.items() if k not in text}
    return {"anyOf": [inner, {"type": "null"}], **text}


def allows_null(schema: Any, root: Mapping[str, Any]) -> bool:
    """Whether ``null`` can be valid under ``schema`` (following local ``$ref``s)."""
    schema = _resolve(schema, root)
    if not isinstance(schema, Mapping):
        return schema is True
    kinds = schema.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    if "enum" in schema and None in schema["enum"]:
        return True
    if "const" in schema and schema["const"] is None:
        return True
    return any(allows_null(m, root) for m in schema.get("anyOf") or schema.get("oneOf") or ())


def _resolve(schema: Any, root: Mapping[str, Any], seen: int = 0) -> Any:
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and seen < 32:
        ref = schema["$ref"]
        if not ref.startswith("#"):
            return {}
        target: Any = root
        for part in [p for p in ref[1:].split("/") if p]:
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, Mapping) else {}
        schema, seen = target, seen + 1
    return schema


def drop_added_nulls(data: Any, schema: Mapping[str, Any]) -> Any:
    """``data`` without the ``null`` values that only the strict variant allowed: an optional property the
    original schema does not let be null, answered ``null``, is left out (the user's default applies)."""
    return _drop(data, schema, schema, 0)


def _drop(data: Any, schema: Any, root: Mapping[str, Any], depth: int) -> Any:
    schema = _resolve(schema, root)
    if not isinstance(schema, Mapping) or depth > 64:
        return data
    if isinstance(data, dict):
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            required = set(schema.get("required") or ())
            out = {}
            for key, value in data.items():
                sub = properties.get(key)
                if value is None and sub is not None and key not in required and not allows_null(sub, root):
                    continue
                out[key] = _drop(value, sub, root, depth + 1) if sub is not None else value
            return out
    elif isinstance(data, list) and isinstance(schema.get("items"), Mapping):
        return [_drop(item, schema["items"], root, depth + 1) for item in data]
    for member in schema.get("anyOf") or ():
        member = _resolve(member, root)
        if isinstance(member, Mapping) and _same_kind(data, member):
            return _drop(data, member, root, depth + 1)
    return data


def _same_kind(data: Any, schema: Mapping[str, Any]) -> bool:
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or ())
    if isinstance(data, dict):
        return "object" in kinds or "properties" in schema
    if isinstance(data, list):
        return "array" in kinds or "items" in schema
    return False
