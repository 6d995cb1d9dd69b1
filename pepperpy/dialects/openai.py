"""The OpenAI wire format: ``/chat/completions`` and ``/embeddings`` (media endpoints: ``_openai_media``).

Spoken by OpenAI and by every OpenAI-compatible vendor in the catalog (Groq, Mistral, DeepSeek, Together,
xAI, OpenRouter, vLLM, llama.cpp, LM Studio). Provider ``options`` tune the few places they differ:

- ``max_tokens_param``: the body key for max_tokens (OpenAI wants ``max_completion_tokens``);
- ``stream_usage``: false for servers that reject ``stream_options.include_usage``;
- ``referer_env`` / ``title_env`` (OpenRouter): env names for the ``HTTP-Referer`` / ``X-Title`` headers;
- ``count_tokens``: the server's token-counting endpoint, ``responses`` (OpenAI) or ``llamacpp``; without it
  ``count_tokens`` estimates (see ``_openai_count``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..http.transport import Request
from ..types import Chunk, Completion, ModelSpec, ProviderSpec, ToolCall, Usage, text_chunk
from . import _openai_media
from .base import (
    COMMON_PARAMS,
    Lookup,
    Message,
    StreamParser,
    completion,
    normalize_finish,
    parse_arguments,
    raise_error_event,
    text_of,
)

if TYPE_CHECKING:
    from ..types import Embeddings

__all__ = ["DIALECT", "OpenAIDialect", "OpenAIStreamParser", "parse_usage"]

_decode = json.JSONDecoder().decode
_NO_DELTA: Mapping[str, Any] = {}


def parse_usage(raw: Mapping[str, Any] | None) -> Usage | None:
    """OpenAI-style usage (also used by the compatible vendors)."""
    if not raw:
        return None
    prompt = raw.get("prompt_tokens") or 0
    output = raw.get("completion_tokens") or 0
    cached = (raw.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    reasoning = (raw.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    total = raw.get("total_tokens")
    return Usage(prompt, output, total if total is not None else prompt + output, cached, reasoning)


def _tool_calls(raw: Sequence[Mapping[str, Any]] | None) -> tuple[ToolCall, ...]:
    if not raw:
        return ()
    return tuple(ToolCall(id=c.get("id") or "", name=(c.get("function") or {}).get("name", ""),
                          arguments=parse_arguments((c.get("function") or {}).get("arguments")))
                 for c in raw)


def _first_choice(choices: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The choice with index 0 (with ``n`` > 1 a chunk may carry only another index)."""
    first = choices[0] if type(choices) is list else None
    if type(first) is dict and not first.get("index"):  # the common case: it comes first
        return first
    return next((c for c in choices if not c.get("index")), None)


