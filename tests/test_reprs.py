"""Issue 11 item 10: reprs show shapes, not contents (as numpy and pandas do), and never a credential; the full
data stays in the attributes. A streamed OpenAI completion keeps the request id of the response headers, and
its ``raw`` is the whole answer gathered from the events, not the last event."""

from __future__ import annotations

from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer, Reply
from pepperpy.types import Chunk, Completion, Embeddings, ToolCall, ToolStep, Usage

LIMIT = 400  # characters: a repr that fits a couple of terminal lines


def test_embeddings_show_their_shape() -> None:
    vectors = [[0.123456789] * 640, [0.987654321] * 640]
    e = Embeddings(vectors, model="text-embedding-3-small", provider="openai", usage=Usage(4, 0), cost=1e-7,
                   raw={"data": [{"embedding": v} for v in vectors]})
    text = repr(e)
    assert len(text) < LIMIT and "2 vectors × 640 dims" in text and "0.123" not in text
    assert e.vectors is vectors and len(e[0]) == 640  # the data is all there


def test_a_completion_shows_the_start_of_its_text_and_no_raw() -> None:
    raw = {"choices": [{"message": {"content": "x" * 50_000}}], "secret_looking": "y" * 10_000}
    r = Completion(text="word " * 2_000, model="gpt-4o-mini", provider="openai", finish_reason="stop",
                   usage=Usage(10, 2_000), cost=0.0012, raw=raw, request_id="req_42",
                   tool_calls=(ToolCall("call_1", "weather", {"city": "Paris"}),))
    text = repr(r)
    assert len(text) < LIMIT, len(text)
    assert text.startswith("Completion(text='word word word") and "(10,000 chars)" in text
    assert "xxxxx" not in text and "yyyyy" not in text
    assert "tool_calls=[weather]" in text and "request_id='req_42'" in text
    assert r.raw is raw and len(r.text) == 10_000


def test_chunks_tool_steps_and_transcripts_are_short() -> None:
    from pepperpy.media import Segment, Transcription  # here: one failing test, not a failing module, before

    chunk = Chunk("Hel", raw={"choices": [{"delta": {"content": "Hel"}}], "padding": "p" * 5_000})
    assert repr(chunk) == "Chunk(text='Hel')"
    step = ToolStep("search", {"query": "q" * 5_000}, result=list(range(10_000)), seconds=0.25)
    assert len(repr(step)) < LIMIT and repr(step).startswith("ToolStep('search', arguments={'query': 'qqq")
    transcript = Transcription("said " * 20_000, model="whisper-1", provider="openai", duration=3600.0,
                               segments=tuple(Segment(i, i + 1.0, "said") for i in range(3_000)))
    assert len(repr(transcript)) < LIMIT and "segments=3000" in repr(transcript)


def test_specs_are_short_and_hold_no_credential() -> None:
    client = pepperpy.Client(env_file=None, providers={"openai": {
        "base_url": "https://user:hunter2-password@gateway.example/v1", "headers": {"api-key": "header-secret-1234"}}})
    provider = client.catalog.providers["openai"]
    text = repr(provider)
    assert len(text) < 200 and "hunter2" not in text and "header-secret" not in text
    assert text.startswith("ProviderSpec('openai', dialect='openai', base_url='https://***@gateway.example/v1'")
    model = repr(client.model("gpt-4o-mini"))
    assert len(model) < LIMIT and model.startswith("ModelSpec('openai/gpt-4o-mini', mode='chat'")


# --------------------------------------------------------------------------- a streamed OpenAI completion

@pytest.fixture
def client(server: FakeProviderServer) -> pepperpy.Client:
    return pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-reprs-1234"},
                           providers={"openai": {"base_url": server.base_url("openai")}})


def test_a_streamed_completion_keeps_the_request_id_and_the_whole_answer(client: pepperpy.Client,
                                                                         server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=["Hel", "lo ", "there"], usage=(3, 3)))
    with client.stream("hi", model="gpt-4o-mini") as stream:
        texts = [chunk.text for chunk in stream]
    r = stream.completion
    assert texts[:3] == ["Hel", "lo ", "there"]
    assert r.request_id is not None and r.request_id.startswith("req_")  # the x-request-id response header
    raw: dict[str, Any] = r.raw
    assert raw["object"] == "chat.completion" and raw["id"].startswith("chatcmpl-")
    assert raw["choices"][0]["message"] == {"role": "assistant", "content": "Hello there"}
    assert raw["choices"][0]["finish_reason"] == "stop"
    assert raw["usage"]["prompt_tokens"] == 3 and raw["usage"]["completion_tokens"] == 3
    assert len(repr(r)) < LIMIT


def test_a_streamed_tool_call_is_in_the_gathered_answer(client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply(Reply(tool_calls=[{"id": "call_7", "name": "weather", "arguments": {"city": "Paris"}}]))
    with client.stream("Weather in Paris?", model="gpt-4o-mini") as stream:
        for _ in stream:
            pass
    message = stream.completion.raw["choices"][0]["message"]
    assert message["tool_calls"] == [{"id": "call_7", "type": "function",
                                      "function": {"name": "weather", "arguments": '{"city":"Paris"}'}}]
    assert stream.completion.raw["choices"][0]["finish_reason"] == "tool_calls"
