"""What a chat call answers: Completion (with its Usage and ToolCalls) and the Chunks of a stream; and the short
texts every result's repr shows. All are frozen dataclasses (the other answers are in ``_other_answers``)."""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._evolve import builder
from ._usage import REPR_TEXT, Usage, plural, result_repr, short_text, short_value
from ._value import Value, field

if TYPE_CHECKING:
    from ._other_answers import ToolStep

__all__ = ["FINISH_REASONS", "REPR_TEXT", "Chunk", "Completion", "ToolCall", "Usage", "combine_usage", "created_at",
           "plural", "result_repr", "short_text", "short_value", "text_chunk"]

FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "error")
_THINKING = ("thinking", "redacted_thinking")


class ToolCall(Value):
    """A function call the model asked for; ``arguments`` is the parsed JSON object."""

    id: str
    name: str
    arguments: Mapping[str, Any]

    def to_message(self) -> dict[str, Any]:
        """The call as an assistant message's ``tool_calls`` item (OpenAI shape: arguments as a JSON string)."""
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": json.dumps(dict(self.arguments), default=str)}}


class Completion(Value):
    """The answer of one call. ``str(completion)`` is its text.

    ``created`` is when the answer was made (timezone-aware, UTC): the provider's own timestamp when its answer
    carries one (OpenAI's ``created``, Ollama's ``created_at``), else the moment pepperpy read it; a cached
    answer keeps the time it was first made. It takes no part in ``==``.

    >>> r = client.complete("Say hi", model="gpt-4o-mini")   # doctest: +SKIP
    >>> r.text, r.finish_reason, r.usage.total_tokens, r.cost, r.created  # doctest: +SKIP
    """

    text: str
    model: str
    provider: str
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    raw: Any = None
    cached: bool = False
    tool_calls: tuple[ToolCall, ...] = ()
    request_id: str | None = None
    parsed: Any = None  # the validated value when the call had a response_format
    steps: tuple[ToolStep, ...] = ()  # the tool calls client.run made on the way to this answer
    created: datetime.datetime | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return self.text

    @property
    def message(self) -> dict[str, Any]:
        """This answer as the assistant turn of a conversation, ready to append to ``messages``.

        >>> messages.append(r.message)   # then one pepperpy.tool_result(call, value) per r.tool_calls  # doctest: +SKIP
        """
        message: dict[str, Any] = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            message["tool_calls"] = [call.to_message() for call in self.tool_calls]
            blocks = self.raw.get("content") if isinstance(self.raw, Mapping) else None
            if isinstance(blocks, list) and any(isinstance(b, Mapping) and b.get("type") in _THINKING
                                                for b in blocks):
                message["content"] = list(blocks)  # Anthropic: thinking must come back, signed, before tool_use
        elif message["content"] is None:
            message["content"] = ""
        return message

    def __repr__(self) -> str:
        extra = [f"finish_reason={self.finish_reason!r}"]
        if self.tool_calls:
            extra.append(f"tool_calls=[{', '.join(call.name for call in self.tool_calls)}]")
        if self.parsed is not None:
            extra.append(f"parsed={short_value(self.parsed)}")
        if self.steps:
            extra.append(f"steps={len(self.steps)}")
        return result_repr("Completion", f"text={short_text(self.text)}", self, *extra)

    def _repr_markdown_(self) -> str:
        cost = f" · ${self.cost:.6f}" if self.cost is not None else ""
        meta = (f"*{self.provider}/{self.model} · {self.finish_reason} · "
                f"{self.usage.input_tokens}→{self.usage.output_tokens} tokens{cost}"
                f"{' · cached' if self.cached else ''}*")
        return f"{self.text}\n\n{meta}"


@functools.lru_cache(maxsize=64)
def _from_epoch(seconds: float) -> datetime.datetime:
    """A provider's epoch timestamp as a datetime: answers made in the same second share one (datetimes are
    immutable), as calls in flight together mostly are."""
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def created_at(value: Any = None) -> datetime.datetime:
    """When an answer was made: ``value`` as a provider gives it (seconds since the epoch, or an ISO 8601 text
    such as Ollama's ``2024-05-01T10:00:00.123456789Z``), else now; always timezone-aware, in UTC."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 32503680000:
        return _from_epoch(value)
    if isinstance(value, str) and value:
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        head, dot, rest = text.partition(".")
        if dot:  # Python before 3.11 reads at most 6 digits of a second's fraction
            digits = len(rest) - len(rest.lstrip("0123456789"))
            text = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is not None:
            return moment.replace(tzinfo=datetime.timezone.utc) if moment.tzinfo is None else \
                moment.astimezone(datetime.timezone.utc)
    return datetime.datetime.now(datetime.timezone.utc)


def combine_usage(answers: Sequence[Completion]) -> tuple[Usage, float | None]:
    """The usage and cost of several requests made for one answer (a tool loop, a repair round), added up;
    the cost is None unless every request had one."""
    usage = Usage(sum(a.usage.input_tokens for a in answers), sum(a.usage.output_tokens for a in answers),
                  sum(a.usage.total_tokens for a in answers), sum(a.usage.cached_tokens for a in answers),
                  sum(a.usage.reasoning_tokens for a in answers))
    costs = [a.cost for a in answers]
    return usage, (round(sum(c for c in costs if c is not None), 10) if None not in costs else None)


class Chunk(Value):
    """One piece of a stream: new text, and on the last pieces the finish reason and usage."""

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    cost: float | None = None  # when the provider reports it (OpenRouter)
    raw: Any = None

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        parts = [f"text={short_text(self.text)}"]
        parts += [f"{name}={value!r}" for name, value in (("finish_reason", self.finish_reason), ("usage", self.usage),
                                                          ("cost", self.cost)) if value is not None]
        if self.tool_calls:
            parts.append(f"tool_calls=[{', '.join(call.name for call in self.tool_calls)}]")
        return f"Chunk({', '.join(parts)})"


# the most common Chunk, a piece of text (one per stream event), at half the cost of ``Chunk(...)``: its slots
# filled directly, the other fields at their defaults, instead of through the frozen dataclass's ``__init__``
text_chunk: Callable[[str, Any], Chunk] = builder(Chunk, "text", "raw")
