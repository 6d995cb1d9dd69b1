"""Structured answers: what ``response_format=`` accepts, the schema each provider is sent, and the checks.

``response_format`` takes a JSON Schema dict, a dataclass, a TypedDict, a pydantic model (when pydantic is
installed), or an OpenAI-shaped ``{"type": "json_schema", ...}`` dict. `ResponseFormat.of` turns any of them
into one object holding the schema; the dialects receive it in OpenAI's shape (`ResponseFormat.wire`) and
convert it to their own mechanism. The answer is decoded, checked with jsonschema (every error, with its JSON
path) and built back into the user's type (`ResponseFormat.parse`).

>>> fmt = ResponseFormat.of({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})
>>> fmt.parse('{"n": 3}')
{'n': 3}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import StructuredOutputError, ValidationError
from ..types import Completion, combine_usage
from . import _from_json
from ._strict_schema import drop_added_nulls, strict_schema
from .schema import is_pydantic_model, is_typeddict, json_schema

__all__ = ["DEFAULT_REPAIR_ROUNDS", "ResponseFormat", "ask", "repair_prompt", "schema_errors", "schema_prompt"]

DEFAULT_REPAIR_ROUNDS = 1  # one more request that shows the model its errors; 0 disables
_NAME = re.compile(r"[^a-zA-Z0-9_-]")
_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?```$", re.S)
_MAX_MESSAGE = 300  # a schema error quotes the value; a huge value would drown the others
_FINAL = ("length", "content_filter")  # answers a repair round would not change


@dataclass(frozen=True)
class ResponseFormat:
    """One ``response_format``: the schema, the name it travels under, and the type answers become."""

    schema: Mapping[str, Any]
    name: str = "response"
    target: Any = None  # dataclass, TypedDict, pydantic model; None: the parsed JSON as it is
    strict: Mapping[str, Any] | None = None  # OpenAI's strict variant, None when the schema cannot be made strict
    description: str | None = None

    @classmethod
    def of(cls, value: Any) -> ResponseFormat | None:
        """The format for any accepted ``response_format`` value; None for those passed through unchanged
        (``{"type": "json_object"}``, ``{"type": "text"}``)."""
        if isinstance(value, ResponseFormat):
            return value
        if isinstance(value, Mapping):
            kind = value.get("type")
            if kind in ("text", "json_object"):
                return None
            if kind == "json_schema":
                inner = value.get("json_schema")
                if not isinstance(inner, Mapping) or not isinstance(inner.get("schema"), Mapping):
                    raise ValidationError("response_format={'type': 'json_schema', ...} needs "
                                          "'json_schema': {'name': ..., 'schema': {...}}", param="response_format",
                                          value=value)
                schema, name = dict(inner["schema"]), str(inner.get("name") or "response")
                wants_strict = inner.get("strict", True) is not False
                return cls._make(schema, name, None, inner.get("description"), wants_strict)
            return cls._make(dict(value), str(value.get("title") or "response"), None, None, True)
        if isinstance(value, type) and (_is_dataclass(value) or is_typeddict(value) or is_pydantic_model(value)):
            schema = json_schema(value)
            return cls._make(schema, value.__name__, value, schema.get("description"), True)
        raise ValidationError(
            f"response_format takes a JSON Schema dict, a dataclass, a TypedDict or a pydantic model, not "
            f"{value!r}; for a list, wrap it: @dataclass class Answer: items: list[...]",
            param="response_format", value=repr(value)[:80])

    @classmethod
    def _make(cls, schema: dict[str, Any], name: str, target: Any, description: Any,
              wants_strict: bool) -> ResponseFormat:
        _check_schema(schema)
        strict = strict_schema(schema) if wants_strict else None
        return cls(schema, _NAME.sub("_", name)[:64] or "response", target, strict,
                   description if isinstance(description, str) else None)

    def wire(self) -> dict[str, Any]:
        """OpenAI's ``response_format`` param: the strict variant where the schema allows, else strict false."""
        body: dict[str, Any] = {"name": self.name}
        if self.description:
            body["description"] = self.description
        body["schema"] = dict(self.strict if self.strict is not None else self.schema)
        body["strict"] = self.strict is not None
        return {"type": "json_schema", "json_schema": body}

    def check(self, completion: Completion) -> Completion:
        """``completion`` with ``parsed`` set, or StructuredOutputError; an answer calling tools is returned
        as it is (its caller is handling them), and one cut at max_tokens or refused fails at once."""
        if completion.tool_calls:
            return completion
        if completion.finish_reason in _FINAL:
            why = ("was cut at max_tokens before the JSON ended; raise max_tokens" if completion.finish_reason ==
                   "length" else f"was refused by the model: {completion.text[:200]!r}")
            raise _error(completion.text, [("$", f"the answer {why}")], completion)
        return replace(completion, parsed=self.parse(completion.text, completion))

    def parse(self, text: str, completion: Any = None) -> Any:
        """The answer as the user's type, or StructuredOutputError with every problem and its JSON path."""
        try:
            data = json.loads(_unfence(text))
        except ValueError as exc:
            raise _error(text, [("$", f"the answer is not valid JSON ({exc})")], completion) from None
        if self.strict is not None:  # nulls the strict schema allowed for optional keys mean "absent"
            data = drop_added_nulls(data, self.schema)
        problems = schema_errors(data, self.schema)
        if problems:
            raise _error(text, problems, completion)
        try:
            return _from_json.to_target(self.target, data)
        except (TypeError, ValueError) as exc:  # e.g. a dataclass's __post_init__ refusing a value
            raise _error(text, [("$", f"{type(exc).__name__}: {exc}")], completion) from exc


