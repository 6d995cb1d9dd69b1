"""Gemini Developer API (``/v1beta/models/{model}:method``), as the fake server renders it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pepperpy.testing._sample import ANY_OBJECT
from pepperpy.testing._script import DEFAULT_EMBEDDING_DIMENSIONS, embedding_vector
from pepperpy.testing._wire import (
    Answer,
    BadRequestError,
    Chat,
    Dialect,
    Stream,
    dumps,
    sse,
    text_of,
    words_in,
    words_of,
)

# status -> (status name, message); {model} is filled in.
_ERRORS: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials."),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: (
        "NOT_FOUND",
        "models/{model} is not found for API version v1beta, or is not supported for generateContent. "
        "Call ListModels to see the list of available models and their supported methods.",
    ),
    409: ("ABORTED", "The operation was aborted."),
    429: ("RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details."),
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    ),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "The request timed out. Please try again."),
}

RETRY_INFO = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}
MISSING_KEY_MESSAGE = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
INVALID_KEY_DETAILS = [
    {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }
]

_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP", "content_filter": "SAFETY"}


class GeminiDialect(Dialect):
    """generateContent, streamGenerateContent (``alt=sse`` or a JSON array), embeddings, models."""

    name = "gemini"

    def parse_chat(self, body: Mapping[str, Any], model: str, stream: bool) -> Chat:
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise BadRequestError("* GenerateContentRequest.contents: contents is not specified")
        user = [c for c in contents if isinstance(c, Mapping) and c.get("role", "user") == "user"]
        return Chat(
            model=model,
            prompt=text_of(user[-1]) if user else "",
            input_words=words_of([body.get("systemInstruction"), *contents]),
            stream=stream,
            schema=_schema(body.get("generationConfig")),
        )

    def render_count(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``models/{m}:countTokens`` with ``contents``, or a whole ``generateContentRequest`` (model required)."""
        request = body.get("generateContentRequest")
        if isinstance(request, Mapping):
            if not request.get("model"):
                raise BadRequestError("* CountTokensRequest.generate_content_request.model: model is required")
        else:
            request = body
        contents = request.get("contents")
        if not isinstance(contents, list) or not contents:
            raise BadRequestError("* CountTokensRequest.contents: contents is not specified")
        words = words_of([request.get("systemInstruction"), *contents]) + words_in(request.get("tools"))
        return {"totalTokens": words}

    def render_chat(self, chat: Chat, answer: Answer) -> dict[str, Any]:
        parts: list[dict[str, Any]] = [{"text": answer.text}] if answer.text or not answer.tool_calls else []
        parts.extend(_call_part(call.name, call.arguments) for call in answer.tool_calls)
        candidate = {"content": {"role": "model", "parts": parts}, "finishReason": _finish(answer), "index": 0}
        return _response(chat, answer, candidate, _usage(answer.input_tokens, answer.output_tokens))

    def render_stream(self, chat: Chat, answer: Answer) -> Stream:
        prompt_usage = {"promptTokenCount": answer.input_tokens, "totalTokenCount": answer.input_tokens}
        events: list[dict[str, Any]] = []
        for piece in answer.chunks:
            candidate = {"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}
            events.append(_response(chat, answer, candidate, prompt_usage))
        for call in answer.tool_calls:
            candidate = {"content": {"role": "model", "parts": [_call_part(call.name, call.arguments)]}, "index": 0}
            events.append(_response(chat, answer, candidate, prompt_usage))
        last = {"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": _finish(answer), "index": 0}
        final = _response(chat, answer, last, _usage(answer.input_tokens, answer.output_tokens))
        if chat.sse:
            return Stream(
                "text/event-stream",
                (),
                tuple(sse(event, end="\r\n\r\n") for event in events),
                (sse(final, end="\r\n\r\n"),),
            )
        # Without alt=sse Gemini streams one pretty JSON array, element by element.
        frames = [(",\r\n" if i else "[") + dumps(e) for i, e in enumerate([*events, final])]
        return Stream(
            "application/json; charset=UTF-8",
            (),
            tuple(frame.encode() for frame in frames[:-1]),
            (frames[-1].encode(), b"]"),
        )

    def stream_error(self, message: str | None) -> bytes:
        return sse({"error": {"code": 500, "message": message or "Error", "status": "INTERNAL"}}, end="\r\n\r\n")

    def error_body(self, status: int, message: str | None, model: str, request_id: str) -> Any:
        name, template = _ERRORS.get(
            status, ("INTERNAL" if status >= 500 else "FAILED_PRECONDITION", f"Fake error {status}.")
        )
        details: list[Any] = [RETRY_INFO] if status == 429 else []
        text = message or template.format(model=model or "gemini-fake")
        return {"error": {"code": status, "message": text, "status": name, "details": details}}

    def render_embeddings(self, body: Mapping[str, Any], model: str, batch: bool) -> dict[str, Any]:
        if not batch:
            return {"embedding": _embed_one(body)}
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            raise BadRequestError("* BatchEmbedContentsRequest.requests: requests is not specified")
        return {"embeddings": [_embed_one(item) for item in requests if isinstance(item, Mapping)]}

def _schema(config: Any) -> Any:
    """The schema of a JSON answer: ``responseJsonSchema`` (or the older ``responseSchema``), else any object."""
    if not isinstance(config, Mapping) or config.get("responseMimeType") != "application/json":
        return None
    return config.get("responseJsonSchema") or config.get("responseSchema") or ANY_OBJECT


def _embed_one(body: Mapping[str, Any]) -> dict[str, Any]:
    content = body.get("content")
    if not isinstance(content, Mapping):
        raise BadRequestError("* EmbedContentRequest.content: content is not specified")
    dimensions = int(body.get("outputDimensionality") or DEFAULT_EMBEDDING_DIMENSIONS)
    return {"values": embedding_vector(text_of(content), dimensions)}


def _call_part(name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {"functionCall": {"name": name, "args": dict(arguments)}}


def _response(chat: Chat, answer: Answer, candidate: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": chat.model,
        "responseId": f"fake{answer.serial:06d}",
    }


def _usage(prompt: int, output: int) -> dict[str, int]:
    return {"promptTokenCount": prompt, "candidatesTokenCount": output, "totalTokenCount": prompt + output}


def _finish(answer: Answer) -> str:
    return _FINISH.get(answer.finish, answer.finish)


GEMINI = GeminiDialect()
