"""The Anthropic Messages wire format: ``POST /v1/messages`` with named SSE stream events.

Callers speak OpenAI-shaped messages and tools; this module converts them: system and developer turns
become the top-level ``system``, assistant ``tool_calls`` become ``tool_use`` blocks, ``role: tool`` turns
become ``tool_result`` blocks in a user turn, and OpenAI ``tools`` / ``tool_choice`` get Anthropic's shape.
Anthropic has no embeddings API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .. import errors
from ..http.transport import Request
from ..types import Chunk, Completion, ModelSpec, ProviderSpec, ToolCall, Usage
from ._structured import ANSWER_TOOL, answer_tool, answers_with_tool, anthropic_schema, has_free_form_object
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
)

__all__ = [
    "API_VERSION", "DIALECT", "AnthropicDialect", "AnthropicStreamParser", "convert_messages",
    "convert_response_format", "convert_tool_choice", "convert_tools", "parse_usage",
]

API_VERSION = "2023-06-01"   # sent when the catalog's headers do not pin one
DEFAULT_MAX_TOKENS = 4096    # Anthropic requires max_tokens; used (capped by the model) when the call omits it
MESSAGES_PATH = "/v1/messages"
COUNT_PATH = "/v1/messages/count_tokens"
_COUNTED = ("model", "messages", "system", "tools", "tool_choice", "thinking", "output_config")
_SYSTEM_ROLES = ("system", "developer")
_TOOL_CHOICE = {"auto": {"type": "auto"}, "required": {"type": "any"}, "any": {"type": "any"},
                "none": {"type": "none"}}
# stream: block type -> the field its deltas build; delta type -> the field carrying the fragment
_BLOCK_FIELDS = {"text": "text", "thinking": "thinking", "tool_use": "input", "server_tool_use": "input"}
_DELTA_FIELDS = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}


def parse_usage(raw: Mapping[str, Any] | None) -> Usage:
    """Anthropic usage; cache writes and reads count as input, reads also as ``cached_tokens``; thinking
    (``output_tokens_details.thinking_tokens``, when sent) is output, counted as ``reasoning_tokens`` too."""
    raw = raw or {}
    cached = raw.get("cache_read_input_tokens") or 0
    input_tokens = (raw.get("input_tokens") or 0) + (raw.get("cache_creation_input_tokens") or 0) + cached
    thinking = (raw.get("output_tokens_details") or {}).get("thinking_tokens") or 0
    return Usage(input_tokens, raw.get("output_tokens") or 0, cached_tokens=cached, reasoning_tokens=thinking)


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
    """(system, messages) for the body: system text is top-level; tool turns become tool_result blocks.

    An assistant ``content`` may be a list of Anthropic blocks (``thinking``, ``redacted_thinking``,
    ``tool_use``, ``text``): they pass unchanged, before the blocks made from ``tool_calls`` (a call already
    there as a ``tool_use`` block is not repeated). With extended thinking on, continuing a tool-use turn
    needs its thinking blocks back, signature included: replay ``completion.raw["content"]``, which a
    streamed answer holds too.
    """
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
            replayed = {b.get("id") for b in blocks if isinstance(b, Mapping) and b.get("type") == "tool_use"}
            blocks.extend({"type": "tool_use", "id": call.get("id", ""),
                           "name": (call.get("function") or {}).get("name", ""),
                           "input": dict(parse_arguments((call.get("function") or {}).get("arguments")))}
                          for call in message["tool_calls"] if call.get("id") not in replayed)
            turns.append({"role": "assistant", "content": blocks})
        else:
            turns.append({"role": role, "content": content if isinstance(content, str) else _content_blocks(content)})
    # Plain text blocks join into one string; blocks with extras (cache_control) are kept as blocks.
    if all(isinstance(b, Mapping) and set(b) == {"type", "text"} and b["type"] == "text" for b in system):
        return "\n\n".join(b["text"] for b in system) or None, turns
    return system, turns


def convert_response_format(response_format: Any) -> dict[str, Any] | None:
    """OpenAI ``response_format`` as Anthropic's structured output, ``output_config.format``; None for text.
    Anthropic has no schema-free JSON mode (and wants ``additionalProperties: false`` on every object), so
    ``json_object`` is refused before any request."""
    kind = response_format.get("type") if isinstance(response_format, Mapping) else response_format
    if kind in (None, "text"):
        return None
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or response_format.get("schema")
        if isinstance(schema, Mapping):
            return {"type": "json_schema", "schema": anthropic_schema(schema)}
    raise errors.ValidationError(
        "Anthropic needs a JSON schema for JSON output (it has no schema-free JSON mode): pass response_format="
        "{'type': 'json_schema', 'json_schema': {'name': ..., 'schema': {...}}}, with "
        "'additionalProperties': False on every object", param="response_format", value=response_format)


def _free_form_schema(params: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The schema of a ``response_format`` with free-form objects, when a forced answer tool can carry it: an
    object at the root, and no extended thinking (which refuses a forced tool_choice)."""
    response_format = params.get("response_format")
    schema = (response_format.get("json_schema") or {}).get("schema") if isinstance(response_format, Mapping) else None
    thinking = params.get("thinking")
    if not isinstance(schema, Mapping) or schema.get("type") != "object" or not has_free_form_object(schema):
        return None
    if isinstance(thinking, Mapping) and thinking.get("type", "disabled") != "disabled":
        return None
    return schema