def ask(send: Callable[[list[dict[str, Any]]], Completion], messages: list[dict[str, Any]], fmt: ResponseFormat,
        *, repair_rounds: int = DEFAULT_REPAIR_ROUNDS) -> Completion:
    """Send, check the answer against ``fmt``; when it fails, show the model its errors and ask again, up to
    ``repair_rounds`` times. Returns the answer with ``parsed`` (usage and cost of every round added up).

    An answer cut at max_tokens or refused is not repaired: asking again would not change it. An answer that
    calls tools instead is returned as it is (``parsed`` None): the caller is handling the tool calls.
    """
    if isinstance(repair_rounds, bool) or not isinstance(repair_rounds, int) or repair_rounds < 0:
        raise ValidationError(f"repair_rounds must be 0 or more, not {repair_rounds!r}", param="repair_rounds",
                              value=repair_rounds)
    answers: list[Completion] = []
    for attempt in range(repair_rounds + 1):
        completion = send(messages)
        answers.append(completion)
        try:
            checked = fmt.check(completion)
        except StructuredOutputError as error:
            if attempt == repair_rounds or completion.finish_reason in _FINAL:
                raise
            messages = [*messages, {"role": "assistant", "content": completion.text},
                        {"role": "user", "content": repair_prompt(error)}]
            continue
        if len(answers) == 1:
            return checked
        usage, cost = combine_usage(answers)
        return replace(checked, usage=usage, cost=cost)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def schema_prompt(fmt: ResponseFormat) -> str:
    """The instruction for a wire with no JSON answer mode (StackSpot agents): the schema, in words."""
    return ("Answer with one JSON value and nothing else (no prose, no code fence). It must match this JSON "
            f"Schema:\n{json.dumps(dict(fmt.schema), ensure_ascii=False)}")


def schema_errors(value: Any, schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every way ``value`` fails ``schema``, as ``(json_path, message)`` in document order ([] when valid)."""
    validator = _validator(schema)
    found = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
    return [(error.json_path, _short(error.message)) for error in found]


def repair_prompt(error: StructuredOutputError) -> str:
    """The user turn of the repair round: what was wrong, and to answer again with JSON only."""
    lines = "\n".join(f"- {path}: {message}" for path, message in error.errors)
    return (f"Your answer does not match the required JSON schema:\n{lines}\n"
            f"Answer again with only the corrected JSON, nothing else.")


def _error(text: str, problems: Sequence[tuple[str, str]], completion: Any) -> StructuredOutputError:
    shown = "; ".join(f"{path}: {message}" for path, message in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return StructuredOutputError(f"the answer does not match response_format: {shown}{more}", text=text,
                                 errors=problems, completion=completion)


def _short(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[:_MAX_MESSAGE - 1] + "…"


def _unfence(text: str) -> str:
    """The JSON inside a ```json fence, which some models add even when asked for JSON only."""
    stripped = text.strip()
    match = _FENCE.match(stripped)
    return match.group(1) if match else stripped


def _is_dataclass(value: type) -> bool:
    import dataclasses

    return dataclasses.is_dataclass(value)


def _validator(schema: Mapping[str, Any]) -> Any:
    import jsonschema  # a runtime dependency, loaded on first use (import pepperpy stays light)

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _check_schema(schema: Mapping[str, Any]) -> None:
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(dict(schema))
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "the root"
        raise ValidationError(f"response_format is not a valid JSON Schema at {where}: {_short(exc.message)}",
                              param="response_format", value=where) from None
