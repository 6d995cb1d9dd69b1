"""The Anthropic Messages wire format: ``POST /v1/messages`` with named SSE stream events.

Callers speak OpenAI-shaped messages and tools; this module converts them: system and developer turns
become the top-level ``system``, assistant ``tool_calls`` become ``tool_use`` blocks, ``role: tool`` turns
become ``tool_result`` blocks in a user turn, and OpenAI ``tools`` / ``tool_choice`` get Anthropic's shape.
Anthropic has no embeddings API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import errors
from ..transport import Request
from ..types import Chunk, Completion, ModelSpec, ProviderSpec, ToolCall, Usage
from .base import (
    Dialect,
    Message,
    StreamParser,
    completion,
    decode_json,
    normalize_finish,
    parse_arguments,
    raise_error_event,
)

if TYPE_CHECKING:
    from ..config import Settings

API_VERSION = "2023-06-01"   # sent when the catalog's headers do not pin one
DEFAULT_MAX_TOKENS = 4096    # Anthropic requires max_tokens; used (capped by the model) when the call omits it
MESSAGES_PATH = "/v1/messages"
_SYSTEM_ROLES = ("system", "developer")
_TOOL_CHOICE = {"auto": {"type": "auto"}, "required": {"type": "any"}, "any": {"type": "any"},
                "none": {"type": "none"}}


def parse_usage(raw: Mapping[str, Any] | None, base: Usage | None = None) -> Usage:
    """Anthropic usage; cache writes and reads count as input, reads also as ``cached_tokens``.

    ``base`` holds what an earlier stream event said, for fields a later event leaves out.
    """
    raw = raw or {}
    if base is not None and "input_tokens" not in raw:
        input_tokens, cached = base.input_tokens, base.cached_tokens
    else:
        cached = raw.get("cache_read_input_tokens") or 0
        input_tokens = (raw.get("input_tokens") or 0) + (raw.get("cache_creation_input_tokens") or 0) + cached
    output = raw.get("output_tokens")
    return Usage(input_tokens, output if output is not None else (base.output_tokens if base else 0),
                 cached_tokens=cached)


def convert_tools(tools: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """OpenAI ``{type: function, function: {...}}`` tools as Anthropic tools; Anthropic-shaped ones pass."""
    result: list[Mapping[str, Any]] = []
    for tool in tools:
        function = tool.get("function")
        if tool.get("type") == "function" and isinstance(function, Mapping):
            converted = {"name": function.get("name", ""),
                         "input_schema": function.get("parameters") or {"type": "object", "properties": {}}}
            if function.get("description"):
                converted["description"] = function["description"]
            result.append(converted)
        else:
            result.append(tool)
    return result


def convert_tool_choice(choice: Any) -> Any:
    """OpenAI ``tool_choice`` ("auto", "required", "none", or a named function) in Anthropic's shape."""
    if isinstance(choice, str):
        return _TOOL_CHOICE.get(choice, {"type": choice})
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        return {"type": "tool", "name": (choice.get("function") or {}).get("name", "")}
    return choice


