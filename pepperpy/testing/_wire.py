"""Shared pieces of the fake server's dialect renderers.

A dialect is a set of pure functions: parse a chat request body into a ``Chat``, render an
``Answer`` as a JSON body or as stream frames, render native error bodies. No I/O here; the
request handler does the sending.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from pepperpy.testing._sample import sample
from pepperpy.testing._script import Reply, count_words, split_words


class BadRequestError(Exception):
    """The request body is not acceptable; rendered as the dialect's native 400."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Chat:
    """What the server needs to know about one chat request, whatever its dialect."""

    model: str
    prompt: str
    input_words: int
    stream: bool
    include_usage: bool = False
    sse: bool = True
    conversation_id: str | None = None
    schema: Any = None  # the JSON Schema the request asks the answer to follow (answered by ``sample``)
    answer_tool: str | None = None  # a tool the request forces (Anthropic's structured answer): called, not echoed


@dataclass(frozen=True)
class ToolCall:
    """A tool call of an answer, with an id already chosen for the dialect."""

    id: str
    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class Answer:
    """A resolved reply for one request: scripted or echoed, usage filled in."""

    text: str
    chunks: tuple[str, ...]
    input_tokens: int
    output_tokens: int
    finish: str
    tool_calls: tuple[ToolCall, ...]
    serial: int
    created: int


@dataclass(frozen=True)
class Stream:
    """A stream split where faults may cut it.

    ``content`` frames carry the answer; a fault keeps ``opening`` plus the first few
    ``content`` frames and replaces ``closing`` (finish reason, usage, terminator).
    """

    content_type: str
    opening: tuple[bytes, ...]
    content: tuple[bytes, ...]
    closing: tuple[bytes, ...]


class Dialect:
    """Base of the per-dialect renderers; subclasses override what their API has."""

    name = "generic"
    tool_call_prefix = "call_"

    def parse_chat(self, body: Mapping[str, Any], model: str, stream: bool) -> Chat:
        """Read a chat request body (``model``/``stream`` come from the URL where relevant)."""
        raise BadRequestError(f"{self.name} has no chat endpoint", 404)

    def render_chat(self, chat: Chat, answer: Answer) -> dict[str, Any]:
        """The non-stream JSON body."""
        raise NotImplementedError

    def render_stream(self, chat: Chat, answer: Answer) -> Stream:
        """The stream frames, each sent and flushed on its own."""
        raise NotImplementedError

    def stream_error(self, message: str | None) -> bytes:
        """The frame a provider sends when it fails after HTTP 200."""
        raise NotImplementedError

    def error_body(self, status: int, message: str | None, model: str, request_id: str) -> Any:
        """The provider's native error body for ``status``."""
        return {"error": {"message": message or reason(status), "type": "fake_error", "code": status}}

    def render_embeddings(self, body: Mapping[str, Any], model: str, batch: bool) -> dict[str, Any]:
        """Answer an embeddings request (vectors from ``embedding_vector``)."""
        raise BadRequestError(f"{self.name} has no embeddings endpoint", 404)

    def render_count(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Answer a token-counting request (``endpoint`` names which); the fake tokenizer counts words."""
        raise BadRequestError(f"{self.name} has no token-counting endpoint", 404)

def dumps(value: Any) -> str:
    """Compact JSON, as the providers send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def sse(data: Any, event: str | None = None, end: str = "\n\n") -> bytes:
    """One server-sent event; ``data`` is JSON-encoded unless already a string."""
    text = data if isinstance(data, str) else dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}{end}".encode()


def reason(status: int) -> str:
    """The HTTP reason phrase, e.g. ``Too Many Requests``."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def text_of(content: Any) -> str:
    """The text of a message content: a string, or a list of parts/blocks with ``text``."""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        return text_of(content.get("text") or content.get("content") or content.get("parts"))
    if isinstance(content, list):
        return " ".join(text for text in (text_of(part) for part in content) if text)
    return ""


def words_of(contents: Sequence[Any]) -> int:
    """Word count of several contents."""
    return sum(count_words(text_of(content)) for content in contents)


def words_in(value: Any) -> int:
    """Words in every string of a JSON value (tool definitions, as the counting endpoints count them)."""
    if isinstance(value, str):
        return count_words(value)
    if isinstance(value, Mapping):
        return sum(words_in(item) for item in value.values())
    if isinstance(value, list):
        return sum(words_in(item) for item in value)
    return 0


def require(body: Mapping[str, Any], *names: str, template: str) -> None:
    """Raise BadRequestError naming the first missing field."""
    for name in names:
        if body.get(name) is None:
            raise BadRequestError(template.format(name))


def halves(text: str) -> tuple[str, ...]:
    """Split a JSON argument string in two, as providers stream tool arguments in pieces."""
    middle = len(text) // 2
    return tuple(piece for piece in (text[:middle], text[middle:]) if piece)


def resolve_answer(reply: Reply | None, chat: Chat, dialect: Dialect, serial: int, created: int) -> Answer:
    """Turn a scripted reply, or the echo when nothing is queued, into an Answer."""
    if reply is None and chat.answer_tool is not None:
        call = ToolCall(f"{dialect.tool_call_prefix}{serial}_0", chat.answer_tool, sample(chat.schema, chat.prompt))
        return Answer("", (), chat.input_words, count_words(dumps(call.arguments)), "tool_calls", (call,), serial,
                      created)
    if reply is None:
        text = "echo: " + chat.prompt if chat.schema is None else dumps(sample(chat.schema, "echo: " + chat.prompt))
        return Answer(text, split_words(text), chat.input_words, count_words(text), "stop", (), serial, created)
    calls = tuple(
        ToolCall(
            id=str(call.get("id") or f"{dialect.tool_call_prefix}{serial}_{index}"),
            name=str(call["name"]),
            arguments=dict(call.get("arguments") or {}),
        )
        for index, call in enumerate(reply.tool_calls or ())
    )
    input_tokens, output_tokens = reply.usage or (chat.input_words, count_words(reply.text))
    finish = reply.finish or ("tool_calls" if calls else "stop")
    return Answer(reply.text, tuple(reply.chunks or ()), input_tokens, output_tokens, finish, calls, serial, created)
