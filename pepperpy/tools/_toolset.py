"""Tools that run themselves: Python callables as tool definitions, and the loop of ``client.run``.

Nothing here does HTTP. `ToolSet` turns ``tools=[...]`` (callables or OpenAI-shaped dicts) into the wire's tool
definitions and runs the calls a model asks for; `run_loop` alternates between a ``send`` function (the
Client's, one chat request) and the tools until the model answers in text or ``max_turns`` requests were made.

What the model gets back for each call, as the ``role: tool`` message's content:

- the function's return value, as text (strings as they are, anything else as JSON);
- when the arguments fail the tool's schema, or cannot become its parameter types: the errors with their JSON
  paths (the function is not called, whatever ``raise_tool_errors`` says);
- when the function raises: ``"<ExceptionType>: <message>"``, so the model can recover, unless
  ``raise_tool_errors=True``, which lets the exception out of ``run``;
- for a tool name that does not exist: the names that do.

>>> def add(a: int, b: int) -> int:
...     '''Add two numbers.'''
...     return a + b
>>> ToolSet.of([add]).definitions()[0]["function"]["name"]
'add'
"""

from __future__ import annotations

import dataclasses
import json
import time
import typing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..errors import MaxTurnsError, ValidationError
from ..types import Completion, ToolCall, ToolStep, combine_usage
from . import _from_json
from .schema import function_schema, is_pydantic_model, unwrap
from .structured import schema_errors

__all__ = ["DEFAULT_MAX_TURNS", "Tool", "ToolSet", "run_loop", "tool_result", "tool_text"]

DEFAULT_MAX_TURNS = 8
MAX_TOOL_THREADS = 8  # parallel calls of one turn run on up to this many threads

Message = dict[str, Any]


@dataclass(frozen=True)
class Tool:
    """One tool: its name, description and JSON Schema, and the function that runs it (None: a definition
    only, passed as a dict, which ``run`` cannot execute)."""

    name: str
    parameters: Mapping[str, Any]
    description: str | None = None
    fn: Callable[..., Any] | None = None

    @classmethod
    def of(cls, value: Any) -> Tool:
        if isinstance(value, Tool):
            return value
        if isinstance(value, Mapping):
            function = value.get("function") if value.get("type") == "function" else None
            if not isinstance(function, Mapping) or not function.get("name"):
                raise ValidationError("a tool dict must look like {'type': 'function', 'function': {'name': ..., "
                                      "'parameters': {...}}}; or pass the Python function itself",
                                      param="tools", value=value)
            return cls(str(function["name"]), function.get("parameters") or {"type": "object", "properties": {}},
                       function.get("description"))
        if callable(value):
            schema = function_schema(value)
            return cls(schema["name"], schema["parameters"], schema.get("description"), value)
        raise ValidationError(f"tools takes Python functions or tool dicts, not {type(value).__name__}",
                              param="tools", value=repr(value)[:80])

    def definition(self) -> dict[str, Any]:
        """The tool in OpenAI's shape, which every dialect converts."""
        function: dict[str, Any] = {"name": self.name}
        if self.description:
            function["description"] = self.description
        function["parameters"] = dict(self.parameters)
        return {"type": "function", "function": function}


class ToolSet:
    """The tools of one call, by name."""

    def __init__(self, tools: Sequence[Tool]) -> None:
        self.tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self.tools:
                raise ValidationError(f"two tools are named {tool.name!r}; tool names must be unique",
                                      param="tools", value=tool.name)
            self.tools[tool.name] = tool

    @classmethod
    def of(cls, tools: Any) -> ToolSet:
        if isinstance(tools, ToolSet):
            return tools
        if isinstance(tools, (str, bytes, Mapping)) or not isinstance(tools, Sequence):
            raise ValidationError("tools takes a list: tools=[get_weather, ...]", param="tools",
                                  value=type(tools).__name__)
        return cls([Tool.of(t) for t in tools])

    def definitions(self) -> list[dict[str, Any]]:
        return [tool.definition() for tool in self.tools.values()]

    def runnable(self) -> bool:
        return all(tool.fn is not None for tool in self.tools.values())

    def execute(self, calls: Sequence[ToolCall], *, raise_tool_errors: bool = False) -> list[ToolStep]:
        """Run the calls (concurrently on threads when there are several); steps in call order."""
        if len(calls) <= 1:
            return [self._execute(call, raise_tool_errors) for call in calls]
        with ThreadPoolExecutor(max_workers=min(len(calls), MAX_TOOL_THREADS),
                                thread_name_prefix="pepperpy-tool") as pool:
            futures = [pool.submit(self._execute, call, raise_tool_errors) for call in calls]
            return [future.result() for future in futures]  # a raise_tool_errors exception comes out here

    def _execute(self, call: ToolCall, raise_tool_errors: bool) -> ToolStep:
        tool = self.tools.get(call.name)
        arguments = call.arguments
        if tool is None or tool.fn is None:
            known = ", ".join(name for name, t in self.tools.items() if t.fn is not None) or "none"
            why = "does not exist" if tool is None else "cannot be run here (it was given as a dict)"
            return ToolStep(call.name, arguments, error=f"tool {call.name!r} {why}; the tools are: {known}",
                            id=call.id)
        if "_raw" in arguments and len(arguments) == 1:  # the dialect could not decode them
            return ToolStep(call.name, arguments, error=f"the arguments are not valid JSON: {arguments['_raw']!r}; "
                            f"call {call.name} again with a JSON object", id=call.id)
        problems = schema_errors(dict(arguments), tool.parameters)
        if not problems:
            try:
                converted = _python_arguments(tool.fn, arguments)
            except _UnconvertibleError as exc:  # a value the schema let through that the type refuses
                problems = [(f"$.{exc.name}", exc.reason)]
        if problems:
            listed = "; ".join(f"{path}: {message}" for path, message in problems)
            return ToolStep(call.name, arguments, error=f"invalid arguments for {call.name}: {listed}. Call it "
                            f"again with arguments that match its schema", id=call.id)
        start = time.perf_counter()
        try:
            result = tool.fn(**converted)
        except Exception as exc:
            if raise_tool_errors:
                raise
            return ToolStep(call.name, arguments, error=f"{type(exc).__name__}: {exc}",
                            seconds=time.perf_counter() - start, id=call.id)
        return ToolStep(call.name, arguments, result=result, seconds=time.perf_counter() - start, id=call.id)


