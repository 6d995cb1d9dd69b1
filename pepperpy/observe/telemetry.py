"""OpenTelemetry spans and metrics in the GenAI semantic conventions: ``Client(telemetry=True)``.

Turned on by ``Client(telemetry=True)`` or ``PEPPERPY_TELEMETRY=1`` (``telemetry=False`` wins over the
variable); it needs ``opentelemetry-api`` (``pip install "pepperpy[telemetry]"``), imported only then. pepperpy
uses the tracer and meter providers the application set (``trace.set_tracer_provider(...)``); with none set,
OpenTelemetry's no-op ones make each call cost a few microseconds more.

What is recorded, after https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/ and
https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/ :

- one CLIENT span per call, named ``{gen_ai.operation.name} {gen_ai.request.model}`` (``chat gpt-4o-mini``,
  ``embeddings text-embedding-3-small``), with ``gen_ai.operation.name``, ``gen_ai.provider.name`` (the
  registry's well-known value where there is one: ``gcp.gemini``, ``mistral_ai``, ``x_ai``...; else the
  catalog's provider name), ``gen_ai.request.model``, ``gen_ai.request.*`` parameters (max_tokens,
  temperature, top_p, top_k, stop_sequences, seed, frequency_penalty, presence_penalty, choice.count; for
  embeddings ``gen_ai.embeddings.dimension.count`` and ``gen_ai.request.encoding_formats`` when asked for),
  ``gen_ai.response.model``, ``gen_ai.response.id``, ``gen_ai.response.finish_reasons``,
  ``gen_ai.usage.input_tokens`` / ``output_tokens``, ``pepperpy.cost`` (USD, as the ledger booked it: 0 for a
  cache hit), ``server.address`` / ``server.port``, and on failure
  ``error.type`` (the exception's qualified class name) with the span status ERROR;
- span events for what happened inside the call: ``pepperpy.retry`` (``pepperpy.attempt``,
  ``pepperpy.retry.wait``, ``error.type``), ``pepperpy.fallback`` (``pepperpy.fallback.from`` / ``.to``,
  ``error.type``) and ``pepperpy.cache_hit`` (also the span attribute ``pepperpy.cache_hit``);
- the histograms ``gen_ai.client.operation.duration`` (s) and ``gen_ai.client.token.usage`` ({token}, with
  ``gen_ai.token.type`` input / output), with the conventions' bucket boundaries;
- prompt and answer text only with ``Client(log_content=True)``: ``gen_ai.input.messages``,
  ``gen_ai.system_instructions`` and ``gen_ai.output.messages`` as JSON, in the conventions' parts format.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from .._version import __version__
from ..config import TELEMETRY_ENV
from ..config import telemetry_enabled as enabled
from ..errors import ConfigurationError
from ..types import Completion

__all__ = ["OPERATIONS", "PROVIDER_NAMES", "TELEMETRY_ENV", "Telemetry", "enabled", "error_type"]

OPERATIONS = {"complete": "chat", "stream": "chat", "embed": "embeddings"}
PROVIDER_NAMES = {"openai": "openai", "anthropic": "anthropic", "gemini": "gcp.gemini", "groq": "groq",
                  "mistral": "mistral_ai", "deepseek": "deepseek", "xai": "x_ai", "perplexity": "perplexity",
                  "cohere": "cohere"}
_REQUEST_PARAMS = (("max_tokens", "gen_ai.request.max_tokens"), ("temperature", "gen_ai.request.temperature"),
                   ("top_p", "gen_ai.request.top_p"), ("top_k", "gen_ai.request.top_k"),
                   ("seed", "gen_ai.request.seed"), ("frequency_penalty", "gen_ai.request.frequency_penalty"),
                   ("presence_penalty", "gen_ai.request.presence_penalty"))
_TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]


class Telemetry:
    """The tracer and instruments of one Client (from the global providers, resolved when they are set)."""

    def __init__(self, log_content: bool = False) -> None:
        try:
            from opentelemetry import context, metrics, trace
        except ImportError:
            raise ConfigurationError('telemetry needs OpenTelemetry\'s API: pip install "pepperpy[telemetry]" (or '
                                     'pip install opentelemetry-api), or turn it off (telemetry=False, '
                                     'PEPPERPY_TELEMETRY=0)') from None
        self.log_content = log_content
        self._context, self._trace = context, trace
        self._kind = trace.SpanKind.CLIENT
        self._error = trace.StatusCode.ERROR
        self.tracer = trace.get_tracer("pepperpy", __version__)
        meter = metrics.get_meter("pepperpy", __version__)
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration", unit="s", description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS)
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}", description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS)

    # ------------------------------------------------------------------ spans

    def start(self, op: str, provider: str, model: str, base_url: str, params: Mapping[str, Any] | None,
              messages: Sequence[Mapping[str, Any]] | None) -> Any:
        """A started span for one call, made current until ``detach``; returns ``(span, token)``."""
        operation = OPERATIONS.get(op, op)
        attributes = self._common(operation, provider, model, base_url)
        for param, key in _REQUEST_PARAMS:
            value = (params or {}).get(param)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                attributes[key] = value
        if params:
            stop = params.get("stop")
            if stop:
                attributes["gen_ai.request.stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
            n = params.get("n")
            if isinstance(n, int) and n != 1:
                attributes["gen_ai.request.choice.count"] = n
            if operation == "embeddings":  # as opentelemetry-instrumentation-openai sets them
                dimensions, encoding = params.get("dimensions"), params.get("encoding_format")
                if isinstance(dimensions, int) and not isinstance(dimensions, bool):
                    attributes["gen_ai.embeddings.dimension.count"] = dimensions
                if isinstance(encoding, str):
                    attributes["gen_ai.request.encoding_formats"] = [encoding]
        if self.log_content and messages is not None:
            system, chat = _messages(messages)
            attributes["gen_ai.input.messages"] = json.dumps(chat, ensure_ascii=False, default=str)
            if system:
                attributes["gen_ai.system_instructions"] = json.dumps(system, ensure_ascii=False)
        span = self.tracer.start_span(f"{operation} {model}", kind=self._kind, attributes=attributes)
        token = self._context.attach(self._trace.set_span_in_context(span))
        return span, token, attributes

    def detach(self, handle: Any) -> None:
        """The span stops being current (it stays open: a stream's ends when the stream does)."""
        if handle[1] is not None:
            self._context.detach(handle[1])

    def event(self, handle: Any, name: str, attributes: Mapping[str, Any]) -> None:
        span = handle[0]
        if span.is_recording():
            span.add_event(name, dict(attributes))

    def end(self, handle: Any, duration: float, *, provider: str, model: str,
            result: Any = None, error: BaseException | None = None, cached: bool = False, entry: Any = None) -> None:
        """End the call's span and record its metrics; ``provider`` / ``model`` are the hop's that answered.
        ``result`` is a Completion, Embeddings or a media result (``raw`` when it has one); ``entry`` the
        ledger's record of the call, whose usage and cost the span carries."""
        span, _, attributes = handle
        metric = {key: attributes[key] for key in ("gen_ai.operation.name", "gen_ai.provider.name",
                                                   "gen_ai.request.model", "server.address", "server.port")
                  if key in attributes}
        metric["gen_ai.provider.name"] = PROVIDER_NAMES.get(provider, provider)
        recording = span.is_recording()
        if recording:
            span.set_attribute("gen_ai.provider.name", metric["gen_ai.provider.name"])
            if cached:
                span.set_attribute("pepperpy.cache_hit", True)
        if result is not None:
            raw = getattr(result, "raw", None)
            raw = raw if isinstance(raw, Mapping) else {}
            response_model = raw.get("model") or raw.get("modelVersion") or model
            metric["gen_ai.response.model"] = str(response_model)
            usage = entry.usage if entry is not None and entry.usage is not None else result.usage
            if recording:
                if entry is not None and entry.cost is not None:
                    span.set_attribute("pepperpy.cost", entry.cost)
                span.set_attribute("gen_ai.response.model", str(response_model))
                response_id = raw.get("id") or raw.get("responseId")
                if isinstance(response_id, str):
                    span.set_attribute("gen_ai.response.id", response_id)
                span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
                if isinstance(result, Completion):
                    span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
                    if result.finish_reason:
                        span.set_attribute("gen_ai.response.finish_reasons", [result.finish_reason])
                    if self.log_content:
                        span.set_attribute("gen_ai.output.messages", json.dumps([{
                            "role": "assistant", "parts": [{"type": "text", "content": result.text}],
                            "finish_reason": result.finish_reason or "stop"}], ensure_ascii=False))
            if not cached:
                self.tokens.record(usage.input_tokens, {**metric, "gen_ai.token.type": "input"})
                if isinstance(result, Completion):
                    self.tokens.record(usage.output_tokens, {**metric, "gen_ai.token.type": "output"})
        if error is not None:
            kind = error_type(error)
            metric["error.type"] = kind
            if recording:
                span.set_attribute("error.type", kind)
                span.set_status(self._error, str(error))
        self.duration.record(duration, metric)
        span.end()

    @staticmethod
    def _common(operation: str, provider: str, model: str, base_url: str) -> dict[str, Any]:
        attributes: dict[str, Any] = {"gen_ai.operation.name": operation,
                                      "gen_ai.provider.name": PROVIDER_NAMES.get(provider, provider),
                                      "gen_ai.request.model": model}
        parts = urllib.parse.urlsplit(base_url)
        if parts.hostname:
            attributes["server.address"] = parts.hostname
            attributes["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
        return attributes


def error_type(error: BaseException) -> str:
    """The ``error.type`` of an exception: its qualified class name."""
    cls = type(error)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _messages(messages: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system instructions, the other messages) in the conventions' parts format."""
    system: list[dict[str, Any]] = []
    chat: list[dict[str, Any]] = []
    for message in messages:
        parts = _parts(message.get("content"))
        if message.get("role") == "system":
            system.extend(parts)
        else:
            chat.append({"role": message.get("role", "user"), "parts": parts})
    return system, chat


def _parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts = []
    for part in content or ():
        if isinstance(part, Mapping) and isinstance(part.get("text"), str):
            parts.append({"type": "text", "content": part["text"]})
        elif isinstance(part, Mapping):
            parts.append({"type": str(part.get("type", "blob"))})
    return parts
