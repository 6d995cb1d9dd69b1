"""The answers of the other calls: Embeddings (``embed``), TokenCount (``count_tokens``) and ToolStep (one tool
call of ``client.run``). Apart from the chat answers (``_answer``), so a chat call never makes these classes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._usage import Usage, plural, result_repr, short_text, short_value
from ._value import Value, field

__all__ = ["Embeddings", "TokenCount", "ToolStep"]


class ToolStep(Value):
    """One tool call made by ``client.run``: what the model asked for and what the function gave back.

    ``error`` is the text the model was sent instead of a result (the tool raised, or its arguments failed
    the tool's schema); ``result`` is then None. ``seconds`` is the time the function ran.
    """

    name: str
    arguments: Mapping[str, Any]
    result: Any = None
    error: str | None = None
    seconds: float = 0.0
    id: str = ""

    def __repr__(self) -> str:
        outcome = f"error={short_text(self.error)}" if self.error is not None else f"result={short_value(self.result)}"
        return f"ToolStep({self.name!r}, arguments={short_value(dict(self.arguments))}, {outcome}, " \
               f"seconds={self.seconds:.3f})"


class TokenCount(Value):
    """The size of a prompt in tokens: ``exact`` when the provider counted it, else pepperpy's estimate.

    >>> client.count_tokens("Hello there", model="claude-haiku")   # doctest: +SKIP
    TokenCount(tokens=10, exact=True)
    """

    tokens: int
    exact: bool

    def __int__(self) -> int:
        return self.tokens


class Embeddings(Value):
    """Vectors in input order, with usage and cost."""

    vectors: list[list[float]]
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    raw: Any = None
    cached: bool = False
    request_id: str | None = None

    def __len__(self) -> int:
        return len(self.vectors)

    def __iter__(self) -> Iterator[list[float]]:
        return iter(self.vectors)

    def __getitem__(self, index: int) -> list[float]:
        return self.vectors[index]

    def _repr_markdown_(self) -> str:
        dims = len(self.vectors[0]) if self.vectors else 0
        return f"*{plural(len(self.vectors), 'vector')} × {dims} dims from {self.provider}/{self.model}*"

    def __repr__(self) -> str:
        dims = len(self.vectors[0]) if self.vectors else 0
        return result_repr("Embeddings", f"{plural(len(self.vectors), 'vector')} × {dims} dims", self)
