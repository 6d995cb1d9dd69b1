"""The anthropic dialect: pure request/response/stream tests, `responses` tests through the Client, and
loopback tests against the fake server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

import pepperpy
from pepperpy import errors
from pepperpy.dialects.anthropic import DIALECT, AnthropicStreamParser
from pepperpy.http.transport import iter_sse
from pepperpy.observe.pricing import charge  # dialects price nothing: the ledger does
from pepperpy.testing import FakeProviderServer, Fault
from pepperpy.types import ModelSpec, Pricing, ProviderSpec, Usage
from tests.conftest import write_provider

KEY = "sk-ant-test-key-123456"
URL = "https://api.anthropic.com/v1/messages"
MODEL = ModelSpec(id="claude-test", provider="anthropic", max_output_tokens=64000,
                  pricing=Pricing(input=1.0, output=5.0, cached_input=0.1))
PROVIDER = ProviderSpec(name="anthropic", dialect="anthropic", base_url="https://api.anthropic.com")

# Verbatim from PROTOCOLS.md (anthropic-sdk tests/lib/streaming/fixtures/basic_response.txt).
BASIC_STREAM = b"""event: message_start
data: {"type":"message_start","message":{"id":"msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK","type":"message","role":"assistant","content":[],"model":"claude-3-opus-latest","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":6}}

event: message_stop
data: {"type":"message_stop"}

"""  # noqa: E501 (verbatim)
ERROR_EVENT = (b'event: error\n'
               b'data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n')

TOOL_STREAM = b"""event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-test","usage":{"input_tokens":20,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants weather."}}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking."}}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\": \\"Pa"}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"ris\\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":2}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}

event: message_stop
data: {"type":"message_stop"}

