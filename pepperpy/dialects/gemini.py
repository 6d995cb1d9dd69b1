"""The Gemini Developer API wire format: ``models/{model}:generateContent`` and friends (media: ``_gemini_media``).

Callers speak OpenAI-shaped messages, params and tools; this module converts them: system turns become
``systemInstruction``, ``assistant`` is ``model``, sampling params go under ``generationConfig`` in camelCase,
tool calls and results become ``functionCall`` / ``functionResponse`` parts. The key travels only in the
``x-goog-api-key`` header, never in the URL (URLs end up in logs and error messages).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .. import errors
from ..http.transport import Request
from ..types import Chunk, Completion, ModelSpec, ProviderSpec, ToolCall, Usage
from . import _gemini_media
from ._gemini_config import GENERATION, GENERATION_FIELDS, generation_field, model_path, model_resource
from .base import (
    COMMON_PARAMS,
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

__all__ = ["DIALECT", "GeminiDialect", "GeminiStreamParser", "convert_messages", "convert_tools", "parse_usage"]

_TOOL_MODES = {"auto": "AUTO", "required": "ANY", "any": "ANY", "none": "NONE"}
_EMBED = {"dimensions": "outputDimensionality", "task_type": "taskType"}
SKIP_SIGNATURE = "skip_thought_signature_validator"  # Google's documented stand-in for a lost signature


def parse_usage(raw: Mapping[str, Any] | None) -> Usage:
    """usageMetadata; thinking tokens are billed as output, so they count there and as reasoning."""
    raw = raw or {}
    prompt = raw.get("promptTokenCount") or 0
    thoughts = raw.get("thoughtsTokenCount") or 0
    output = (raw.get("candidatesTokenCount") or 0) + thoughts
    total = raw.get("totalTokenCount")
    details = raw.get("promptTokensDetails")
    if details:  # audio and images in the prompt (priced apart when the catalog says so)
        return _gemini_media.parse_usage(raw) or Usage()
    return Usage(prompt, output, total if total is not None else prompt + output,
                 raw.get("cachedContentTokenCount") or 0, thoughts)


def _parts(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"text": content}]
    parts: list[Any] = []
    for part in content or ():
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            parts.append({"text": part.get("text", "")})
        elif kind == "image_url":
            url = str((part.get("image_url") or {}).get("url", ""))
            mime, base64, data = url.removeprefix("data:").partition(";base64,")
            parts.append({"inlineData": {"mimeType": mime, "data": data}} if url.startswith("data:") and base64
                         else {"fileData": {"fileUri": url}})
        else:
            parts.append(part)  # already a Gemini part (inlineData, fileData, ...)
    return parts


def _tool_response(content: Any) -> dict[str, Any]:
    """A tool result as the ``response`` object Gemini wants: JSON objects as they are, else wrapped."""
    try:
        value = json.loads(content) if isinstance(content, str) else None
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"result": content}


def _signature(call: Mapping[str, Any]) -> str | None:
    # Gemini's own OpenAI-compatible endpoint returns it as extra_content.google.thought_signature.
    google = (call.get("extra_content") or {}).get("google") or {}
    return call.get("thought_signature") or google.get("thought_signature")


def convert_messages(messages: Sequence[Message]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(systemInstruction, contents) from OpenAI-shaped messages.

    Gemini 3+ rejects replayed function calls without their ``thoughtSignature``, which ToolCall does not
    carry: unless the message has it, the first call of a model turn gets Google's documented sentinel.
    """
    system: list[Any] = []
    contents: list[dict[str, Any]] = []
    results: list[Any] | None = None  # the functionResponse parts of the user turn being built
    names = tool_call_names(messages)  # functionResponse is matched by name, not by call id
    for message in messages:
        role, content = message["role"], message.get("content")
        if role == "tool":
            call_id = message.get("tool_call_id", "")
            name = message.get("name") or names.get(call_id, call_id)
            if results is None:
                results = []
                contents.append({"role": "user", "parts": results})
            results.append({"functionResponse": {"name": name, "response": _tool_response(content)}})
            continue
        results = None
        if role in ("system", "developer"):
            system.extend(_parts(content))
            continue
        parts = _parts(content) if content else []
        for index, call in enumerate(message.get("tool_calls") or ()):
            function = call.get("function") or {}
            part: dict[str, Any] = {"functionCall": {"name": function.get("name", ""),
                                                     "args": dict(parse_arguments(function.get("arguments")))}}
            signature = _signature(call) or (SKIP_SIGNATURE if index == 0 else None)
            if signature:
                part["thoughtSignature"] = signature
            parts.append(part)
        contents.append({"role": "model" if role == "assistant" else "user", "parts": parts})
    return ({"parts": system} if system else None), contents


