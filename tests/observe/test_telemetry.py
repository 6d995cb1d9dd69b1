"""Client(telemetry=True): spans and metrics in the OpenTelemetry GenAI semantic conventions, captured with the
SDK's in-memory exporters.

The attribute, metric and event names checked here are those of the conventions' pages (status: development):
https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/ (span name ``{gen_ai.operation.name}
{gen_ai.request.model}``, kind CLIENT, ``gen_ai.operation.name``, ``gen_ai.provider.name``,
``gen_ai.request.model``, ``gen_ai.request.max_tokens`` / ``temperature`` / ``top_p`` / ``stop_sequences``,
``gen_ai.response.model``, ``gen_ai.response.id``, ``gen_ai.response.finish_reasons``,
``gen_ai.usage.input_tokens`` / ``output_tokens``, ``server.address`` / ``server.port``, ``error.type``, and the
opt-in ``gen_ai.input.messages`` / ``gen_ai.output.messages`` / ``gen_ai.system_instructions``) and
https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/ (``gen_ai.client.operation.duration`` in
``s``, ``gen_ai.client.token.usage`` in ``{token}`` with ``gen_ai.token.type`` ``input`` / ``output``; the
well-known ``gen_ai.provider.name`` values such as ``gcp.gemini``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer

otel_trace = pytest.importorskip("opentelemetry.trace")
from opentelemetry import metrics as otel_metrics  # noqa: E402
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

_READER: list[InMemoryMetricReader] = []


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Fresh global providers, as an application sets them (tests/conftest.py unsets them after each test)."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel_trace.set_tracer_provider(tracer_provider)
    reader = InMemoryMetricReader()
    otel_metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    _READER[:] = [reader]
    yield exporter


def points(name: str) -> list[Any]:
    data = _READER[0].get_metrics_data()
    found = []
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found.extend((metric, p) for p in metric.data.data_points)
    return found


def test_a_completion_span_and_its_metrics(make_client: Any, server: FakeProviderServer, spans: Any) -> None:
    client = make_client(telemetry=True)
    server.reply("Hello there", usage=(10, 5))
    client.complete("hi", model="lc", max_tokens=50, temperature=0.5, top_p=0.9, stop=["\n\n"])
    (span,) = spans.get_finished_spans()
    assert span.name == "chat local-chat" and span.kind == SpanKind.CLIENT
    attributes = dict(span.attributes)
    port = int(server.base_url("openai").rsplit(":", 1)[1].split("/")[0])
    assert attributes == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "local", "gen_ai.request.model": "local-chat",
        "gen_ai.request.max_tokens": 50, "gen_ai.request.temperature": 0.5, "gen_ai.request.top_p": 0.9,
        "gen_ai.request.stop_sequences": ("\n\n",), "server.address": "127.0.0.1", "server.port": port,
        "gen_ai.response.model": "local-chat", "gen_ai.response.id": attributes["gen_ai.response.id"],
        "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5,
        "gen_ai.response.finish_reasons": ("stop",), "pepperpy.cost": (10 * 1.0 + 5 * 2.0) / 1e6}
    assert attributes["gen_ai.response.id"].startswith("chatcmpl-")
    assert span.status.status_code == StatusCode.UNSET
    assert "gen_ai.input.messages" not in attributes  # content only with log_content=True

    (duration_metric, duration), = [(m, p) for m, p in points("gen_ai.client.operation.duration")
                                    if p.attributes["gen_ai.request.model"] == "local-chat"]
    assert duration_metric.unit == "s" and duration.count == 1 and duration.sum > 0
    assert list(duration.explicit_bounds)[:3] == [0.01, 0.02, 0.04]
    tokens = {p.attributes["gen_ai.token.type"]: (m, p) for m, p in points("gen_ai.client.token.usage")
              if p.attributes["gen_ai.request.model"] == "local-chat"}
    metric, input_point = tokens["input"]
    assert metric.unit == "{token}" and list(input_point.explicit_bounds)[:3] == [1, 4, 16]
    assert (input_point.count, input_point.sum, tokens["output"][1].sum) == (1, 10, 5)
    assert dict(input_point.attributes) == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "local", "gen_ai.request.model": "local-chat",
        "gen_ai.response.model": "local-chat", "server.address": "127.0.0.1", "server.port": port,
        "gen_ai.token.type": "input"}


def test_a_stream_span_ends_with_the_stream(make_client: Any, server: FakeProviderServer, spans: Any) -> None:
    client = make_client(telemetry=True)
    server.reply("a b c", usage=(3, 3))
    with client.stream("hi", model="local-chat") as s:
        next(s)
        assert spans.get_finished_spans() == ()  # still open while chunks arrive
        "".join(chunk.text for chunk in s)
    (span,) = spans.get_finished_spans()
    assert span.name == "chat local-chat"
    assert (span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"]) == (3, 3)


def test_an_embeddings_span(make_client: Any, server: FakeProviderServer, spans: Any) -> None:
    client = make_client(telemetry=True)
    result = client.embed(["a", "b"], model="local-embed")
    (span,) = spans.get_finished_spans()
    assert span.name == "embeddings local-embed"
    assert span.attributes["gen_ai.operation.name"] == "embeddings"
    assert span.attributes["gen_ai.usage.input_tokens"] == result.usage.input_tokens
    assert "gen_ai.usage.output_tokens" not in span.attributes
    assert "gen_ai.embeddings.dimension.count" not in span.attributes  # not asked for


def test_an_embeddings_span_names_the_dimensions_and_format_asked_for(make_client: Any, server: FakeProviderServer,
                                                                      spans: Any) -> None:
    """As the conventions' embeddings span recommends (and opentelemetry-instrumentation-openai sets)."""
    client = make_client(telemetry=True)
    client.embed(["a"], model="local-embed", dimensions=8, encoding_format="float")
    (span,) = spans.get_finished_spans()
    assert span.attributes["gen_ai.embeddings.dimension.count"] == 8
    assert list(span.attributes["gen_ai.request.encoding_formats"]) == ["float"]