def _content_blocks(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return [_block(part) for part in content or ()]


def _block(part: Any) -> Any:
    """One OpenAI content part as an Anthropic block (images by data URL or http URL)."""
    if not isinstance(part, Mapping) or part.get("type") != "image_url":
        return part
    url = str((part.get("image_url") or {}).get("url", ""))
    if url.startswith("data:") and ";base64," in url:
        media_type, _, data = url[5:].partition(";base64,")
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    return {"type": "image", "source": {"type": "url", "url": url}}


def convert_messages(messages: Sequence[Message]) -> tuple[Any, list[Message]]:
    """(system, messages) for the body: system text is top-level; tool turns become tool_result blocks."""
    system: list[Any] = []
    turns: list[Message] = []
    results: list[Any] | None = None  # the tool_result blocks of the user turn being built
    for message in messages:
        role, content = message["role"], message.get("content")
        if role == "tool":
            result = {"type": "tool_result", "tool_use_id": message.get("tool_call_id", ""),
                      "content": content if content is not None else ""}
            if message.get("is_error"):
                result["is_error"] = True
            # One user turn carries all the results of one assistant turn (parallel tool calls).
            if results is None:
                results = []
                turns.append({"role": "user", "content": results})
            results.append(result)
            continue
        results = None
        if role in _SYSTEM_ROLES:
            system.extend(_content_blocks(content))
        elif role == "assistant" and message.get("tool_calls"):
            blocks = _content_blocks(content)
            blocks.extend({"type": "tool_use", "id": call.get("id", ""),
                           "name": (call.get("function") or {}).get("name", ""),
                           "input": dict(parse_arguments((call.get("function") or {}).get("arguments")))}
                          for call in message["tool_calls"])
            turns.append({"role": "assistant", "content": blocks})
        else:
            turns.append({"role": role, "content": content if isinstance(content, str) else _content_blocks(content)})
    # Plain text blocks join into one string; blocks with extras (cache_control) are kept as blocks.
    if all(isinstance(b, Mapping) and set(b) == {"type", "text"} and b["type"] == "text" for b in system):
        return "\n\n".join(b["text"] for b in system) or None, turns
    return system, turns


class AnthropicStreamParser(StreamParser):
    """Named events: message_start (input usage), content_block_* (text, tool input), message_delta
    (stop_reason, cumulative output usage), message_stop (the terminator), ping, error."""

    __slots__ = ("_tools", "_usage", "done", "model")

    def __init__(self, model: ModelSpec) -> None:
        self.done = False
        self.model = model
        self._usage = Usage()
        self._tools: dict[int, dict[str, Any]] = {}

    def feed(self, event: str, data: bytes) -> Chunk | None:
        obj = decode_json(data)
        if not isinstance(obj, dict):
            raise ValueError(f"expected a JSON object, got {type(obj).__name__}")  # the client's StreamError
        kind = event if event != "message" else str(obj.get("type", ""))  # servers that omit `event:` lines
        if kind == "error":
            raise_error_event(obj, self.model)
        if kind == "message_start":
            self._usage = parse_usage((obj.get("message") or {}).get("usage"))
        elif kind == "content_block_start":
            block = obj.get("content_block") or {}
            if block.get("type") == "tool_use":
                self._tools[obj.get("index", 0)] = {"id": block.get("id", ""), "name": block.get("name", ""),
                                                    "json": ""}
            elif block.get("type") == "text" and block.get("text"):
                return Chunk(block["text"], raw=obj)
        elif kind == "content_block_delta":
            delta = obj.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                return Chunk(delta["text"], raw=obj)
            if delta.get("type") == "input_json_delta" and obj.get("index", 0) in self._tools:
                self._tools[obj.get("index", 0)]["json"] += delta.get("partial_json") or ""
            # thinking_delta and signature_delta carry reasoning, not answer text
        elif kind == "message_delta":
            self._usage = parse_usage(obj.get("usage"), self._usage)
            tools = tuple(ToolCall(t["id"], t["name"], parse_arguments(t["json"]))
                          for _, t in sorted(self._tools.items()))
            return Chunk("", normalize_finish((obj.get("delta") or {}).get("stop_reason")), self._usage, tools,
                         raw=obj)
        elif kind == "message_stop":
            self.done = True
        return None


class AnthropicDialect(Dialect):
    """Claude's Messages API. The key goes in ``x-api-key``; ``anthropic-version`` is always sent."""

    name = "anthropic"
    supports_embeddings = False

    def headers(self, provider: ProviderSpec, key: str | None, settings: Settings) -> dict[str, str]:
        headers = dict(provider.headers)
        if not any(name.lower() == "anthropic-version" for name in headers):
            headers["anthropic-version"] = API_VERSION
        if key:
            headers["x-api-key"] = key
        return headers

    def build_chat(self, provider: ProviderSpec, model: ModelSpec, messages: Sequence[Message],
                   params: Mapping[str, Any], *, stream: bool) -> Request:
        system, turns = convert_messages(messages)
        body: dict[str, Any] = {"model": model.wire_name, "messages": turns}
        if system:
            body["system"] = system
        body["max_tokens"] = params.get("max_tokens") or min(DEFAULT_MAX_TOKENS,
                                                             model.max_output_tokens or DEFAULT_MAX_TOKENS)
        for key, value in params.items():
            if key == "max_tokens":
                continue
            if key == "stop":
                body["stop_sequences"] = [value] if isinstance(value, str) else list(value)
            elif key == "tools":
                body["tools"] = convert_tools(value)
            elif key == "tool_choice":
                body["tool_choice"] = convert_tool_choice(value)
            else:
                body[key] = value
        if stream:
            body["stream"] = True
        return Request("POST", MESSAGES_PATH, json=body, stream=stream)

    def parse_chat(self, payload: Any, model: ModelSpec) -> Completion:
        if payload.get("type") == "error" or payload.get("error"):
            raise_error_event(payload, model)
        blocks = [b for b in payload.get("content") or () if isinstance(b, Mapping)]
        text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
        tools = tuple(ToolCall(b.get("id", ""), b.get("name", ""), parse_arguments(b.get("input")))
                      for b in blocks if b.get("type") == "tool_use")
        return completion(model, text, payload.get("stop_reason"), parse_usage(payload.get("usage")), payload,
                          tool_calls=tools, request_id=payload.get("id"))

    def stream_parser(self, model: ModelSpec) -> StreamParser:
        return AnthropicStreamParser(model)

    def build_embed(self, provider: ProviderSpec, model: ModelSpec, texts: Sequence[str],
                    params: Mapping[str, Any]) -> Request:
        raise errors.InvalidRequestError(
            f"Anthropic has no embeddings API ({provider.name!r} speaks the anthropic dialect); use an "
            f"embedding model of another provider, e.g. 'text-embedding-3-small' (openai) or "
            f"'gemini-embedding-001' (gemini)", provider=provider.name, model=model.id)


DIALECT = AnthropicDialect()