def convert_tools(tools: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """OpenAI function tools as one ``functionDeclarations`` tool; Gemini-shaped tools pass unchanged.

    OpenAI ``parameters`` are JSON Schema: they go to ``parametersJsonSchema``, as Gemini's own ``parameters``
    (an OpenAPI subset, exclusive with it) refuses ``additionalProperties``, ``$defs``, ``const``..."""
    declarations: list[dict[str, Any]] = []
    others: list[Mapping[str, Any]] = []
    for tool in tools:
        function = tool.get("function")
        if tool.get("type") == "function" and isinstance(function, Mapping):
            declaration = {k: function[k] for k in ("name", "description") if k in function}
            if function.get("parameters"):
                declaration["parametersJsonSchema"] = function["parameters"]
            declarations.append(declaration)
        else:
            others.append(tool)
    return ([{"functionDeclarations": declarations}] if declarations else []) + others


def _tool_config(choice: Any) -> Any:
    """OpenAI ``tool_choice`` as Gemini's ``toolConfig``."""
    if isinstance(choice, str):
        return {"functionCallingConfig": {"mode": _TOOL_MODES.get(choice, choice.upper())}}
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        names = [(choice.get("function") or {}).get("name", "")]
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": names}}
    return choice


def _candidate(payload: Mapping[str, Any], model: ModelSpec) -> Mapping[str, Any]:
    """The first candidate; a prompt blocked before generation has none and raises."""
    candidates = payload.get("candidates") or []
    feedback = payload.get("promptFeedback") or {}
    if not candidates and feedback.get("blockReason"):
        raise errors.InvalidRequestError(
            f"Gemini blocked the prompt ({feedback['blockReason']}) before answering; rephrase it or adjust "
            f"safetySettings",
            provider=model.provider, model=model.id, details=payload)
    first = candidates[0] if candidates else {}
    return first if isinstance(first, Mapping) else {}


def _read_parts(candidate: Mapping[str, Any], first_index: int = 0) -> tuple[str, list[ToolCall]]:
    text: list[str] = []
    calls: list[ToolCall] = []
    for part in (candidate.get("content") or {}).get("parts") or ():
        if part.get("thought"):  # thought summaries are reasoning, not the answer
            continue
        if "text" in part:
            text.append(part["text"] or "")
        call = part.get("functionCall")
        if call:
            name = call.get("name", "")
            index = first_index + len(calls)
            # Gemini ids are optional; the name (made unique) lets a tool result find its call again.
            calls.append(ToolCall(call.get("id") or (name if index == 0 else f"{name}_{index}"), name,
                                  parse_arguments(call.get("args"))))
    return "".join(text), calls


def _finish(reason: Any, has_tools: bool) -> str | None:
    finish = normalize_finish(reason)
    return "tool_calls" if has_tools and finish == "stop" else finish  # Gemini says STOP for calls too


class GeminiStreamParser(StreamParser):
    """``alt=sse`` data events, each a partial response; the one with a finishReason ends the answer."""

    __slots__ = ("_tools", "done", "model")

    def __init__(self, model: ModelSpec) -> None:
        self.done = False
        self.model = model
        self._tools: list[ToolCall] = []

    def feed(self, event: str, data: bytes) -> Chunk | None:
        obj = decode_json(data)
        if not isinstance(obj, dict):
            raise ValueError(f"expected a JSON object, got {type(obj).__name__}")  # the client's StreamError
        if obj.get("error"):
            raise_error_event(obj, self.model)
        candidate = _candidate(obj, self.model)
        text, calls = _read_parts(candidate, len(self._tools))
        self._tools.extend(calls)
        reason = candidate.get("finishReason")
        if reason:
            self.done = True
        usage = parse_usage(obj.get("usageMetadata")) if (reason or self.done) and "usageMetadata" in obj else None
        finish = _finish(reason, bool(self._tools)) if reason else None
        if not text and finish is None and usage is None:
            return None
        return Chunk(text, finish, usage, tuple(self._tools) if finish else (), raw=obj)


class GeminiDialect(_gemini_media.GeminiMedia):
    """Google's Gemini Developer API (``v1beta``)."""

    name = "gemini"
    params = COMMON_PARAMS | set(GENERATION) | GENERATION_FIELDS | {
        "generation_config", "generationConfig", "safetySettings", "safety_settings", "toolConfig",
        "cachedContent", "cached_content", "labels"}
    embed_params = frozenset({*_EMBED, *_EMBED.values(), "title"})
    # images, speech and transcripts come from generateContent, which takes the sampling parameters too
    media_params = MappingProxyType(dict.fromkeys(("image", "speech", "transcription"), frozenset(
        {*GENERATION, *GENERATION_FIELDS, "generation_config", "generationConfig", "safetySettings", "safety_settings",
         "labels"})))

    def headers(self, provider: ProviderSpec, key: str | None, lookup: Lookup) -> dict[str, str]:
        headers = dict(provider.headers)
        if key:
            headers["x-goog-api-key"] = key
        return headers

    def build_chat(self, provider: ProviderSpec, model: ModelSpec, messages: Sequence[Message],
                   params: Mapping[str, Any], *, stream: bool) -> Request:
        system, contents = convert_messages(messages)
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = system
        config: dict[str, Any] = {}
        for key, value in params.items():
            field = generation_field(key, value)
            if field is not None:
                config[field[0]] = field[1]
            elif key == "response_format" and isinstance(value, Mapping):
                if value.get("type") == "text":  # plain text is Gemini's default: no JSON mode
                    continue
                config["responseMimeType"] = "application/json"
                schema = (value.get("json_schema") or {}).get("schema")
                if schema:
                    config["responseJsonSchema"] = schema
            elif key == "tools":
                body["tools"] = convert_tools(value)
            elif key == "tool_choice":
                body["toolConfig"] = _tool_config(value)
            elif key in ("generationConfig", "generation_config") and isinstance(value, Mapping):
                config.update(value)
            else:
                body[key] = value  # Gemini's own top-level fields: safetySettings, toolConfig, cachedContent...
        if config:
            body["generationConfig"] = config
        method = "streamGenerateContent" if stream else "generateContent"
        return Request("POST", f"/{model_path(model)}:{method}", json=body,
                       params={"alt": "sse"} if stream else None, stream=stream)

    def parse_chat(self, payload: Any, model: ModelSpec) -> Completion:
        if payload.get("error"):
            raise_error_event(payload, model)
        candidate = _candidate(payload, model)
        text, calls = _read_parts(candidate)
        # A candidate stopped for SAFETY with no text is an answer (finish_reason content_filter), not an error.
        return completion(model, text, _finish(candidate.get("finishReason"), bool(calls)),
                          parse_usage(payload.get("usageMetadata")), payload, tool_calls=tuple(calls),
                          request_id=payload.get("responseId"), created=payload.get("createTime"))

    def stream_parser(self, model: ModelSpec) -> StreamParser:
        return GeminiStreamParser(model)

    def build_count(self, provider: ProviderSpec, model: ModelSpec, messages: Sequence[Message],
                    params: Mapping[str, Any], base_url: str) -> Request | None:
        # Only the wrapped form counts the system instruction, tools and config; it must name the model.
        body = self.build_chat(provider, model, messages, params, stream=False).json
        counted = {"contents": body["contents"]} if set(body) == {"contents"} else \
            {"generateContentRequest": {"model": model_resource(model), **body}}
        return Request("POST", f"/{model_path(model)}:countTokens", json=counted)

    def parse_count(self, payload: Any, model: ModelSpec, base_url: str) -> int | Request:
        return int(payload["totalTokens"])

    def build_embed(self, provider: ProviderSpec, model: ModelSpec, texts: Sequence[str],
                    params: Mapping[str, Any]) -> Request:
        extra = {_EMBED.get(key, key): value for key, value in params.items()}  # camelCase passes as is
        name = model_resource(model)
        requests = [{"model": name, "content": {"parts": [{"text": text}]}, **extra} for text in texts]
        return Request("POST", f"/{model_path(model)}:batchEmbedContents", json={"requests": requests})

    def parse_embed(self, payload: Any, model: ModelSpec) -> Embeddings:
        from ..types import Embeddings

        if payload.get("error"):
            raise_error_event(payload, model)
        vectors = [list(row.get("values") or ()) for row in payload.get("embeddings") or ()]
        raw_usage = payload.get("usageMetadata")
        # batchEmbedContents reports no token counts: usage stays 0 (and the ledger's cost None, not a false $0)
        usage = parse_usage(raw_usage) if raw_usage else Usage()
        return Embeddings(vectors=vectors, model=model.id, provider=model.provider, usage=usage, raw=payload)

    def build_list_models(self, provider: ProviderSpec, cursor: str | None) -> Request | None:
        from . import _listing

        return _listing.gemini_request(cursor)

    def parse_list_models(self, payload: Any) -> tuple[list[dict[str, Any]], str | None]:
        from . import _listing

        return _listing.gemini_page(payload)


DIALECT = GeminiDialect()
