"""Structured output on wires whose JSON Schema subset is narrower than OpenAI's, and the answer tool.

Anthropic's ``output_config.format`` wants ``additionalProperties: false`` on every object and refuses numeric
and length constraints, most string formats and ``oneOf``; `anthropic_schema` rewrites a schema the way
anthropic-sdk-python's ``transform_schema`` does: what is not supported moves into the ``description``, where
the model still reads it (pepperpy validates the answer against the full schema afterwards).

Models without a JSON answer mode but with tools get the schema as a forced tool, `ANSWER_TOOL`: its input is
the answer, which the dialect hands back as the text. So does a schema with free-form objects (``dict[str, X]``,
a bare ``object``; `has_free_form_object`), which ``additionalProperties: false`` would turn into "always
``{}``": a tool's input schema is not restricted that way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..types import ModelSpec, ProviderSpec

__all__ = ["ANSWER_TOOL", "ANSWER_TOOL_DESCRIPTION", "answer_tool", "answers_with_tool", "anthropic_schema",
           "has_free_form_object"]

ANSWER_TOOL = "json_answer"
ANSWER_TOOL_DESCRIPTION = "Give your answer with this tool: its input is the whole answer, as the schema says."

_FORMATS = frozenset({"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"})
_KEPT = ("enum", "const", "description", "title")


def anthropic_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` within Anthropic's structured-output subset (see the module docstring)."""
    node = dict(schema)
    out: dict[str, Any] = {}
    for key in ("$defs", "definitions"):
        defs = node.pop(key, None)
        if isinstance(defs, Mapping):
            out[key] = {name: anthropic_schema(sub) for name, sub in defs.items()}
    ref = node.pop("$ref", None)
    if ref is not None:
        out["$ref"] = ref
        return out
    node.pop("$schema", None)
    kinds = node.pop("type", None)
    union = node.pop("anyOf", None) or node.pop("oneOf", None)
    if isinstance(kinds, list):  # ["string", "null"]: a union of plain types
        union = [{"type": kind} if kind != "object" and kind != "array" else {**node, "type": kind}
                 for kind in kinds]
        kinds = None
    if isinstance(union, list):
        out["anyOf"] = [anthropic_schema(member) for member in union]
    elif isinstance(node.get("allOf"), list):
        out["allOf"] = [anthropic_schema(member) for member in node.pop("allOf")]
    elif kinds is not None:
        out["type"] = kinds
    for key in _KEPT:
        if key in node:
            out[key] = node.pop(key)
    if kinds == "object":
        out["properties"] = {name: anthropic_schema(sub) for name, sub in (node.pop("properties", None) or {}).items()}
        node.pop("additionalProperties", None)
        out["additionalProperties"] = False
        if "required" in node:
            out["required"] = node.pop("required")
    elif kinds == "string" and node.get("format") in _FORMATS:
        out["format"] = node.pop("format")
    elif kinds == "array":
        if isinstance(node.get("items"), Mapping):
            out["items"] = anthropic_schema(node.pop("items"))
        if node.get("minItems") in (0, 1):
            out["minItems"] = node.pop("minItems")
    node.pop("default", None)
    if union is not None or "allOf" in out:
        node = {k: v for k, v in node.items() if k not in ("items", "properties", "required", "additionalProperties")}
    if node:  # the rest is not supported: say it in words
        said = "{" + ", ".join(f"{key}: {value}" for key, value in node.items()) + "}"
        out["description"] = f"{out['description']}\n\n{said}" if out.get("description") else said
    return out


def answer_tool(schema: Mapping[str, Any], description: str | None = None) -> dict[str, Any]:
    """The forced tool that carries a structured answer, in Anthropic's tool shape."""
    return {"name": ANSWER_TOOL, "description": description or ANSWER_TOOL_DESCRIPTION, "input_schema": dict(schema)}


def answers_with_tool(provider: ProviderSpec, model: ModelSpec) -> bool:
    """Whether a structured answer goes through the forced tool: for models the catalog gives tools but no JSON
    output mode, or when the provider's ``structured_output: tool`` option says so (gateways without the mode)."""
    option = provider.options.get("structured_output")
    if option is not None:
        return bool(option == "tool")
    return "tools" in model.capabilities and "json_output" not in model.capabilities


def has_free_form_object(schema: Any, depth: int = 0) -> bool:
    """Whether an object in ``schema`` takes keys it does not list: ``additionalProperties`` other than false,
    or no ``properties`` at all. (Listed properties with ``additionalProperties`` left out are not free-form:
    closing such an object keeps everything the schema describes.)"""
    if not isinstance(schema, Mapping) or depth > 64:
        return False
    kinds = schema.get("type")
    extra = schema.get("additionalProperties")
    if (kinds == "object" or (isinstance(kinds, list) and "object" in kinds) or "additionalProperties" in schema) \
            and (extra not in (None, False) or (extra is None and not schema.get("properties"))):
        return True
    subs: list[Any] = [schema.get("items"), extra]
    for key in ("properties", "$defs", "definitions"):
        if isinstance(schema.get(key), Mapping):
            subs.extend(schema[key].values())
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if isinstance(schema.get(key), list):
            subs.extend(schema[key])
    return any(has_free_form_object(sub, depth + 1) for sub in subs)