class _UnconvertibleError(Exception):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason)
        self.name, self.reason = name, reason


def _python_arguments(fn: Callable[..., Any], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """JSON arguments as the function's parameter types (dataclasses, enums, datetimes...); _UnconvertibleError
    when a value passed the schema but its type refuses it (a date-time jsonschema could not check, a
    dataclass's ``__post_init__``)."""
    hints = typing.get_type_hints(unwrap(fn), include_extras=True)
    converted: dict[str, Any] = {}
    for name, value in arguments.items():
        try:
            converted[name] = _from_json.to_target(hints[name], value) if name in hints else value
        except (TypeError, ValueError) as exc:
            raise _UnconvertibleError(name, f"{type(exc).__name__}: {exc}") from exc
    return converted


def tool_text(value: Any) -> str:
    """A tool's result as the text a tool message carries: strings unchanged, anything else as JSON."""
    if isinstance(value, str):
        return value
    if is_pydantic_model(type(value)):
        return str(value.model_dump_json())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def tool_result(call: ToolCall | Mapping[str, Any], value: Any) -> Message:
    """The ``role: tool`` message that answers ``call`` with ``value`` (any JSON-able value, or text).

    >>> messages += [r.message] + [pepperpy.tool_result(c, run_tool(c)) for c in r.tool_calls]  # doctest: +SKIP
    """
    call_id = call.id if isinstance(call, ToolCall) else str(call.get("id", ""))
    return {"role": "tool", "tool_call_id": call_id, "content": tool_text(value)}


def _step_message(step: ToolStep) -> Message:
    return {"role": "tool", "tool_call_id": step.id,
            "content": step.error if step.error is not None else tool_text(step.result)}


def run_loop(send: Callable[[list[Message]], Completion], messages: list[Message], tools: ToolSet, *,
             max_turns: int = DEFAULT_MAX_TURNS, raise_tool_errors: bool = False) -> Completion:
    """Ask, run the tools the model calls, hand back their results, until the model answers in text.

    ``send`` makes one request with the messages so far; ``messages`` grows with every turn. Returns the
    final answer with ``steps``, its usage and cost those of all the turns added up; raises MaxTurnsError when
    ``max_turns`` requests all ended in tool calls.
    """
    if isinstance(max_turns, bool) or not isinstance(max_turns, int) or max_turns < 1:
        raise ValidationError(f"max_turns must be a positive integer, not {max_turns!r}", param="max_turns",
                              value=max_turns)
    steps: list[ToolStep] = []
    answers: list[Completion] = []
    completion: Completion | None = None
    for turn in range(1, max_turns + 1):
        completion = send(messages)
        answers.append(completion)
        if not completion.tool_calls:
            usage, cost = combine_usage(answers)
            return dataclasses.replace(completion, steps=tuple(steps), usage=usage, cost=cost)
        if turn == max_turns:
            break  # the calls of the last answer are not run: no side effect beyond the limit
        messages.append(completion.message)
        done = tools.execute(completion.tool_calls, raise_tool_errors=raise_tool_errors)
        steps.extend(done)
        messages.extend(_step_message(step) for step in done)
    assert completion is not None
    asked = ", ".join(call.name for call in completion.tool_calls)
    raise MaxTurnsError(f"the model still asked for tools ({asked}) after max_turns={max_turns} requests; raise "
                        f"max_turns (error.messages is the conversation so far, error.completion the last answer, "
                        f"whose calls were not run)", messages=messages, steps=steps,
                        completion=completion, max_turns=max_turns)