def test_retries_are_span_events(make_client: Any, server: FakeProviderServer, spans: Any) -> None:
    client = make_client(telemetry=True, max_retries=2)
    server.fail(503, times=2)
    client.complete("hi", model="local-chat")
    (span,) = spans.get_finished_spans()
    retries = [e for e in span.events if e.name == "pepperpy.retry"]
    assert [(e.attributes["pepperpy.attempt"], e.attributes["pepperpy.retry.wait"]) for e in retries] == [
        (1, 0.5), (2, 1.0)]
    assert retries[0].attributes["error.type"] == "pepperpy.errors.ProviderUnavailableError"
    assert span.status.status_code == StatusCode.UNSET  # the call succeeded in the end


def test_a_fallback_is_a_span_event_and_the_answering_provider_is_named(
        make_client: Any, server: FakeProviderServer, backup_server: FakeProviderServer, spans: Any) -> None:
    client = make_client(telemetry=True, max_retries=0)
    server.fail(500)
    client.complete("hi", model="local-chat", fallbacks=["backup-chat"])
    (span,) = spans.get_finished_spans()
    (event,) = [e for e in span.events if e.name == "pepperpy.fallback"]
    assert dict(event.attributes) == {"pepperpy.fallback.from": "local/local-chat",
                                      "pepperpy.fallback.to": "backup-chat",
                                      "error.type": "pepperpy.errors.ProviderUnavailableError"}
    assert span.name == "chat local-chat" and span.attributes["gen_ai.request.model"] == "local-chat"
    assert span.attributes["gen_ai.provider.name"] == "backup"
    assert span.attributes["gen_ai.response.model"] == "backup-chat"


def test_a_failed_call_has_error_type_and_status(make_client: Any, server: FakeProviderServer, spans: Any) -> None:
    client = make_client(telemetry=True, max_retries=0)
    server.fail(400)
    with pytest.raises(pepperpy.InvalidRequestError):
        client.complete("hi", model="local-chat")
    (span,) = spans.get_finished_spans()
    assert span.attributes["error.type"] == "pepperpy.errors.InvalidRequestError"
    assert span.status.status_code == StatusCode.ERROR
    failed = [p for _, p in points("gen_ai.client.operation.duration")
              if p.attributes.get("error.type") == "pepperpy.errors.InvalidRequestError"]
    assert len(failed) == 1 and failed[0].count == 1