"""  # noqa: E501

WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                                                 "parameters": {"type": "object",
                                                                "properties": {"city": {"type": "string"}}}}}


def body_of(messages: list[dict[str, Any]], model: ModelSpec = MODEL, stream: bool = False,
            **params: Any) -> dict[str, Any]:
    request = DIALECT.build_chat(PROVIDER, model, messages, params, stream=stream)
    assert request.method == "POST" and request.path == "/v1/messages"
    assert isinstance(request.json, dict)
    return request.json


def run_stream(raw: bytes, model: ModelSpec = MODEL) -> tuple[list[pepperpy.Chunk], AnthropicStreamParser]:
    parser = AnthropicStreamParser(model)
    chunks = [c for event, data in iter_sse([raw]) if (c := parser.feed(event, data)) is not None]
    return chunks, parser


# --------------------------------------------------------------------------- build_chat

def test_system_and_developer_turns_are_top_level_and_max_tokens_defaults() -> None:
    body = body_of([{"role": "system", "content": "Be brief."}, {"role": "developer", "content": "Use French."},
                    {"role": "user", "content": "Hi"}])
    assert body == {"model": "claude-test", "system": "Be brief.\n\nUse French.",
                    "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4096}


@pytest.mark.parametrize(("limit", "expected"), [(None, 4096), (1024, 1024), (128000, 4096)])
def test_max_tokens_default_is_capped_by_the_model(limit: int | None, expected: int) -> None:
    model = ModelSpec(id="m", provider="anthropic", max_output_tokens=limit)
    assert body_of([{"role": "user", "content": "Hi"}], model)["max_tokens"] == expected


def test_params_stop_sequences_sampling_and_passthrough() -> None:
    body = body_of([{"role": "user", "content": "Hi"}], stream=True, max_tokens=50, stop=["END"], temperature=0.2,
                   top_p=0.9, top_k=40, metadata={"user_id": "u1"})
    assert body["max_tokens"] == 50 and body["stop_sequences"] == ["END"] and "stop" not in body
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.2, 0.9, 40)
    assert body["metadata"] == {"user_id": "u1"} and body["stream"] is True
    assert body_of([{"role": "user", "content": "Hi"}], stop="###")["stop_sequences"] == ["###"]


def test_system_blocks_with_cache_control_stay_blocks() -> None:
    block = {"type": "text", "text": "Long context", "cache_control": {"type": "ephemeral"}}
    body = body_of([{"role": "system", "content": [block]}, {"role": "user", "content": "Hi"}])
    assert body["system"] == [block]


def test_openai_tools_and_tool_choice_are_converted() -> None:
    native = {"name": "native", "input_schema": {"type": "object"}}
    body = body_of([{"role": "user", "content": "Weather?"}], tools=[WEATHER_TOOL, native],
                   tool_choice={"type": "function", "function": {"name": "get_weather"}})
    assert body["tools"] == [{"name": "get_weather", "description": "Weather of a city",
                              "input_schema": WEATHER_TOOL["function"]["parameters"]}, native]  # type: ignore[index]
    assert body["tool_choice"] == {"type": "tool", "name": "get_weather"}
    assert body_of([{"role": "user", "content": "x"}], tool_choice="required")["tool_choice"] == {"type": "any"}


def test_tool_calls_and_results_become_blocks_and_consecutive_results_merge() -> None:
    calls = [{"id": f"toolu_{i}", "type": "function", "function": {"name": "get_weather", "arguments": args}}
             for i, args in ((1, '{"city":"Paris"}'), (2, '{"city":"Rome"}'))]
    body = body_of([
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": calls},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": "24C"},
        {"role": "user", "content": "Thanks"},
    ])
    assert body["messages"] == [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                                     {"type": "tool_result", "tool_use_id": "toolu_2", "content": "24C"}]},
        {"role": "user", "content": "Thanks"},
    ]


def test_image_parts_become_image_blocks() -> None:
    content = [{"type": "text", "text": "What is this?"},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0"}},
               {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]
    blocks = body_of([{"role": "user", "content": content}])["messages"][0]["content"]
    assert blocks == [{"type": "text", "text": "What is this?"},
                      {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0"}},
                      {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}]


def test_headers_carry_key_and_default_version_without_overriding_the_catalog() -> None:
    from pepperpy.config import Settings

    settings = Settings(env_file=None)
    assert DIALECT.headers(PROVIDER, KEY, settings) == {"anthropic-version": "2023-06-01", "x-api-key": KEY}
    pinned = ProviderSpec(name="a", dialect="anthropic", base_url="x", headers={"Anthropic-Version": "2099-01-01"})
    assert DIALECT.headers(pinned, None, settings) == {"Anthropic-Version": "2099-01-01"}


def test_embeddings_are_refused_with_a_pointer_elsewhere() -> None:
    with pytest.raises(errors.InvalidRequestError, match=r"Anthropic has no embeddings API.*gemini-embedding"):
        DIALECT.build_embed(PROVIDER, MODEL, ["a"], {})
    assert DIALECT.supports_embeddings is False


# --------------------------------------------------------------------------- parse_chat

def test_parse_chat_text_tools_usage_cache_and_cost() -> None:
    payload = {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-test",
               "content": [{"type": "thinking", "thinking": "hmm", "signature": "sig"},
                           {"type": "text", "text": "Hello "}, {"type": "text", "text": "there"},
                           {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"x": 1}}],
               "stop_reason": "tool_use",
               "usage": {"input_tokens": 10, "output_tokens": 20, "cache_creation_input_tokens": 30,
                         "cache_read_input_tokens": 1000}}
    r = DIALECT.parse_chat(payload, MODEL)
    assert (r.text, r.finish_reason, r.request_id, r.provider, r.model) == (
        "Hello there", "tool_calls", "msg_01", "anthropic", "claude-test")
    assert [(t.id, t.name, dict(t.arguments)) for t in r.tool_calls] == [("toolu_1", "f", {"x": 1})]
    assert r.usage == Usage(1040, 20, 1060, cached_tokens=1000)
    assert r.cost is None and charge(MODEL, r) == pytest.approx((40 * 1.0 + 1000 * 0.1 + 20 * 5.0) / 1e6)


@pytest.mark.parametrize(("reason", "expected"), [
    ("end_turn", "stop"), ("stop_sequence", "stop"), ("pause_turn", "stop"), ("max_tokens", "length"),
    ("tool_use", "tool_calls"), ("refusal", "content_filter"), (None, None)])
def test_stop_reason_is_normalised(reason: str | None, expected: str | None) -> None:
    payload = {"content": [{"type": "text", "text": "x"}], "stop_reason": reason, "usage": {}}
    assert DIALECT.parse_chat(payload, MODEL).finish_reason == expected


def test_error_body_with_200_raises_typed_error() -> None:
    with pytest.raises(errors.ProviderUnavailableError):
        DIALECT.parse_chat({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, MODEL)


# --------------------------------------------------------------------------- stream parser

def test_verbatim_stream_sample() -> None:
    chunks, parser = run_stream(BASIC_STREAM)
    assert parser.done
    assert [c.text for c in chunks] == ["Hello", ""]
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage == Usage(11, 6)


def test_stream_split_at_every_byte_gives_the_same_chunks() -> None:
    parser = AnthropicStreamParser(MODEL)
    pieces = [BASIC_STREAM[i:i + 1] for i in range(len(BASIC_STREAM))]
    chunks = [c for e, d in iter_sse(pieces) if (c := parser.feed(e, d)) is not None]
    assert [c.text for c in chunks] == ["Hello", ""] and parser.done


def test_stream_tool_input_accumulates_thinking_skipped_cache_counted() -> None:
    chunks, parser = run_stream(TOOL_STREAM)
    assert parser.done
    assert "".join(c.text for c in chunks) == "Checking."
    last = chunks[-1]
    assert last.finish_reason == "tool_calls"
    assert [(t.id, t.name, dict(t.arguments)) for t in last.tool_calls] == [("toolu_01", "get_weather",
                                                                             {"city": "Paris"})]
    assert last.usage == Usage(125, 42, cached_tokens=100)


def test_stream_error_event_raises_typed_error() -> None:
    with pytest.raises(errors.ProviderUnavailableError, match="Overloaded") as info:
        run_stream(BASIC_STREAM.split(b"event: message_delta")[0] + ERROR_EVENT)
    assert info.value.provider == "anthropic" and info.value.retryable


@pytest.mark.parametrize(("kind", "cls"), [("rate_limit_error", errors.RateLimitError),
                                          ("api_error", errors.ProviderUnavailableError),
                                          ("authentication_error", errors.AuthenticationError)])
def test_other_mid_stream_error_types(kind: str, cls: type[errors.ProviderError]) -> None:
    event = b'event: error\ndata: {"type": "error", "error": {"type": "%s", "message": "m"}}\n\n' % kind.encode()
    with pytest.raises(cls):
        run_stream(event)


def test_stream_events_without_event_lines_use_the_type_field() -> None:
    raw = b"".join(b"data: " + line[6:] + b"\n\n" for line in BASIC_STREAM.splitlines() if line.startswith(b"data: "))
    chunks, parser = run_stream(raw)
    assert parser.done and chunks[0].text == "Hello"


def test_message_delta_usage_merges_field_by_field() -> None:
    # anthropic-sdk-python accumulate_event: a None (or missing) field keeps what message_start said
    start = (b'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":13,'
             b'"cache_read_input_tokens":22000,"cache_creation_input_tokens":31,"output_tokens":1}}}\n\n')
    for usage in (b'{"input_tokens":null,"output_tokens":4,"cache_read_input_tokens":null,'
                  b'"cache_creation_input_tokens":null}', b'{"input_tokens":13,"output_tokens":4}'):
        delta = (b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
                 b'"usage":' + usage + b'}\n\n')
        chunks, _ = run_stream(start + delta)
        assert chunks[-1].usage == Usage(13 + 22000 + 31, 4, cached_tokens=22000)


def test_thinking_tokens_are_reasoning_tokens() -> None:
    usage = {"input_tokens": 5, "output_tokens": 50, "output_tokens_details": {"thinking_tokens": 30}}
    payload = {"content": [{"type": "text", "text": "x"}], "stop_reason": "end_turn", "usage": usage}
    assert DIALECT.parse_chat(payload, MODEL).usage == Usage(5, 50, reasoning_tokens=30)


SIGNED_TOOL_STREAM = TOOL_STREAM.replace(
    b"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1",
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta",'
    b'"signature":"SIG123"}}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":1', 1)


def test_stream_raw_is_the_accumulated_message_with_thinking_and_tool_use() -> None:
    assert SIGNED_TOOL_STREAM != TOOL_STREAM
    chunks, _ = run_stream(SIGNED_TOOL_STREAM)
    stream = pepperpy.Stream(iter(chunks), model="claude-test", provider="anthropic", spec=MODEL)
    completion = stream.completion
    assert completion.raw == {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [{"type": "thinking", "thinking": "The user wants weather.", "signature": "SIG123"},
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}],
        "stop_reason": "tool_use", "stop_sequence": None,
        "usage": {"input_tokens": 20, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 100,
                  "output_tokens": 42}}
    assert completion.text == "Checking." and completion.finish_reason == "tool_calls"


def test_native_assistant_blocks_are_replayed_unchanged_before_tool_calls() -> None:
    chunks, _ = run_stream(SIGNED_TOOL_STREAM)
    content = chunks[-1].raw["content"]
    call = {"id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    other = {"id": "toolu_02", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
    body = body_of([{"role": "user", "content": "Weather?"},
                    {"role": "assistant", "content": content, "tool_calls": [call, other]},
                    {"role": "tool", "tool_call_id": "toolu_01", "content": "18C"}])
    assert body["messages"][1] == {"role": "assistant", "content": [
        *content, {"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}}]}  # toolu_01 once
    replay = body_of([{"role": "assistant", "content": [{"type": "redacted_thinking", "data": "abc"}, *content]}])
    assert replay["messages"] == [{"role": "assistant", "content": [{"type": "redacted_thinking", "data": "abc"},
                                                                   *content]}]


def test_parallel_tool_calls_false_disables_parallel_tool_use() -> None:
    user = [{"role": "user", "content": "Weather?"}]
    body = body_of(user, tools=[WEATHER_TOOL], parallel_tool_calls=False)
    assert "parallel_tool_calls" not in body
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    named = body_of(user, tools=[WEATHER_TOOL], parallel_tool_calls=False,
                    tool_choice={"type": "function", "function": {"name": "get_weather"}})
    assert named["tool_choice"] == {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True}
    assert body_of(user, tools=[WEATHER_TOOL], parallel_tool_calls=False, tool_choice="none")["tool_choice"] == {
        "type": "none"}
    assert "tool_choice" not in body_of(user, tools=[WEATHER_TOOL], parallel_tool_calls=True)
    assert "tool_choice" not in body_of(user, parallel_tool_calls=False)  # no tools: nothing to choose


def test_response_format_becomes_output_config_format() -> None:
    user = [{"role": "user", "content": "Name?"}]
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "additionalProperties": False}
    body = body_of(user, response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
                   output_config={"effort": "low"})
    assert "response_format" not in body
    assert body["output_config"] == {"effort": "low", "format": {"type": "json_schema", "schema": schema}}
    assert "output_config" not in body_of(user, response_format={"type": "text"})
    with pytest.raises(errors.ValidationError, match="json_schema"):
        body_of(user, response_format={"type": "json_object"})


# --------------------------------------------------------------------------- through the Client (responses)

@pytest.fixture
def anthropic_client() -> Iterator[pepperpy.Client]:
    with pepperpy.Client(api_keys={"anthropic": KEY}, env_file=None, max_retries=0) as client:
        yield client


MESSAGE = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
           "content": [{"type": "text", "text": "Hi!"}], "stop_reason": "end_turn",
           "usage": {"input_tokens": 5, "output_tokens": 2}}


@responses.activate
def test_client_sends_the_exact_request(anthropic_client: pepperpy.Client) -> None:
    responses.post(URL, json=MESSAGE)
    r = anthropic_client.complete("Hello", model="claude-haiku-4-5", system="Be kind.", temperature=0.5, stop="\n\n")
    assert r.text == "Hi!" and r.finish_reason == "stop" and r.usage.total_tokens == 7
    assert r.cost == pytest.approx((5 * 1.0 + 2 * 5.0) / 1e6)
    sent = responses.calls[0].request
    assert sent.url == URL
    assert sent.headers["x-api-key"] == KEY and sent.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in {k.lower() for k in sent.headers}
    assert json.loads(sent.body) == {"model": "claude-haiku-4-5", "system": "Be kind.",
                                     "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 4096,
                                     "temperature": 0.5, "stop_sequences": ["\n\n"]}


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}


@pytest.mark.parametrize(("status", "kind", "message", "cls"), [
    (400, "invalid_request_error", "prompt is too long: 205000 tokens > 200000 maximum", errors.ContextLengthError),
    (400, "invalid_request_error", "max_tokens: Field required", errors.InvalidRequestError),
    (401, "authentication_error", f"invalid x-api-key {KEY}", errors.AuthenticationError),
    (402, "billing_error", "Your credit balance is too low to access the Anthropic API.", errors.InvalidRequestError),
    (403, "permission_error", "Your API key does not have permission to use the specified resource.",
     errors.AuthenticationError),
    (404, "not_found_error", "model: claude-haiku-4-5", errors.InvalidRequestError),
    (413, "request_too_large", "Request exceeds the maximum allowed number of bytes.", errors.InvalidRequestError),
    (429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit.",
     errors.RateLimitError),
    (500, "api_error", "Internal server error", errors.ProviderUnavailableError),
    (529, "overloaded_error", "Overloaded", errors.ProviderUnavailableError),
])
@responses.activate
def test_error_bodies_map_to_typed_errors_without_the_key(anthropic_client: pepperpy.Client, status: int, kind: str,
                                                          message: str, cls: type[errors.ProviderError]) -> None:
    headers = {"request-id": "req_011", "retry-after": "3"}
    responses.post(URL, json=_error(kind, message), status=status, headers=headers)
    with pytest.raises(errors.ProviderError) as info:
        anthropic_client.complete("Hi", model="claude-haiku-4-5")
    err = info.value
    assert type(err) is cls
    assert err.status_code == status and err.provider == "anthropic" and err.request_id == "req_011"
    assert KEY not in str(err) and KEY not in repr(err) and KEY not in json.dumps(err.details)
    if cls is errors.AuthenticationError:
        assert "Client(api_keys={'anthropic': ...})" in str(err)  # the key was given in code
    if status == 402:
        assert "credit" in str(err).lower() and "billing" in str(err).lower()
    if cls in (errors.RateLimitError, errors.ProviderUnavailableError):
        assert err.retryable and err.retry_after == 3.0  # type: ignore[attr-defined]


def test_chat_models_refuse_embed_before_any_request(anthropic_client: pepperpy.Client) -> None:
    with pytest.raises(errors.ValidationError):
        anthropic_client.embed("x", model="claude-haiku-4-5")


# --------------------------------------------------------------------------- loopback (fake server)

LOCAL_MODELS = """\
- id: local-claude
  mode: chat
  context_window: 200000
  max_output_tokens: 1000
  capabilities: [streaming, tools, system_prompt]
  params: {temperature: {min: 0, max: 1}}
  pricing: {input: 1.0, output: 5.0}
  source: https://example.com/local
