"""The Ollama native wire format: ``/api/chat`` (NDJSON streams) and ``/api/embed``.

Differences from OpenAI that shape this module:

- ``stream`` defaults to TRUE on the server, so it is always sent explicitly;
- sampling settings live in an ``options`` object (``max_tokens`` is ``num_predict``), while ``format``,
  ``keep_alive``, ``tools`` and ``think`` are top-level; Ollama's options are open-ended, so any other
  unknown param goes into ``options`` too;
- messages carry plain-string ``content`` with base64 ``images`` beside it, and tool-call ``arguments``
  are objects, not JSON strings;
- a stream is one JSON object per line; the line with ``done: true`` carries usage and ``done_reason``, and a
  failure after the 200 arrives as a last ``{"error": "..."}`` line.

No key is needed locally; when one is configured (Ollama behind a proxy, or ollama.com) it is sent as a
Bearer token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import errors
from ..http.transport import Request
from ..types import Chunk, Completion, ModelSpec, ProviderSpec, ToolCall, Usage
from .base import (
    COMMON_PARAMS,
    Dialect,
    Lookup,
    Message,
    StreamParser,
    completion,
    decode_json,
    normalize_finish,
    parse_arguments,
    raise_error_event,
    tool_call_names,
)

if TYPE_CHECKING:
    from ..types import Embeddings

__all__ = ["DIALECT", "OllamaDialect", "OllamaStreamParser", "parse_usage", "to_ollama_message"]

# pepperpy param -> key inside Ollama's "options"
_OPTION_NAMES = {"max_tokens": "num_predict"}
# params that are top-level fields of /api/chat, not model options
_TOP_LEVEL = frozenset({"format", "keep_alive", "tools", "think"})


def parse_usage(payload: Mapping[str, Any]) -> Usage:
    """Ollama's counters: ``prompt_eval_count`` in, ``eval_count`` out (absent when the prompt was cached)."""
    return Usage(payload.get("prompt_eval_count") or 0, payload.get("eval_count") or 0)


def _tool_calls(raw: Sequence[Mapping[str, Any]] | None) -> tuple[ToolCall, ...]:
    # Ollama gives no call ids (newer servers may); callers still need one to answer each call.
    calls = []
    for index, call in enumerate(raw or ()):
        function = call.get("function") or {}
        calls.append(ToolCall(id=call.get("id") or f"call_{index}", name=function.get("name", ""),
                              arguments=parse_arguments(function.get("arguments"))))
    return tuple(calls)


def _finish(done_reason: Any, tools: tuple[ToolCall, ...]) -> Any:
    # Ollama reports "stop" even when the turn ends in tool calls; callers branch on "tool_calls".
    return "tool_calls" if tools else done_reason