class AnthropicStreamParser(StreamParser):
    """Named events: message_start (input usage), content_block_* (text, thinking, tool input), message_delta
    (stop_reason, cumulative output usage), message_stop (the terminator), ping, error.

    The events are also gathered into the Message a non-stream call returns, as anthropic-sdk-python's
    ``accumulate_event`` does: the last chunk's ``raw`` (so the stream's ``completion.raw``) is that Message,
    its content blocks whole: thinking with its signature, tool_use with its parsed input.
    """

    __slots__ = ("_blocks", "_message", "_parts", "_usage", "done", "model")

    def __init__(self, model: ModelSpec) -> None:
        self.done = False
        self.model = model
        self._message: dict[str, Any] = {"type": "message", "role": "assistant"}
        self._blocks: dict[int, dict[str, Any]] = {}  # content blocks by index, as content_block_start gave them
        self._parts: dict[int, list[str]] = {}  # their text / thinking / input JSON fragments, joined at the end
        self._usage: dict[str, Any] = {}  # raw usage; a later field overrides only when it is not None

    @property
    def reported_usage(self) -> Usage | None:
        """The usage ``message_start`` (and any ``message_delta``) stated: the input is billed from then on."""
        return parse_usage(self._usage) if self._usage else None

    def feed(self, event: str, data: bytes) -> Chunk | None:
        obj = decode_json(data)
        if not isinstance(obj, dict):
            raise ValueError(f"expected a JSON object, got {type(obj).__name__}")  # the client's StreamError
        kind = event if event != "message" else str(obj.get("type", ""))  # servers that omit `event:` lines
        if kind == "content_block_delta":
            delta = obj.get("delta") or {}
            index = obj.get("index", 0)
            delta_type = str(delta.get("type", ""))
            piece = delta.get(_DELTA_FIELDS.get(delta_type, ""))
            if piece and index in self._parts:
                self._parts[index].append(piece)
            if delta_type == "text_delta" and piece:
                return Chunk(piece, raw=obj)  # thinking is reasoning, not answer text
            block = self._blocks.get(index)
            if piece and delta_type == "input_json_delta" and block is not None and block.get("name") == ANSWER_TOOL:
                return Chunk(piece, raw=obj)  # the forced answer tool's input is the structured answer
            if block is not None and delta_type == "signature_delta":
                block["signature"] = delta.get("signature", "")
            elif block is not None and delta_type == "citations_delta":
                block["citations"] = [*(block.get("citations") or ()), delta.get("citation")]
        elif kind == "error":
            raise_error_event(obj, self.model)
        elif kind == "message_start":
            message = obj.get("message") or {}
            self._message = {k: v for k, v in message.items() if k != "content"}
            self._usage = dict(message.get("usage") or {})
        elif kind == "content_block_start":
            index = obj.get("index", 0)
            block = self._blocks[index] = dict(obj.get("content_block") or {})
            field = _BLOCK_FIELDS.get(block.get("type", ""))
            if field is not None:
                self._parts[index] = [block[field]] if isinstance(block.get(field), str) else []
            if block.get("type") == "text" and block.get("text"):
                return Chunk(block["text"], raw=obj)
        elif kind == "message_delta":
            for key, value in (obj.get("usage") or {}).items():
                if value is not None:
                    self._usage[key] = value
            message = self._snapshot(obj.get("delta") or {})
            tools = tuple(ToolCall(b.get("id", ""), b.get("name", ""), dict(b.get("input") or {}))
                          for b in message["content"] if b.get("type") == "tool_use" and b.get("name") != ANSWER_TOOL)
            stop = message.get("stop_reason")
            if stop == "tool_use" and not tools:  # only the answer tool was used: a finished answer
                stop = "end_turn"
            return Chunk("", normalize_finish(stop), parse_usage(self._usage), tools, raw=message)
        elif kind == "message_stop":
            self.done = True
        return None

    def _snapshot(self, delta: Mapping[str, Any]) -> dict[str, Any]:
        """The Message so far, as a non-stream answer would give it."""
        content: list[dict[str, Any]] = []
        for index in sorted(self._blocks):
            block = self._blocks[index]
            field = _BLOCK_FIELDS.get(block.get("type", ""))
            parts = self._parts.get(index)
            if field is not None and parts:
                joined = "".join(parts)
                block[field] = dict(parse_arguments(joined)) if field == "input" else joined
            content.append(block)
        return {**self._message, "content": content, "stop_reason": delta.get("stop_reason"),
                "stop_sequence": delta.get("stop_sequence"), "usage": dict(self._usage)}