def test_cache_hits_are_marked(make_client: Any, server: FakeProviderServer, spans: Any) -> None:
    client = make_client(telemetry=True, cache=True)
    client.complete("hi", model="local-chat")
    client.complete("hi", model="local-chat")
    first, second = spans.get_finished_spans()
    assert "pepperpy.cache_hit" not in first.attributes
    assert second.attributes["pepperpy.cache_hit"] is True
    assert [e.name for e in second.events] == ["pepperpy.cache_hit"]


def test_content_only_with_log_content(make_client: Any, server: FakeProviderServer, spans: Any) -> None:
    client = make_client(telemetry=True, log_content=True)
    client.complete("What is 2+2?", model="local-chat", system="Be brief.")
    (span,) = spans.get_finished_spans()
    assert json.loads(span.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "What is 2+2?"}]}]
    assert json.loads(span.attributes["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "echo: What is 2+2?"}], "finish_reason": "stop"}]


def test_well_known_provider_names(server: FakeProviderServer, spans: Any) -> None:
    client = pepperpy.Client(env_file=None, telemetry=True, api_keys={"gemini": "AIza-test-key-0000000000000000"},
                             providers={"gemini": {"base_url": server.base_url("gemini")}})
    client.complete("hi", model="gemini/" + client.models(provider="gemini", mode="chat")[0].id)
    (span,) = spans.get_finished_spans()
    assert span.attributes["gen_ai.provider.name"] == "gcp.gemini"


def test_the_environment_variable_turns_it_on(make_client: Any, server: FakeProviderServer, spans: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_TELEMETRY", "1")
    make_client().complete("hi", model="local-chat")
    make_client(telemetry=False).complete("hi", model="local-chat")  # the option wins over the variable
    assert len(spans.get_finished_spans()) == 1
    monkeypatch.setenv("PEPPERPY_TELEMETRY", "maybe")
    with pytest.raises(pepperpy.ConfigurationError, match="PEPPERPY_TELEMETRY='maybe'"):
        make_client()


def test_without_opentelemetry_a_clear_error(make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # as if it were not installed
    with pytest.raises(pepperpy.ConfigurationError, match=r'pip install "pepperpy\[telemetry\]"'):
        make_client(telemetry=True)


def test_off_by_default_and_never_imported(local_catalog: Any) -> None:
    code = ("import sys, pepperpy\n"
            f"c = pepperpy.Client(catalog={str(local_catalog)!r}, env_file=None)\n"
            "assert c.usage().total.calls == 0\n"
            "print('opentelemetry' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("mode", ["blocking", "async"])
def test_a_call_that_failed_leaves_no_span_current(mode: str, make_client: Any, server: FakeProviderServer,
                                                    spans: Any) -> None:
    """A failed call ends its span before it returns; it must still restore the caller's context, or every
    later call of that thread (or task) becomes a child of the finished, failed span."""
    client = make_client(telemetry=True, max_retries=0, budget=0.001)

    def attempts() -> list[str]:
        outcomes = []
        server.fail(400)
        for kwargs in ({"max_tokens": 10}, {"max_tokens": 1000}):  # a provider's 400; a refusal by the budget
            try:
                client.complete("hi", model="local-chat", **kwargs)
            except pepperpy.PepperpyError as exc:
                outcomes.append(type(exc).__name__)
        assert not otel_trace.get_current_span().get_span_context().is_valid
        client.complete("hi", model="local-chat", max_tokens=10)
        return outcomes

    async def attempts_awaited() -> list[str]:
        outcomes = []
        server.fail(400)
        for kwargs in ({"max_tokens": 10}, {"max_tokens": 1000}):
            try:
                await client.acomplete("hi", model="local-chat", **kwargs)
            except pepperpy.PepperpyError as exc:
                outcomes.append(type(exc).__name__)
        assert not otel_trace.get_current_span().get_span_context().is_valid
        await client.acomplete("hi", model="local-chat", max_tokens=10)
        return outcomes

    import asyncio

    outcomes = attempts() if mode == "blocking" else asyncio.run(attempts_awaited())
    assert outcomes == ["InvalidRequestError", "BudgetExceededError"]
    finished = spans.get_finished_spans()
    assert len(finished) == 3 and all(span.parent is None for span in finished)
