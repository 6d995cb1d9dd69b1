"""Client(telemetry=True) with media calls: a span per call, whatever the result type (Speech has no raw)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer

otel_trace = pytest.importorskip("opentelemetry.trace")
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel_trace.set_tracer_provider(provider)
    yield exporter


def test_media_calls_are_spans(make_client: Callable[..., pepperpy.Client], server: FakeProviderServer,
                               audio_file: Path, spans: InMemorySpanExporter) -> None:
    client = make_client(telemetry=True)
    client.generate_image("a kite", model="gpt-image-2.6-flare")
    client.synthesize("hi", model="gemini-3.8-flash-tts")
    client.transcribe(audio_file, model="gpt-transcribe")
    with client.synthesize_stream("a b", model="gemini-3.8-flash-tts") as audio:
        list(audio)
    finished = spans.get_finished_spans()
    assert [span.attributes["gen_ai.request.model"] for span in finished] == [
        "gpt-image-2.6-flare", "gemini-3.8-flash-tts", "gpt-transcribe", "gemini-3.8-flash-tts"]
    assert [span.attributes["gen_ai.operation.name"] for span in finished] == [
        "generate_image", "synthesize", "transcribe", "synthesize_stream"]
    assert finished[0].attributes["gen_ai.usage.input_tokens"] == 2
