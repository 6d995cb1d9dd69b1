"""Ollama native API (``/api/chat``, ``/api/embed``, ``/api/tags``), as the fake server renders it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pepperpy.testing._sample import ANY_OBJECT
from pepperpy.testing._script import DEFAULT_EMBEDDING_DIMENSIONS, count_words, embedding_vector
from pepperpy.testing._wire import Answer, BadRequestError, Chat, Dialect, Stream, dumps, reason, text_of, words_of

_FINISH = {"stop": "stop", "length": "length", "tool_calls": "stop", "content_filter": "stop"}
_NANOS_PER_WORD = 20_000_000


class OllamaDialect(Dialect):
    """NDJSON streams (on by default), stats in the final ``done`` object."""

    name = "ollama"

    def parse_chat(self, body: Mapping[str, Any], model: str, stream: bool) -> Chat:
        if not body.get("model"):
            raise BadRequestError("model is required")
        messages = body.get("messages") or []
        if not isinstance(messages, list):
            raise BadRequestError("json: cannot unmarshal messages into Go struct field ChatRequest.messages")
        user = [m for m in messages if isinstance(m, Mapping) and m.get("role") == "user"]
        return Chat(
            model=str(body["model"]),
            prompt=text_of(user[-1].get("content")) if user else "",
            input_words=words_of([m.get("content") for m in messages if isinstance(m, Mapping)]),
            stream=bool(body.get("stream", True)),
            schema=body["format"] if isinstance(body.get("format"), Mapping) else
            ANY_OBJECT if body.get("format") == "json" else None,
        )

    def render_chat(self, chat: Chat, answer: Answer) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": answer.text}
        if answer.tool_calls:
            message["tool_calls"] = _tool_calls(answer)
        return {**_head(chat, answer), "message": message, **_stats(answer)}

    def render_stream(self, chat: Chat, answer: Answer) -> Stream:
        content = [
            _line({**_head(chat, answer), "message": {"role": "assistant", "content": piece}, "done": False})
            for piece in answer.chunks
        ]
        if answer.tool_calls:
            message = {"role": "assistant", "content": "", "tool_calls": _tool_calls(answer)}
            content.append(_line({**_head(chat, answer), "message": message, "done": False}))
        final = {**_head(chat, answer), "message": {"role": "assistant", "content": ""}, **_stats(answer)}
        return Stream("application/x-ndjson", (), tuple(content), (_line(final),))

    def stream_error(self, message: str | None) -> bytes:
        return _line({"error": message or "an error was encountered while running the model: unexpected EOF"})

    def error_body(self, status: int, message: str | None, model: str, request_id: str) -> Any:
        if message is None and status == 404:
            message = f'model "{model or "fake"}" not found, try pulling it first'
        return {"error": message or reason(status).lower()}

    def render_embeddings(self, body: Mapping[str, Any], model: str, batch: bool) -> dict[str, Any]:
        if not body.get("model"):
            raise BadRequestError("model is required")
        raw = body.get("input", "")
        texts = [raw] if isinstance(raw, str) else [str(item) for item in raw] if isinstance(raw, list) else []
        dimensions = int(body.get("dimensions") or DEFAULT_EMBEDDING_DIMENSIONS)
        words = sum(count_words(text) for text in texts)
        return {
            "model": str(body["model"]),
            "embeddings": [embedding_vector(text, dimensions) for text in texts],
            "total_duration": words * _NANOS_PER_WORD,
            "load_duration": 1_000_000,
            "prompt_eval_count": words,
        }

def _head(chat: Chat, answer: Answer) -> dict[str, Any]:
    return {"model": chat.model, "created_at": _timestamp(answer.created)}


def _stats(answer: Answer) -> dict[str, Any]:
    return {
        "done": True,
        "done_reason": _FINISH.get(answer.finish, answer.finish),
        "total_duration": (answer.input_tokens + answer.output_tokens) * _NANOS_PER_WORD + 1_000_000,
        "load_duration": 1_000_000,
        "prompt_eval_count": answer.input_tokens,
        "prompt_eval_duration": answer.input_tokens * _NANOS_PER_WORD,
        "eval_count": answer.output_tokens,
        "eval_duration": answer.output_tokens * _NANOS_PER_WORD,
    }


def _tool_calls(answer: Answer) -> list[dict[str, Any]]:
    return [{"function": {"name": c.name, "arguments": dict(c.arguments)}} for c in answer.tool_calls]


def _line(value: Any) -> bytes:
    return (dumps(value) + "\n").encode()


def _timestamp(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(seconds))


OLLAMA = OllamaDialect()
