"""OpenAI chat completions, embeddings and models, as the fake server renders them."""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping
from typing import Any

from pepperpy.testing._sample import ANY_OBJECT
from pepperpy.testing._script import DEFAULT_EMBEDDING_DIMENSIONS, count_words, embedding_vector
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

MISSING_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank "
    "username) if you're accessing the API from your browser and are prompted for a username. You "
    "can obtain an API key from https://platform.openai.com/account/api-keys."
)

# status -> (type, code, message); {model} is filled in.
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request: the fake server was told to reject it."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided: sk-fake. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    403: ("request_forbidden", "unsupported_country_region_territory", "Country, region, or territory not supported"),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for {model} in organization org-fake on requests per min (RPM): "
        "Limit 3, Used 3, Requested 1. Please try again in 20s.",
    ),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}

_FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_calls", "content_filter": "content_filter"}


class OpenAIDialect(Dialect):
    """``/chat/completions``, ``/embeddings``, ``/models`` under any base URL."""

    name = "openai"

    def parse_chat(self, body: Mapping[str, Any], model: str, stream: bool) -> Chat:
        require(body, "model", "messages", template="Missing required parameter: '{}'.")
        messages = body["messages"]
        if not isinstance(messages, list):
            raise BadRequestError("Invalid type for 'messages': expected an array.")
        user = [m for m in messages if isinstance(m, Mapping) and m.get("role") == "user"]
        options = body.get("stream_options")
        return Chat(
            model=str(body["model"]),
            prompt=text_of(user[-1].get("content")) if user else "",
            input_words=words_of([m.get("content") for m in messages if isinstance(m, Mapping)]),
            stream=bool(body.get("stream")),
            include_usage=isinstance(options, Mapping) and bool(options.get("include_usage")),
            schema=_schema(body.get("response_format")),
        )

    def render_count(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """OpenAI's ``/responses/input_tokens``, and llama.cpp's ``/apply-template`` and ``/tokenize``."""
        if endpoint == "tokenize":
            return {"tokens": list(range(count_words(str(body.get("content", "")))))}
        if endpoint == "apply_template":
            messages = body.get("messages")
            if not isinstance(messages, list):
                raise BadRequestError("'messages' is required")
            return {"prompt": "\n".join(f"<|{m.get('role')}|>{text_of(m.get('content'))}" for m in messages)}
        items = body.get("input")
        items = [items] if isinstance(items, str) else items if isinstance(items, list) else []
        texts = [body.get("instructions"), *(i if isinstance(i, str) else i.get("content") or i.get("output")
                                             or i.get("arguments") for i in items)]
        return {"object": "response.input_tokens", "input_tokens": words_of(texts) + words_in(body.get("tools"))}

    def render_chat(self, chat: Chat, answer: Answer) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": answer.text if answer.text or not answer.tool_calls else None,
            "refusal": None,
        }
        if answer.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": dumps(c.arguments)}}
                for c in answer.tool_calls
            ]
        return {
            **_envelope(chat, answer, "chat.completion"),
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish(answer)},
            ],
            "usage": _usage(answer),
        }

    def render_stream(self, chat: Chat, answer: Answer) -> Stream:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            event: dict[str, Any] = {
                **_envelope(chat, answer, "chat.completion.chunk"),
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            if chat.include_usage:
                event["usage"] = None
            return sse(event)

        content = [chunk({"content": piece}) for piece in answer.chunks]
        for index, call in enumerate(answer.tool_calls):
            head = {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
            content.append(chunk({"tool_calls": [{"index": index, **head}]}))
            for piece in halves(dumps(call.arguments)):
                content.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
        closing = [chunk({}, _finish(answer))]
        if chat.include_usage:
            closing.append(
                sse({**_envelope(chat, answer, "chat.completion.chunk"), "choices": [], "usage": _usage(answer)})
            )
        closing.append(b"data: [DONE]\n\n")
        return Stream(
            content_type="text/event-stream; charset=utf-8",
            opening=(chunk({"role": "assistant", "content": "", "refusal": None}),),
            content=tuple(content),
            closing=tuple(closing),
        )

    def stream_error(self, message: str | None) -> bytes:
        text = message or "The server had an error while processing your request. Sorry about that!"
        return sse({"error": {"message": text, "type": "server_error", "param": None, "code": "server_error"}})

    def error_body(self, status: int, message: str | None, model: str, request_id: str) -> Any:
        kind, code, template = _ERRORS.get(
            status,
            ("server_error" if status >= 500 else "invalid_request_error", None, f"Fake error {status}."),
        )
        text = message or template.format(model=model or "gpt-fake")
        return {"error": {"message": text, "type": kind, "param": None, "code": code}}

    def render_embeddings(self, body: Mapping[str, Any], model: str, batch: bool) -> dict[str, Any]:
        require(body, "model", "input", template="Missing required parameter: '{}'.")
        texts = _inputs(body["input"])
        dimensions = int(body.get("dimensions") or DEFAULT_EMBEDDING_DIMENSIONS)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = embedding_vector(text, dimensions)
            encoded: Any = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode() if as_base64 else vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(count_words(text) for text in texts)
        return {
            "object": "list",
            "data": data,
            "model": str(body["model"]),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

def _envelope(chat: Chat, answer: Answer, kind: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake{answer.serial:06d}",
        "object": kind,
        "created": answer.created,
        "model": chat.model,
        "system_fingerprint": "fp_fake",
    }


def _usage(answer: Answer) -> dict[str, Any]:
    return {
        "prompt_tokens": answer.input_tokens,
        "completion_tokens": answer.output_tokens,
        "total_tokens": answer.input_tokens + answer.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _finish(answer: Answer) -> str:
    return _FINISH.get(answer.finish, answer.finish)


def _schema(response_format: Any) -> Any:
    """The schema a ``response_format`` asks for (``json_object``: any object; ``text`` or none: None)."""
    if not isinstance(response_format, Mapping):
        return None
    if response_format.get("type") == "json_schema":
        return (response_format.get("json_schema") or {}).get("schema") or {"type": "object"}
    return ANY_OBJECT if response_format.get("type") == "json_object" else None


def _inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise BadRequestError("'input' must be a string or an array of strings.")


OPENAI = OpenAIDialect()
