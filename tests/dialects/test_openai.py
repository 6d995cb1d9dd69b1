"""The OpenAI dialect: bodies, responses, the verbatim stream sample, embeddings, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses

import pepperpy
from pepperpy.dialects.openai import DIALECT
from pepperpy.http.transport import iter_sse

# Verbatim from PROTOCOLS.md (openai-python .inline-snapshot); the elided chunks are filled in.
SAMPLE = (
    b'data: {"id":"chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL","object":"chat.completion.chunk","created":1727346168,'
    b'"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"role":'
    b'"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}\n\n'
    b'data: {"id":"chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL","object":"chat.completion.chunk","created":1727346168,'
    b'"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"content":'
    b'"I\'m"},"logprobs":null,"finish_reason":null}]}\n\n'
    b'data: {"id":"chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL","object":"chat.completion.chunk","choices":[{"index":0,'
    b'"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\n'
    b'data: {"id":"chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL","object":"chat.completion.chunk","choices":[],"usage":'
    b'{"prompt_tokens":14,"completion_tokens":30,"total_tokens":44,"completion_tokens_details":'
    b'{"reasoning_tokens":0}}}\n\n'
    b"data: [DONE]\n\n"
)
KEY = "sk-test-openai-0123456789"


@pytest.fixture
def client() -> pepperpy.Client:
    return pepperpy.Client(env_file=None, api_keys={"openai": KEY}, max_retries=0)


def spec(client: pepperpy.Client, name: str = "gpt-4o") -> pepperpy.ModelSpec:
    return client.model(name)


def test_verbatim_stream_sample(client: pepperpy.Client) -> None:
    parser = DIALECT.stream_parser(spec(client))
    chunks = [c for e, d in iter_sse([SAMPLE]) if (c := parser.feed(e, d)) is not None]
    assert "".join(c.text for c in chunks) == "I'm"
    assert chunks[-2].finish_reason == "stop"
    usage = chunks[-1].usage
    assert usage is not None and (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (14, 30, 44)
    assert parser.done


def test_tool_call_deltas_accumulate_by_index(client: pepperpy.Client) -> None:
    parser = DIALECT.stream_parser(spec(client))
    events = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                                            "function": {"name": "get_weather", "arguments": ""}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\""}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": "city\": \"Paris\"}"}}]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]
    last = None
    for event in events:
        last = parser.feed("message", json.dumps(event).encode()) or last
    assert last is not None and last.finish_reason == "tool_calls"
    assert last.tool_calls[0].name == "get_weather" and dict(last.tool_calls[0].arguments) == {"city": "Paris"}


def run_events(client: pepperpy.Client, events: list[dict[str, object]]) -> pepperpy.Completion:
    parser = DIALECT.stream_parser(spec(client))
    chunks = [c for e in events if (c := parser.feed("message", json.dumps(e).encode())) is not None]
    assert parser.feed("message", b"[DONE]") is None and parser.done
    return pepperpy.Stream(iter(chunks), model="gpt-4o", provider="openai").completion


def test_tool_call_deltas_without_index_are_told_apart_by_id(client: pepperpy.Client) -> None:
    # Mistral streams whole calls and may omit `index` (mistralai ToolCall.index is NotRequired)
    calls = [{"id": "a1", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
             {"id": "b2", "function": {"name": "get_time", "arguments": '{"tz": '}},
             {"function": {"arguments": '"CET"}'}}]  # a fragment without id continues the last call
    events: list[dict[str, object]] = [{"choices": [{"index": 0, "delta": {"tool_calls": [c]}}]} for c in calls]
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    assert [(t.id, t.name, dict(t.arguments)) for t in run_events(client, events).tool_calls] == [
        ("a1", "get_weather", {"city": "Paris"}), ("b2", "get_time", {"tz": "CET"})]


def test_stream_reads_choice_0_only(client: pepperpy.Client) -> None:
    completion = run_events(client, [
        {"choices": [{"index": 0, "delta": {"content": "A"}, "finish_reason": None}]},
        {"choices": [{"index": 1, "delta": {"content": "B"}, "finish_reason": None}]},
        {"choices": [{"index": 1, "delta": {}, "finish_reason": "length"}, {"index": 0, "delta": {"content": "C"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}])
    assert (completion.text, completion.finish_reason) == ("AC", "stop")


def test_refusal_is_the_text_and_a_content_filter_finish(client: pepperpy.Client) -> None:
    completion = run_events(client, [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": None, "refusal": ""}}]},
        {"choices": [{"index": 0, "delta": {"refusal": "I'm sorry"}}]},
        {"choices": [{"index": 0, "delta": {"refusal": ", no."}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}])
    assert (completion.text, completion.finish_reason) == ("I'm sorry, no.", "content_filter")
    payload = {"id": "x", "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": None, "refusal": "I can't help with that."}}]}
    r = DIALECT.parse_chat(payload, spec(client))
    assert (r.text, r.finish_reason) == ("I can't help with that.", "content_filter")


def test_mid_stream_error_event_raises_typed_error(client: pepperpy.Client) -> None:
    parser = DIALECT.stream_parser(spec(client))
    with pytest.raises(pepperpy.ProviderUnavailableError):
        parser.feed("message", b'{"error":{"message":"overloaded","type":"server_error","code":"server_error"}}')


def test_openrouter_error_chunk_with_string_code(client: pepperpy.Client) -> None:
    parser = DIALECT.stream_parser(spec(client))
    event = (b'{"id":"cmpl-abc123","object":"chat.completion.chunk","created":1,"model":"m","provider":"p",'
             b'"error":{"code":"server_error","message":"Provider disconnected unexpectedly"},'
             b'"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}')
    with pytest.raises(pepperpy.ProviderError, match="Provider disconnected"):
        parser.feed("message", event)


@responses.activate
def test_complete_sends_the_right_request(client: pepperpy.Client) -> None:
    responses.post("https://api.openai.com/v1/chat/completions", json={
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12,
                  "prompt_tokens_details": {"cached_tokens": 4}}})
    r = client.complete("Hi", model="gpt-4o", system="Be brief", temperature=0.2, max_tokens=50, stop="\n",
                        seed=7)
    sent = responses.calls[0].request
    body = json.loads(sent.body or b"{}")
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert body == {"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief"},
                                                     {"role": "user", "content": "Hi"}],
                    "temperature": 0.2, "max_completion_tokens": 50, "stop": ["\n"], "seed": 7}
    assert (r.text, str(r), r.finish_reason, r.provider, r.model) == ("Hello!", "Hello!", "stop", "openai", "gpt-4o")
    assert (r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens, r.usage.cached_tokens) == (10, 2, 12, 4)
    pricing = client.model("gpt-4o").pricing
    assert pricing is not None and pricing.cached_input is not None
    expected = (6 * pricing.input + 4 * pricing.cached_input + 2 * pricing.output) / 1e6
    assert r.cost == pytest.approx(expected)
    assert r.cached is False and r.raw["id"] == "chatcmpl-1"


@responses.activate
def test_embeddings_ask_for_floats_and_keep_order(client: pepperpy.Client) -> None:
    responses.post("https://api.openai.com/v1/embeddings", json={
        "object": "list", "model": "text-embedding-3-small", "usage": {"prompt_tokens": 4, "total_tokens": 4},
        "data": [{"object": "embedding", "index": 1, "embedding": [0.3, 0.4]},
                 {"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}]})
    e = client.embed(["a", "b"], model="text-embedding-3-small", dimensions=2)
    body = json.loads(responses.calls[0].request.body or b"{}")
    assert body == {"model": "text-embedding-3-small", "input": ["a", "b"], "encoding_format": "float",
                    "dimensions": 2}
    assert e.vectors == [[0.1, 0.2], [0.3, 0.4]] and e.usage.input_tokens == 4 and len(e) == 2


@responses.activate
@pytest.mark.parametrize(("status", "body", "cls"), [
    (401, {"error": {"message": f"Incorrect API key provided: {KEY}", "type": "invalid_request_error",
                     "code": "invalid_api_key"}}, pepperpy.AuthenticationError),
    (429, {"error": {"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}},
     pepperpy.RateLimitError),
    (400, {"error": {"message": "maximum context length", "code": "context_length_exceeded"}},
     pepperpy.ContextLengthError),
    (404, {"error": {"message": "The model does not exist", "code": "model_not_found"}},
     pepperpy.InvalidRequestError),
    (503, {"error": {"message": "busy", "type": "server_error"}}, pepperpy.ProviderUnavailableError),
])
def test_error_answers(client: pepperpy.Client, status: int, body: dict[str, object], cls: type) -> None:
    responses.post("https://api.openai.com/v1/chat/completions", json=body, status=status,
                   headers={"x-request-id": "req_42"})
    with pytest.raises(cls) as info:
        client.complete("Hi", model="gpt-4o")
    err = info.value
    assert err.status_code == status and err.request_id == "req_42" and err.provider == "openai"
    assert KEY not in str(err) and KEY not in repr(err) and KEY not in json.dumps(err.details)


def test_yaml_only_provider_serves_complete_stream_and_embed(tmp_path: Path, server: object,
                                                             local_catalog: Path) -> None:
    with pepperpy.Client(catalog=local_catalog, env_file=None) as c:
        r = c.complete("hello there", model="local-chat")
        assert r.text == "echo: hello there" and r.provider == "local" and r.usage.total_tokens > 0
        assert r.cost is not None and r.cost > 0
        with c.stream("stream me", model="lc") as s:
            text = "".join(ch.text for ch in s)
        assert text == "echo: stream me" and s.completion.text == text
        assert s.completion.usage.output_tokens > 0 and s.completion.finish_reason == "stop"
        e = c.embed(["a", "b"], model="local/local-embed")
        assert len(e.vectors) == 2 and len(e.vectors[0]) == 8
