"""Anthropic messages API, as the fake server renders it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pepperpy.testing._wire import (
    Answer,
    BadRequestError,
    Chat,
    Dialect,
    Stream,
    dumps,
    halves,
    require,
    sse,
    text_of,
    words_in,
    words_of,
)

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "prompt is too long: 205000 tokens > 200000 maximum"),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "model: {model}"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}

_FINISH = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


def _structured(body: Mapping[str, Any]) -> dict[str, Any]:
    """The answer's schema: ``output_config.format``, or the input schema of a tool ``tool_choice`` forces."""
    choice = body.get("tool_choice")
    if isinstance(choice, Mapping) and choice.get("type") == "tool":
        tool = next((t for t in body.get("tools") or () if isinstance(t, Mapping) and t.get("name") == choice.get(
            "name")), None)
        if tool is None:
            raise BadRequestError(f"tool_choice: tool {choice.get('name')!r} is not in tools")
        return {"answer_tool": str(tool["name"]), "schema": tool.get("input_schema")}
    output = (body.get("output_config") or {}).get("format") if isinstance(body.get("output_config"), Mapping) else None
    return {"schema": output.get("schema")} if isinstance(output, Mapping) else {}


class AnthropicDialect(Dialect):
    """``POST /v1/messages`` with named stream events."""

    name = "anthropic"
    tool_call_prefix = "toolu_fake"

    def parse_chat(self, body: Mapping[str, Any], model: str, stream: bool) -> Chat:
        require(body, "model", "max_tokens", "messages", template="{}: Field required")
        messages = body["messages"]
        if not isinstance(messages, list):
            raise BadRequestError("messages: Input should be a valid list")
        user = [m for m in messages if isinstance(m, Mapping) and m.get("role") == "user"]
        contents = [body.get("system"), *(m.get("content") for m in messages if isinstance(m, Mapping))]
        return Chat(
            model=str(body["model"]),
            prompt=text_of(user[-1].get("content")) if user else "",
            input_words=words_of(contents),
            stream=bool(body.get("stream")),
            **_structured(body),
        )

    def render_count(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/messages/count_tokens``: system, messages and tools; no max_tokens."""
        require(body, "model", "messages", template="{}: Field required")
        messages = [m for m in body["messages"] if isinstance(m, Mapping)] if isinstance(body["messages"], list) else []
        contents = [body.get("system"), *(m.get("content") for m in messages)]
        return {"input_tokens": words_of(contents) + words_in(body.get("tools"))}

    def render_chat(self, chat: Chat, answer: Answer) -> dict[str, Any]:
        blocks: list[dict[str, Any]] = []
        if answer.text or not answer.tool_calls:
            blocks.append({"type": "text", "text": answer.text})
        blocks.extend(
            {"type": "tool_use", "id": c.id, "name": c.name, "input": dict(c.arguments)} for c in answer.tool_calls
        )
        return {
            **_message(chat, answer),
            "content": blocks,
            "stop_reason": _finish(answer),
            "usage": _usage(answer.input_tokens, answer.output_tokens),
        }

    def render_stream(self, chat: Chat, answer: Answer) -> Stream:
        start = {**_message(chat, answer), "content": [], "stop_reason": None, "usage": _usage(answer.input_tokens, 1)}
        opening = [sse({"type": "message_start", "message": start}, "message_start")]
        content: list[bytes] = []
        index = 0
        if answer.text or not answer.tool_calls:
            opening.append(_block_start(index, {"type": "text", "text": ""}))
            opening.append(b'event: ping\ndata: {"type": "ping"}\n\n')
            content.extend(_delta(index, {"type": "text_delta", "text": piece}) for piece in answer.chunks)
            content.append(_block_stop(index))
            index += 1
        for call in answer.tool_calls:
            content.append(_block_start(index, {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}))
            pieces = halves(dumps(call.arguments))
            content.extend(_delta(index, {"type": "input_json_delta", "partial_json": p}) for p in pieces)
            content.append(_block_stop(index))
            index += 1
        delta = {"stop_reason": _finish(answer), "stop_sequence": None}
        closing = (
            sse(
                {"type": "message_delta", "delta": delta, "usage": {"output_tokens": answer.output_tokens}},
                "message_delta",
            ),
            sse({"type": "message_stop"}, "message_stop"),
        )
        return Stream("text/event-stream; charset=utf-8", tuple(opening), tuple(content), closing)

    def stream_error(self, message: str | None) -> bytes:
        error = {"type": "error", "error": {"type": "overloaded_error", "message": message or "Overloaded"}}
        # The verbatim sample has spaces after the separators, unlike the other events.
        return f"event: error\ndata: {json.dumps(error)}\n\n".encode()

    def error_body(self, status: int, message: str | None, model: str, request_id: str) -> Any:
        kind, template = _ERRORS.get(
            status, ("api_error" if status >= 500 else "invalid_request_error", f"Fake error {status}")
        )
        text = message or template.format(model=model or "claude-fake")
        return {"type": "error", "error": {"type": kind, "message": text}, "request_id": request_id}

def _message(chat: Chat, answer: Answer) -> dict[str, Any]:
    return {
        "id": f"msg_fake{answer.serial:06d}",
        "type": "message",
        "role": "assistant",
        "model": chat.model,
        "stop_sequence": None,
    }


def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def _block_start(index: int, block: dict[str, Any]) -> bytes:
    return sse({"type": "content_block_start", "index": index, "content_block": block}, "content_block_start")


def _delta(index: int, delta: dict[str, Any]) -> bytes:
    return sse({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta")


def _block_stop(index: int) -> bytes:
    return sse({"type": "content_block_stop", "index": index}, "content_block_stop")


def _finish(answer: Answer) -> str:
    return _FINISH.get(answer.finish, answer.finish)


ANTHROPIC = AnthropicDialect()