class OpenAIStreamParser(StreamParser):
    """``data: {chunk}`` events ending with ``data: [DONE]``; tool-call deltas accumulate by index.

    Only choice 0 is read (a stream asked with ``n`` > 1 interleaves the others). A ``refusal`` streams as
    text and ends the answer with ``content_filter``.

    The events are also gathered into the ``chat.completion`` a non-stream call returns (as openai-python's
    ``ChatCompletionStreamState`` does): the ``raw`` of the chunks that carry the finish reason or the usage is
    that one object, kept up to date, so the stream's ``completion.raw`` is the whole answer, not its last event.
    """

    __slots__ = ("_message", "_parts", "_refused", "_tools", "done", "model")

    def __init__(self, model: ModelSpec) -> None:
        self.done = False
        self.model = model
        self._refused = False
        self._tools: dict[int, dict[str, Any]] = {}
        self._parts: list[str] = []  # the text so far, for the gathered answer
        self._message: dict[str, Any] | None = None  # the gathered chat.completion, made at the finish

    def feed(self, event: str, data: bytes) -> Chunk | None:
        if data == b"[DONE]":
            self.done = True
            return None
        obj = _decode(data.decode("utf-8"))  # str skips json's encoding sniffing (hot path)
        choices = obj.get("choices")
        choice = choices[0] if choices else None
        if choice is not None and choice.get("index"):  # n > 1: this chunk is about another choice
            choice = _first_choice(choices)
        if choice is not None:
            delta = choice.get("delta") or _NO_DELTA
            text = delta.get("content")
            finish = choice.get("finish_reason")
            if text and finish is None and not obj.get("usage") and not obj.get("error") \
                    and "tool_calls" not in delta:
                self._parts.append(text)
                return text_chunk(text, obj)  # the common event: a piece of text
            if delta.get("tool_calls"):
                self._add_tool_deltas(delta["tool_calls"])
            if delta.get("refusal"):
                text, self._refused = delta["refusal"], True
            if finish is not None and self._refused:
                finish = "content_filter"
        else:
            text, finish = None, None
        if obj.get("error"):
            raise_error_event(obj, self.model)
        usage_raw = obj.get("usage")
        usage = parse_usage(usage_raw) if usage_raw else None
        if not text and finish is None and usage is None:
            return None
        if text:
            self._parts.append(text)
        tools: tuple[ToolCall, ...] = ()
        if finish is not None and self._tools:
            tools = tuple(ToolCall(t["id"], t["name"], parse_arguments(t["arguments"]))
                          for _, t in sorted(self._tools.items()))
        cost = usage_raw.get("cost") if usage_raw else None
        raw = self._gather(obj, finish, usage_raw) if finish is not None or usage_raw else obj
        return Chunk(text or "", normalize_finish(finish), usage, tools, cost, raw)

    def _gather(self, event: Mapping[str, Any], finish: Any, usage: Any) -> dict[str, Any]:
        """The chat.completion so far, shaped as a non-stream answer (updated in place by later events)."""
        gathered = self._message
        if gathered is None:
            gathered = self._message = {
                "id": event.get("id"), "object": "chat.completion", "created": event.get("created"),
                "model": event.get("model"), "system_fingerprint": event.get("system_fingerprint"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": None}]}
        choice = gathered["choices"][0]
        message = choice["message"]
        content = "".join(self._parts) or None
        message["refusal" if self._refused else "content"] = content
        if self._tools:
            message["tool_calls"] = [{"id": t["id"], "type": "function",
                                      "function": {"name": t["name"], "arguments": t["arguments"]}}
                                     for _, t in sorted(self._tools.items())]
        if finish is not None:
            choice["finish_reason"] = "content_filter" if self._refused else finish
        if usage:
            gathered["usage"] = usage
        return gathered

    def _add_tool_deltas(self, deltas: Sequence[Mapping[str, Any]]) -> None:
        tools = self._tools
        for delta in deltas:
            index = delta.get("index")
            if index is None:  # Mistral may omit it: a fragment with a new id starts a new call
                index = max(tools, default=0)
                last_id = tools[index]["id"] if index in tools else ""
                if last_id and delta.get("id") and delta["id"] != last_id:
                    index += 1
            slot = tools.setdefault(index, {"id": "", "name": "", "arguments": ""})
            slot["id"] = delta.get("id") or slot["id"]
            function = delta.get("function") or {}
            slot["name"] = function.get("name") or slot["name"]
            slot["arguments"] += function.get("arguments") or ""


class OpenAIDialect(_openai_media.OpenAIMedia):
    name = "openai"
    params = COMMON_PARAMS | {
        "frequency_penalty", "presence_penalty", "logit_bias", "logprobs", "top_logprobs", "n", "user",
        "max_completion_tokens", "reasoning_effort", "service_tier", "store", "metadata", "modalities", "audio",
        "prediction", "web_search_options", "verbosity", "stream_options", "safety_identifier", "prompt_cache_key",
        "functions", "function_call",
        # what OpenAI-compatible servers add: vLLM, llama.cpp, OpenRouter, Groq, Mistral, Together, xAI, DeepSeek
        "top_k", "min_p", "top_a", "repetition_penalty", "typical_p", "min_tokens", "ignore_eos",
        "skip_special_tokens", "include_stop_str_in_output", "guided_json", "guided_choice", "guided_regex",
        "guided_grammar", "structured_outputs", "chat_template_kwargs", "n_probs", "mirostat", "mirostat_tau",
        "mirostat_eta", "grammar", "json_schema", "cache_prompt", "repeat_penalty", "repeat_last_n",
        "dry_multiplier", "xtc_probability", "transforms", "models", "route", "provider", "reasoning", "usage",
        "plugins", "include_reasoning", "reasoning_format", "safe_prompt", "random_seed", "search_parameters",
        "thinking", "enable_thinking"}
    embed_params = frozenset({"dimensions", "encoding_format", "user"})
    media_params = MappingProxyType({"transcription": frozenset({"temperature"})})  # /audio/transcriptions takes it

    def headers(self, provider: ProviderSpec, key: str | None, lookup: Lookup) -> dict[str, str]:
        headers = dict(provider.headers)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        options = provider.options
        for option, header in (("referer_env", "HTTP-Referer"), ("title_env", "X-Title")):
            names = options.get(option)
            value = lookup(list(names)) if names else None
            if value:
                headers[header] = value
        return headers

    def build_chat(self, provider: ProviderSpec, model: ModelSpec, messages: Sequence[Message],
                   params: Mapping[str, Any], *, stream: bool) -> Request:
        body: dict[str, Any] = {"model": model.wire_name, "messages": list(messages)}
        max_key = provider.options.get("max_tokens_param", "max_tokens")
        for key, value in params.items():
            body[max_key if key == "max_tokens" else key] = value
        if stream:
            body["stream"] = True
            if provider.options.get("stream_usage", True):
                body.setdefault("stream_options", {"include_usage": True})
        return Request("POST", "/chat/completions", json=body, stream=stream)

    def parse_chat(self, payload: Any, model: ModelSpec) -> Completion:
        if payload.get("error"):
            raise_error_event(payload, model)
        choices = payload["choices"]  # missing: not an OpenAI-style answer (the client names base_url)
        if not choices:
            raise ValueError("an answer with no choices")
        choice = _first_choice(choices) or {}
        message = choice.get("message") or {}
        usage_raw = payload.get("usage")
        usage = parse_usage(usage_raw) or Usage()
        text, finish = text_of(message.get("content")), choice.get("finish_reason")
        if message.get("refusal"):  # the model declined: content is null, the refusal says why
            text, finish = text or message["refusal"], "content_filter"
        return completion(model, text, finish, usage, payload,
                          tool_calls=_tool_calls(message.get("tool_calls")),
                          cost=usage_raw.get("cost") if usage_raw else None, request_id=payload.get("id"),
                          created=payload.get("created"))

    def stream_parser(self, model: ModelSpec) -> StreamParser:
        return OpenAIStreamParser(model)

    def build_count(self, provider: ProviderSpec, model: ModelSpec, messages: Sequence[Message],
                    params: Mapping[str, Any], base_url: str) -> Request | None:
        from . import _openai_count

        return _openai_count.count_request(provider.options.get("count_tokens"), model.wire_name, messages,
                                           params, base_url)

    def parse_count(self, payload: Any, model: ModelSpec, base_url: str) -> int | Request:
        from . import _openai_count

        return _openai_count.parse_count(payload, base_url)

    def build_embed(self, provider: ProviderSpec, model: ModelSpec, texts: Sequence[str],
                    params: Mapping[str, Any]) -> Request:
        body = {"model": model.wire_name, "input": list(texts), "encoding_format": "float", **params}
        return Request("POST", "/embeddings", json=body)

    def parse_embed(self, payload: Any, model: ModelSpec) -> Embeddings:
        from ..types import Embeddings

        if payload.get("error"):
            raise_error_event(payload, model)
        rows = sorted(payload["data"], key=lambda row: row.get("index", 0))
        usage = parse_usage(payload.get("usage")) or Usage()
        return Embeddings(vectors=[row["embedding"] for row in rows], model=model.id, provider=model.provider,
                          usage=usage, raw=payload)

    def build_list_models(self, provider: ProviderSpec, cursor: str | None) -> Request | None:
        return Request("GET", "/models")  # one page, at OpenAI and every compatible server

    def parse_list_models(self, payload: Any) -> tuple[list[dict[str, Any]], str | None]:
        from . import _listing

        return _listing.openai_page(payload), None


DIALECT = OpenAIDialect()
