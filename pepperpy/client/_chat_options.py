"""The per-call options of a chat request that pepperpy handles itself: ``response_format`` (a schema dict,
dataclass, TypedDict or pydantic model), ``tools`` given as Python functions, and ``repair_rounds``.

`ChatOptions.take` removes them from a call's params once; `ChatOptions.apply` puts them back for each hop
(a fallback may speak another dialect): the schema as OpenAI's ``response_format``, which every dialect with
a JSON answer mode converts to its own, or, for a wire without one (StackSpot agents), as an instruction in
the system prompt. The answer is checked afterwards by ``structured.ask``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..types._value import Value

if TYPE_CHECKING:
    from ..dialects.base import Dialect
    from ..tools._toolset import ToolSet
    from ..tools.structured import ResponseFormat

# tools.structured's (a test keeps them one): pepperpy.tools loads only for a call with tools or response_format
DEFAULT_REPAIR_ROUNDS = 1

__all__ = ["ChatOptions"]

Message = dict[str, Any]


class ChatOptions(Value):
    fmt: ResponseFormat | None = None
    tools: ToolSet | None = None
    repair_rounds: int = DEFAULT_REPAIR_ROUNDS

    @classmethod
    def take(cls, params: dict[str, Any]) -> ChatOptions:
        """Pop ``response_format``, ``tools`` and ``repair_rounds`` from ``params`` (those pepperpy handles)."""
        if "response_format" not in params and "tools" not in params and "repair_rounds" not in params:
            return _PLAIN  # the common call: nothing to do (a cache hit costs ~15 µs; this keeps it there)
        from ..tools._toolset import ToolSet
        from ..tools.structured import ResponseFormat

        repair_rounds = params.pop("repair_rounds", DEFAULT_REPAIR_ROUNDS)
        fmt = None
        response_format = params.get("response_format")
        if response_format is not None:
            fmt = ResponseFormat.of(response_format)
            if fmt is not None:  # json_object and text pass through as the caller wrote them
                del params["response_format"]
        tools = params.get("tools")
        toolset = None
        if tools is not None and not (isinstance(tools, Sequence) and all(isinstance(t, dict) for t in tools)):
            toolset = ToolSet.of(tools)  # callables among them: their schemas go on the wire
            params["tools"] = toolset.definitions()
        return cls(fmt, toolset, repair_rounds)

    def apply(self, dialect: Dialect, messages: list[Message], params: dict[str, Any]
              ) -> tuple[list[Message], dict[str, Any]]:
        """The messages and params of one hop, for ``dialect``."""
        if self.fmt is None:
            return messages, params
        if dialect.structured_output == "prompt":
            from ..tools.structured import schema_prompt

            return [{"role": "system", "content": schema_prompt(self.fmt)}, *messages], params
        return messages, {**params, "response_format": self.fmt.wire()}


_PLAIN = ChatOptions()