def to_ollama_message(message: Message, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One OpenAI-shaped message as Ollama takes it: string content, ``images`` beside it, object arguments.

    A tool result gets ``tool_name``: its own, its ``name``, or the name of the call ``tool_call_id`` answers
    (``names``, from ``tool_call_names``).
    """
    role = message.get("role")
    out: dict[str, Any] = {"role": "system" if role == "developer" else role}
    content = message.get("content")
    images = list(message.get("images") or ())
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, Mapping):
                continue
            if part.get("type", "text") == "text":
                texts.append(part.get("text", ""))
            elif part.get("type") == "image_url":
                url = (part.get("image_url") or {}).get("url", "")
                if not url.startswith("data:"):  # Ollama takes base64 bytes only and would answer a vague 400
                    raise errors.ValidationError("Ollama cannot fetch image URLs; pass the image as a "
                                                 "data:image/...;base64 URL", param="messages", value=url[:80])
                images.append(url.split(",", 1)[1])
        content = "".join(texts)
    out["content"] = "" if content is None else content
    if images:
        out["images"] = images
    if message.get("tool_calls"):
        out["tool_calls"] = [_ollama_call(call.get("function") or {}) for call in message["tool_calls"]]
    for key in ("tool_name", "thinking"):
        if message.get(key):
            out[key] = message[key]
    if role == "tool" and "tool_name" not in out:
        name = message.get("name") or (names or {}).get(str(message.get("tool_call_id", "")))
        if name:
            out["tool_name"] = name
    return out


def _ollama_call(function: Mapping[str, Any]) -> dict[str, Any]:
    # an assistant turn replayed from OpenAI shape: its arguments are a JSON string, Ollama wants the object
    arguments = dict(parse_arguments(function.get("arguments")))
    return {"function": {"name": function.get("name", ""), "arguments": arguments}}


def _format(response_format: Any) -> Any:
    """OpenAI's ``response_format`` as Ollama's ``format``: ``"json"``, a JSON schema, or None for text."""
    if not isinstance(response_format, Mapping):
        return response_format
    if response_format.get("type") == "text":
        return None
    if response_format.get("type") == "json_schema":
        return (response_format.get("json_schema") or {}).get("schema", "json")
    return "json"


class OllamaStreamParser(StreamParser):
    """One JSON object per line; ``done: true`` ends the stream, ``{"error": ...}`` breaks it."""

    __slots__ = ("_tools", "done", "model")

    def __init__(self, model: ModelSpec) -> None:
        self.done = False
        self.model = model
        self._tools: list[Mapping[str, Any]] = []

    def feed(self, event: str, data: bytes) -> Chunk | None:
        obj = decode_json(data)
        if obj.get("error"):
            raise_error_event(obj, self.model)
        message = obj.get("message") or {}
        text = message.get("content") or ""
        if message.get("tool_calls"):
            self._tools.extend(message["tool_calls"])  # arrive whole, in a line of their own
        if not obj.get("done"):
            return Chunk(text, raw=obj) if text else None
        self.done = True
        tools = _tool_calls(self._tools)
        return Chunk(text, normalize_finish(_finish(obj.get("done_reason") or "stop", tools)), parse_usage(obj),
                     tools, None, obj)


class OllamaDialect(Dialect):
    name = "ollama"
    params = COMMON_PARAMS | _TOP_LEVEL | {
        "options", "top_k", "num_ctx", "num_predict", "min_p", "repeat_penalty", "repeat_last_n", "mirostat",
        "mirostat_eta", "mirostat_tau", "num_keep", "typical_p", "presence_penalty", "frequency_penalty", "num_gpu",
        "num_thread", "truncate", "shift"}
    embed_params = frozenset({"dimensions", "truncate", "keep_alive", "options"})
    stream_format = "ndjson"

    def headers(self, provider: ProviderSpec, key: str | None, lookup: Lookup) -> dict[str, str]:
        headers = dict(provider.headers)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def build_chat(self, provider: ProviderSpec, model: ModelSpec, messages: Sequence[Message],
                   params: Mapping[str, Any], *, stream: bool) -> Request:
        options: dict[str, Any] = {}
        names = tool_call_names(messages)
        body: dict[str, Any] = {"model": model.wire_name, "messages": [to_ollama_message(m, names) for m in messages],
                                "stream": stream}  # explicit: the server streams unless told not to
        for key, value in params.items():
            if key in _TOP_LEVEL:
                body[key] = value
            elif key == "response_format":
                if (fmt := _format(value)) is not None:  # None: plain text, Ollama's default
                    body["format"] = fmt
            elif key == "options" and isinstance(value, Mapping):
                options.update(value)
            else:
                options[_OPTION_NAMES.get(key, key)] = value
        if options:
            body["options"] = options
        return Request("POST", "/api/chat", json=body, stream=stream)

    def parse_chat(self, payload: Any, model: ModelSpec) -> Completion:
        if payload.get("error"):
            raise_error_event(payload, model)
        message = payload.get("message") or {}
        tools = _tool_calls(message.get("tool_calls"))
        reason = payload.get("done_reason") or ("stop" if payload.get("done") else None)
        return completion(model, message.get("content") or "", _finish(reason, tools),
                          parse_usage(payload), payload, tool_calls=tools, created=payload.get("created_at"))

    def stream_parser(self, model: ModelSpec) -> StreamParser:
        return OllamaStreamParser(model)

    def build_embed(self, provider: ProviderSpec, model: ModelSpec, texts: Sequence[str],
                    params: Mapping[str, Any]) -> Request:
        # /api/embed takes truncate, dimensions, keep_alive and options top-level
        return Request("POST", "/api/embed", json={"model": model.wire_name, "input": list(texts), **params})

    def parse_embed(self, payload: Any, model: ModelSpec) -> Embeddings:
        from ..types import Embeddings

        if payload.get("error"):
            raise_error_event(payload, model)
        usage = Usage(payload.get("prompt_eval_count") or 0, 0)
        return Embeddings(vectors=list(payload.get("embeddings") or []), model=model.id, provider=model.provider,
                          usage=usage, raw=payload)

    def build_list_models(self, provider: ProviderSpec, cursor: str | None) -> Request | None:
        return Request("GET", "/api/tags")  # the pulled models, one page

    def parse_list_models(self, payload: Any) -> tuple[list[dict[str, Any]], str | None]:
        from . import _listing

        return _listing.ollama_tags(payload), None

    def build_model_details(self, provider: ProviderSpec, entry: Mapping[str, Any]) -> Request | None:
        from . import _listing

        return _listing.ollama_show_request(entry)

    def parse_model_details(self, payload: Any, entry: Mapping[str, Any]) -> dict[str, Any]:
        from . import _listing

        return _listing.ollama_show(payload, entry)


DIALECT = OllamaDialect()