class AnthropicDialect(Dialect):
    """Claude's Messages API. The key goes in ``x-api-key``; ``anthropic-version`` is always sent."""

    name = "anthropic"
    params = COMMON_PARAMS | {"top_k", "metadata", "thinking", "service_tier", "output_config", "container",
                              "mcp_servers", "context_management"}
    supports_embeddings = False

    def headers(self, provider: ProviderSpec, key: str | None, lookup: Lookup) -> dict[str, str]:
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
            if key in ("max_tokens", "parallel_tool_calls", "response_format"):
                continue  # set above or below
            if key == "stop":
                body["stop_sequences"] = [value] if isinstance(value, str) else list(value)
            elif key == "tools":
                body["tools"] = convert_tools(value)
            elif key == "tool_choice":
                body["tool_choice"] = convert_tool_choice(value)
            else:
                body[key] = value
        output_format = convert_response_format(params.get("response_format"))
        free_form = _free_form_schema(params) if output_format is not None and "tools" not in body else None
        if output_format is not None and answers_with_tool(provider, model):
            body["tools"] = [*body.get("tools", ()), answer_tool(output_format["schema"])]
            body["tool_choice"] = {"type": "tool", "name": ANSWER_TOOL}
        elif free_form is not None:  # the format would empty its free-form objects; the tool takes them as they are
            body["tools"] = [answer_tool(free_form)]
            body["tool_choice"] = {"type": "tool", "name": ANSWER_TOOL}
        elif output_format is not None:  # merged with an output_config passed as is (effort)
            body["output_config"] = {**(body.get("output_config") or {}), "format": output_format}
        if params.get("parallel_tool_calls") is False and body.get("tools"):
            choice = body.get("tool_choice") or {"type": "auto"}
            if choice.get("type") != "none":  # the one choice without the flag
                body["tool_choice"] = {**choice, "disable_parallel_tool_use": True}
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
        stop = payload.get("stop_reason")
        answer = [call for call in tools if call.name == ANSWER_TOOL]
        if answer:  # a structured answer given through the forced tool: its input is the answer
            text, tools = json.dumps(dict(answer[0].arguments)), tuple(c for c in tools if c.name != ANSWER_TOOL)
            stop = stop if stop != "tool_use" or tools else "end_turn"
        return completion(model, text, stop, parse_usage(payload.get("usage")), payload,
                          tool_calls=tools, request_id=payload.get("id"))

    def stream_parser(self, model: ModelSpec) -> StreamParser:
        return AnthropicStreamParser(model)

    def build_count(self, provider: ProviderSpec, model: ModelSpec, messages: Sequence[Message],
                    params: Mapping[str, Any], base_url: str) -> Request | None:
        body = self.build_chat(provider, model, messages, params, stream=False).json
        return Request("POST", COUNT_PATH, json={k: body[k] for k in _COUNTED if k in body})

    def parse_count(self, payload: Any, model: ModelSpec, base_url: str) -> int | Request:
        return int(payload["input_tokens"])

    def build_embed(self, provider: ProviderSpec, model: ModelSpec, texts: Sequence[str],
                    params: Mapping[str, Any]) -> Request:
        raise errors.InvalidRequestError(
            f"Anthropic has no embeddings API ({provider.name!r} speaks the anthropic dialect); use an "
            f"embedding model of another provider, e.g. 'text-embedding-3-small' (openai) or "
            f"'gemini-embedding-001' (gemini)", provider=provider.name, model=model.id)

    def build_list_models(self, provider: ProviderSpec, cursor: str | None) -> Request | None:
        from . import _listing

        return _listing.anthropic_request(cursor)

    def parse_list_models(self, payload: Any) -> tuple[list[dict[str, Any]], str | None]:
        from . import _listing

        return _listing.anthropic_page(payload)


DIALECT = AnthropicDialect()