"""


@pytest.fixture
def localclaude(tmp_path: Path, server: FakeProviderServer) -> Iterator[pepperpy.Client]:
    """A local Anthropic-compatible server reached through a YAML file alone."""
    folder = write_provider(tmp_path / "catalog", "localclaude", "anthropic", server.base_url("anthropic"),
                            models=LOCAL_MODELS)
    with pepperpy.Client(catalog=folder, env_file=None, max_retries=0) as client:
        yield client


def test_local_anthropic_server_from_yaml_alone_complete_and_stream(localclaude: pepperpy.Client,
                                                                    server: FakeProviderServer) -> None:
    server.reply("Hello from local", usage=(9, 3))
    r = localclaude.complete("Hi", model="localclaude/local-claude", system="Be brief.")
    assert (r.text, r.finish_reason, r.usage.input_tokens, r.usage.output_tokens) == ("Hello from local", "stop", 9, 3)
    sent = server.requests[-1]
    assert sent.path == "/v1/messages" and "x-api-key" not in sent.headers
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.json["system"] == "Be brief." and sent.json["max_tokens"] == 1000

    server.reply(chunks=["Hel", "lo", "!"], usage=(4, 3))
    with localclaude.stream("Hi", model="local-claude", max_tokens=100) as s:
        assert [c.text for c in s if c.text] == ["Hel", "lo", "!"]
    assert s.completion.text == "Hello!" and s.completion.finish_reason == "stop"
    assert s.completion.usage == Usage(4, 3) and s.completion.cost == pytest.approx((4 + 15) / 1e6)
    assert s.completion.raw["content"] == [{"type": "text", "text": "Hello!"}]  # the whole Message
    assert server.requests[-1].json["stream"] is True


def test_packaged_provider_stream_with_tool_calls(server: FakeProviderServer) -> None:
    server.reply(tool_calls=[{"id": "toolu_9", "name": "get_weather", "arguments": {"city": "Paris"}}], usage=(8, 5))
    with pepperpy.Client(api_keys={"anthropic": KEY}, env_file=None, max_retries=0,
                         providers={"anthropic": {"base_url": server.base_url("anthropic")}}) as client:
        stream = client.stream("Weather?", model="claude-haiku-4-5", tools=[WEATHER_TOOL])
        completion = stream.completion
    assert completion.finish_reason == "tool_calls"
    assert [(t.id, t.name, dict(t.arguments)) for t in completion.tool_calls] == [("toolu_9", "get_weather",
                                                                                   {"city": "Paris"})]
    sent = server.requests[-1]
    assert sent.headers["x-api-key"] == KEY and sent.json["tools"][0]["name"] == "get_weather"


def test_mid_stream_error_event_raises_typed_error(localclaude: pepperpy.Client, server: FakeProviderServer) -> None:
    server.fault(Fault.stream_error(after=1, message="Overloaded"))  # streams the echo "echo: Hi"
    stream = localclaude.stream("Hi", model="local-claude")
    received: list[str] = []
    with pytest.raises(errors.ProviderUnavailableError, match="Overloaded"):
        for chunk in stream:
            received.append(chunk.text)
    assert "".join(received) == "echo: "


@pytest.mark.parametrize("clean", [True, False])
def test_stream_cut_before_message_stop_is_a_stream_error(localclaude: pepperpy.Client, server: FakeProviderServer,
                                                          clean: bool) -> None:
    server.fault(Fault.cut_stream(after=1, clean=clean))
    with pytest.raises(errors.StreamError):
        "".join(c.text for c in localclaude.stream("Hi", model="local-claude"))


def test_http_error_from_the_server_keeps_retry_after(localclaude: pepperpy.Client,
                                                      server: FakeProviderServer) -> None:
    server.fail(529, headers={"retry-after": "2"})
    with pytest.raises(errors.ProviderUnavailableError) as info:
        localclaude.complete("Hi", model="local-claude")
    assert info.value.status_code == 529 and info.value.retry_after == 2.0
