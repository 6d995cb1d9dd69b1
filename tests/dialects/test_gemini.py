"""The gemini dialect: pure request/response/stream tests, `responses` tests through the Client, and
loopback tests against the fake server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses

import pepperpy
from pepperpy import errors
from pepperpy.dialects.gemini import DIALECT, SKIP_SIGNATURE, GeminiStreamParser
from pepperpy.http.transport import iter_sse
from pepperpy.observe.pricing import charge  # dialects price nothing: the ledger does
from pepperpy.testing import FakeProviderServer, Fault, embedding_vector
from pepperpy.types import ModelSpec, Pricing, ProviderSpec, Usage

KEY = "gm-test-key-7f3a9c2e1d"
BASE = "https://generativelanguage.googleapis.com/v1beta"
MODEL = ModelSpec(id="gemini-test", provider="gemini", max_output_tokens=65536,
                  pricing=Pricing(input=1.0, output=10.0, cached_input=0.1))
EMBED = ModelSpec(id="gemini-embedding-001", provider="gemini", mode="embedding", pricing=Pricing(0.15, 0))
PROVIDER = ProviderSpec(name="gemini", dialect="gemini", base_url=BASE)

# Real-shaped alt=sse stream (as generativelanguage sends it: CRLF CRLF between events, no [DONE]).
STREAM = (
    b'data: {"candidates": [{"content": {"parts": [{"text": "Thinking about it", "thought": true}],"role": "model"},'
    b'"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-test",'
    b'"responseId": "r1"}\r\n\r\n'
    b'data: {"candidates": [{"content": {"parts": [{"text": "Hello"}],"role": "model"},"index": 0}],'
    b'"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-test","responseId": "r1"}'
    b"\r\n\r\n"
    b'data: {"candidates": [{"content": {"parts": [{"text": " world"}],"role": "model"},"finishReason": "STOP",'
    b'"index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 2,"totalTokenCount": 16,'
    b'"thoughtsTokenCount": 5},"modelVersion": "gemini-test","responseId": "r1"}\r\n\r\n'
)
# Verbatim mid-stream error from PROTOCOLS.md.
ERROR_EVENT = b'data: {"error":{"code":500,"message":"Error","status":"INTERNAL"}}\r\n\r\n'

WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                                                 "parameters": {"type": "object",
                                                                "properties": {"city": {"type": "string"}}}}}


def request_of(messages: list[dict[str, Any]], stream: bool = False, **params: Any) -> Any:
    return DIALECT.build_chat(PROVIDER, MODEL, messages, params, stream=stream)


def body_of(messages: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
    body = request_of(messages, **params).json
    assert isinstance(body, dict)
    return body


def run_stream(raw: bytes) -> tuple[list[pepperpy.Chunk], GeminiStreamParser]:
    parser = GeminiStreamParser(MODEL)
    chunks = [c for event, data in iter_sse([raw]) if (c := parser.feed(event, data)) is not None]
    return chunks, parser


def response(parts: list[dict[str, Any]], finish: str | None = "STOP", **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1,
                                                         "totalTokenCount": 4}, "responseId": "resp-1", **extra}


# --------------------------------------------------------------------------- build_chat

def test_paths_system_instruction_roles_and_no_key_anywhere_in_the_request() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Bye"}]
    plain = request_of(messages)
    assert (plain.method, plain.path, plain.params) == ("POST", "/models/gemini-test:generateContent", None)
    assert plain.json == {"systemInstruction": {"parts": [{"text": "Be brief."}]},
                          "contents": [{"role": "user", "parts": [{"text": "Hi"}]},
                                       {"role": "model", "parts": [{"text": "Hello!"}]},
                                       {"role": "user", "parts": [{"text": "Bye"}]}]}
    streamed = request_of(messages, stream=True)
    assert (streamed.path, dict(streamed.params), streamed.stream) == (
        "/models/gemini-test:streamGenerateContent", {"alt": "sse"}, True)


def test_generation_config_mapping_and_top_level_passthrough() -> None:
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
    body = body_of([{"role": "user", "content": "Hi"}], temperature=0.3, top_p=0.8, top_k=20, max_tokens=99,
                   stop=["END"], seed=7, presence_penalty=0.1, frequency_penalty=0.2,
                   response_mime_type="application/json", response_schema={"type": "OBJECT"},
                   responseModalities=["TEXT"], safetySettings=safety, cachedContent="cachedContents/abc")
    assert body["generationConfig"] == {
        "temperature": 0.3, "topP": 0.8, "topK": 20, "maxOutputTokens": 99, "stopSequences": ["END"], "seed": 7,
        "presencePenalty": 0.1, "frequencyPenalty": 0.2, "responseMimeType": "application/json",
        "responseSchema": {"type": "OBJECT"}, "responseModalities": ["TEXT"]}
    assert body["safetySettings"] == safety and body["cachedContent"] == "cachedContents/abc"
    assert body_of([{"role": "user", "content": "x"}], stop="###")["generationConfig"] == {"stopSequences": ["###"]}


def test_openai_response_format_becomes_json_mime_type_and_schema() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    body = body_of([{"role": "user", "content": "x"}],
                   response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": schema}})
    assert body["generationConfig"] == {"responseMimeType": "application/json", "responseJsonSchema": schema}
    assert "response_format" not in body
    assert "generationConfig" not in body_of([{"role": "user", "content": "x"}], response_format={"type": "text"})


def test_openai_tools_become_function_declarations_and_native_tools_pass() -> None:
    body = body_of([{"role": "user", "content": "Weather?"}], tools=[WEATHER_TOOL, {"google_search": {}}],
                   tool_choice={"type": "function", "function": {"name": "get_weather"}})
    function = WEATHER_TOOL["function"]
    declaration = {"name": "get_weather", "description": "Weather of a city",
                   "parametersJsonSchema": function["parameters"]}  # type: ignore[index]
    assert body["tools"] == [{"functionDeclarations": [declaration]}, {"google_search": {}}]
    # JSON Schema keywords Gemini's OpenAPI `parameters` refuses stay out of it
    strict = {"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {}, "additionalProperties": False}}}
    assert body_of([{"role": "user", "content": "x"}], tools=[strict])["tools"] == [{"functionDeclarations": [
        {"name": "f", "parametersJsonSchema": strict["function"]["parameters"]}]}]  # type: ignore[index]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}
    assert body_of([{"role": "user", "content": "x"}], tool_choice="none")["toolConfig"] == {
        "functionCallingConfig": {"mode": "NONE"}}


def test_tool_calls_and_results_round_trip_with_signatures() -> None:
    calls = [{"id": "get_weather", "type": "function",
              "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
             {"id": "get_weather_1", "type": "function",
              "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}}]
    signed = [{"id": "c9", "type": "function", "function": {"name": "lookup", "arguments": "{}"},
               "extra_content": {"google": {"thought_signature": "real-sig"}}}]
    body = body_of([
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "get_weather", "content": '{"temp": 18}'},
        {"role": "tool", "tool_call_id": "get_weather_1", "content": "24C and sunny"},
        {"role": "assistant", "content": "", "tool_calls": signed},
        {"role": "tool", "tool_call_id": "c9", "content": "ok"},
    ])
    assert body["contents"][1:] == [
        {"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": SKIP_SIGNATURE},
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}]},
        {"role": "user", "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"temp": 18}}},
            {"functionResponse": {"name": "get_weather", "response": {"result": "24C and sunny"}}}]},
        {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {}},
                                     "thoughtSignature": "real-sig"}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "lookup", "response": {"result": "ok"}}}]},
    ]


def test_image_parts_become_inline_data() -> None:
    content = [{"type": "text", "text": "What is this?"},
               {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
               {"inlineData": {"mimeType": "audio/mp3", "data": "SUQz"}}]
    assert body_of([{"role": "user", "content": content}])["contents"][0]["parts"] == [
        {"text": "What is this?"}, {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
        {"inlineData": {"mimeType": "audio/mp3", "data": "SUQz"}}]


def test_headers_put_the_key_in_x_goog_api_key() -> None:
    from pepperpy.config import Settings

    assert DIALECT.headers(PROVIDER, KEY, Settings(env_file=None)) == {"x-goog-api-key": KEY}
    assert DIALECT.headers(PROVIDER, None, Settings(env_file=None)) == {}


# --------------------------------------------------------------------------- parse_chat

def test_parse_chat_text_thoughts_tools_usage_and_cost() -> None:
    payload = response([{"text": "I should call a tool", "thought": True}, {"text": "Sure. "},
                        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "s"},
                        {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}])
    payload["usageMetadata"] = {"promptTokenCount": 100, "candidatesTokenCount": 20, "thoughtsTokenCount": 30,
                                "cachedContentTokenCount": 60, "totalTokenCount": 150}
    r = DIALECT.parse_chat(payload, MODEL)
    assert (r.text, r.finish_reason, r.request_id) == ("Sure. ", "tool_calls", "resp-1")
    assert [(t.id, t.name, dict(t.arguments)) for t in r.tool_calls] == [
        ("get_weather", "get_weather", {"city": "Paris"}), ("get_weather_1", "get_weather", {"city": "Rome"})]
    assert r.usage == Usage(100, 50, 150, cached_tokens=60, reasoning_tokens=30)
    assert r.cost is None and charge(MODEL, r) == pytest.approx((40 * 1.0 + 60 * 0.1 + 50 * 10.0) / 1e6)


@pytest.mark.parametrize(("reason", "expected"), [
    ("STOP", "stop"), ("MAX_TOKENS", "length"), ("SAFETY", "content_filter"), ("RECITATION", "content_filter"),
    ("BLOCKLIST", "content_filter"), ("PROHIBITED_CONTENT", "content_filter"), ("MALFORMED_FUNCTION_CALL", "error"),
    ("IMAGE_PROHIBITED_CONTENT", "content_filter"), ("IMAGE_RECITATION", "content_filter"),
    ("MODEL_ARMOR", "content_filter"), ("IMAGE_OTHER", "error"), ("MISSING_THOUGHT_SIGNATURE", "error"),
    ("MALFORMED_RESPONSE", "error"), ("FINISH_REASON_UNSPECIFIED", None)])
def test_finish_reason_is_normalised(reason: str, expected: str | None) -> None:
    assert DIALECT.parse_chat(response([{"text": "x"}], reason), MODEL).finish_reason == expected


def test_safety_stop_without_text_is_an_answer_not_an_error() -> None:
    payload = {"candidates": [{"finishReason": "SAFETY", "index": 0,
                               "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH"}]}],
               "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5}}
    r = DIALECT.parse_chat(payload, MODEL)
    assert (r.text, r.finish_reason, r.usage.input_tokens) == ("", "content_filter", 5)


def test_blocked_prompt_raises_invalid_request_with_details() -> None:
    payload = {"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
               "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5}}
    with pytest.raises(errors.InvalidRequestError, match=r"Gemini blocked the prompt \(SAFETY\)") as info:
        DIALECT.parse_chat(payload, MODEL)
    assert info.value.details == payload and info.value.provider == "gemini" and info.value.model == "gemini-test"


# --------------------------------------------------------------------------- stream parser

def test_stream_text_skips_thoughts_and_finishes_with_usage() -> None:
    chunks, parser = run_stream(STREAM)
    assert parser.done
    assert [c.text for c in chunks] == ["Hello", " world"]
    assert [c.usage for c in chunks] == [None, Usage(9, 7, 16, reasoning_tokens=5)]
    assert chunks[-1].finish_reason == "stop"


def test_stream_split_at_every_byte_gives_the_same_chunks() -> None:
    parser = GeminiStreamParser(MODEL)
    chunks = [c for e, d in iter_sse(STREAM[i:i + 1] for i in range(len(STREAM))) if (c := parser.feed(e, d))]
    assert [c.text for c in chunks] == ["Hello", " world"] and parser.done


def test_stream_function_calls_are_reported_on_the_final_chunk() -> None:
    call = response([{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}], None)
    final = response([{"text": ""}], "STOP")
    raw = b"".join(b"data: " + json.dumps(e).encode() + b"\r\n\r\n" for e in (call, final))
    chunks, parser = run_stream(raw)
    assert parser.done and chunks[-1].finish_reason == "tool_calls"
    assert [(t.id, t.name, dict(t.arguments)) for t in chunks[-1].tool_calls] == [
        ("get_weather", "get_weather", {"city": "Paris"})]


def test_stream_without_finish_reason_is_not_done() -> None:
    _, parser = run_stream(STREAM.rsplit(b"data: ", 1)[0])
    assert not parser.done


def test_stream_error_event_raises_typed_error() -> None:
    with pytest.raises(errors.ProviderUnavailableError, match="Error"):
        run_stream(STREAM.split(b"\r\n\r\n")[0] + b"\r\n\r\n" + ERROR_EVENT)


def test_stream_raw_json_error_after_events_raises_typed_error() -> None:
    # PROTOCOLS.md: a mid-stream error can be raw JSON, not a data: line (python-genai reads it alike)
    error = b'{\n  "error": {\n    "code": 503,\n    "message": "The model is overloaded.",\n' \
            b'    "status": "UNAVAILABLE"\n  }\n}\n'
    with pytest.raises(errors.ProviderUnavailableError, match="overloaded"):
        run_stream(STREAM.split(b"\r\n\r\n")[0] + b"\r\n\r\n" + error)


def test_stream_error_event_carries_its_http_code() -> None:
    raw = b'data: {"error": {"code": 429, "message": "Quota", "status": "RESOURCE_EXHAUSTED"}}\r\n\r\n'
    with pytest.raises(errors.RateLimitError):
        run_stream(raw)


def test_stream_blocked_prompt_raises() -> None:
    raw = b'data: {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}\r\n\r\n'
    with pytest.raises(errors.InvalidRequestError, match="PROHIBITED_CONTENT"):
        run_stream(raw)


# --------------------------------------------------------------------------- embeddings (pure)

def test_build_embed_batch_body_with_dimensions_and_task_type() -> None:
    request = DIALECT.build_embed(PROVIDER, EMBED, ["a", "b"], {"dimensions": 768, "task_type": "RETRIEVAL_QUERY"})
    assert request.path == "/models/gemini-embedding-001:batchEmbedContents"
    item = {"model": "models/gemini-embedding-001", "outputDimensionality": 768, "taskType": "RETRIEVAL_QUERY"}
    assert request.json == {"requests": [{**item, "content": {"parts": [{"text": "a"}]}},
                                         {**item, "content": {"parts": [{"text": "b"}]}}]}


def test_parse_embed_vectors_in_order_usage_unknown() -> None:
    e = DIALECT.parse_embed({"embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3, 0.4]}]}, EMBED)
    assert e.vectors == [[0.1, 0.2], [0.3, 0.4]] and e.usage == Usage() and e.cost is None


# --------------------------------------------------------------------------- through the Client (responses)

@pytest.fixture
def gemini_client() -> Iterator[pepperpy.Client]:
    with pepperpy.Client(api_keys={"gemini": KEY}, env_file=None, max_retries=0) as client:
        yield client


@responses.activate
def test_client_complete_sends_key_only_in_the_header(gemini_client: pepperpy.Client) -> None:
    url = f"{BASE}/models/gemini-3.8-flash:generateContent"
    responses.post(url, json=response([{"text": "Hi!"}]))
    r = gemini_client.complete("Hello", model="gemini-3.8-flash", system="Be kind.", temperature=0.5, max_tokens=64)
    assert (r.text, r.finish_reason, r.provider, r.usage.total_tokens) == ("Hi!", "stop", "gemini", 4)
    sent = responses.calls[0].request
    assert sent.url == url and KEY not in sent.url
    assert sent.headers["x-goog-api-key"] == KEY and "authorization" not in {k.lower() for k in sent.headers}
    assert json.loads(sent.body) == {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
                                     "systemInstruction": {"parts": [{"text": "Be kind."}]},
                                     "generationConfig": {"temperature": 0.5, "maxOutputTokens": 64}}


@responses.activate
def test_client_stream_uses_alt_sse_and_no_key_in_url(gemini_client: pepperpy.Client) -> None:
    url = f"{BASE}/models/gemini-3.8-flash:streamGenerateContent"
    responses.post(url, body=STREAM, content_type="text/event-stream")
    with gemini_client.stream("Hello", model="gemini-3.8-flash") as s:
        assert "".join(c.text for c in s) == "Hello world"
    assert s.completion.usage.output_tokens == 7
    sent = responses.calls[0].request
    assert sent.url == url + "?alt=sse" and KEY not in sent.url and sent.headers["x-goog-api-key"] == KEY


@responses.activate
def test_client_embed_batches(gemini_client: pepperpy.Client) -> None:
    url = f"{BASE}/models/gemini-embedding-001:batchEmbedContents"
    responses.post(url, json={"embeddings": [{"values": [1.0, 0.0]}, {"values": [0.0, 1.0]}]})
    e = gemini_client.embed(["a", "b"], model="gemini-embedding-001", dimensions=2)
    assert e.vectors == [[1.0, 0.0], [0.0, 1.0]]
    sent = responses.calls[0].request
    assert sent.url == url and json.loads(sent.body)["requests"][1] == {
        "model": "models/gemini-embedding-001", "content": {"parts": [{"text": "b"}]}, "outputDimensionality": 2}


def _error(code: int, status: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status, "details": details or []}}


BAD_KEY = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
            "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]
RETRY = [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
         {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}]


@pytest.mark.parametrize(("status", "body", "cls"), [
    (400, _error(400, "INVALID_ARGUMENT", f"API key not valid ({KEY}). Please pass a valid API key.", BAD_KEY),
     errors.AuthenticationError),
    (400, _error(400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens "
                                          "allowed (1048576)."), errors.ContextLengthError),
    (400, _error(400, "INVALID_ARGUMENT", "Invalid value at 'generation_config.temperature'"),
     errors.InvalidRequestError),
    (403, _error(403, "PERMISSION_DENIED", "The caller does not have permission"), errors.AuthenticationError),
    (404, _error(404, "NOT_FOUND", "models/gemini-3.8-flash is not found for API version v1beta"),
     errors.InvalidRequestError),
    (429, _error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", RETRY), errors.RateLimitError),
    (500, _error(500, "INTERNAL", "An internal error has occurred."), errors.ProviderUnavailableError),
    (503, _error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
     errors.ProviderUnavailableError),
    (504, _error(504, "DEADLINE_EXCEEDED", "The request timed out. Please try again."), errors.ProviderTimeoutError),
])
@responses.activate
def test_error_bodies_map_to_typed_errors_without_the_key(gemini_client: pepperpy.Client, status: int,
                                                          body: dict[str, Any], cls: type[errors.ProviderError],
                                                          ) -> None:
    responses.post(f"{BASE}/models/gemini-3.8-flash:generateContent", json=body, status=status)
    with pytest.raises(errors.ProviderError) as info:
        gemini_client.complete("Hi", model="gemini-3.8-flash")
    err = info.value
    assert type(err) is cls and err.status_code == status and err.provider == "gemini"
    assert KEY not in str(err) and KEY not in repr(err) and KEY not in json.dumps(err.details)
    if cls is errors.AuthenticationError:
        assert "Client(api_keys={'gemini': ...})" in str(err)  # the key was given in code
    if cls is errors.RateLimitError:
        assert err.retry_after == 12.0 and err.retryable  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- loopback (fake server)

@pytest.fixture
def loopback(server: FakeProviderServer) -> Iterator[pepperpy.Client]:
    with pepperpy.Client(api_keys={"gemini": KEY}, env_file=None, max_retries=0,
                         providers={"gemini": {"base_url": server.base_url("gemini")}}) as client:
        yield client


def test_loopback_complete_and_stream(loopback: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply("Hello there", usage=(6, 2))
    r = loopback.complete("Hi", model="gemini-flash")
    assert (r.text, r.finish_reason, r.usage.input_tokens, r.usage.output_tokens) == ("Hello there", "stop", 6, 2)
    server.reply(chunks=["Hel", "lo", "!"], usage=(4, 3))
    with loopback.stream("Hi", model="gemini-flash") as s:
        assert [c.text for c in s if c.text] == ["Hel", "lo", "!"]
    assert s.completion.usage == Usage(4, 3) and s.completion.finish_reason == "stop"
    sent = server.requests[-1]
    assert sent.path == "/v1beta/models/gemini-3.8-flash:streamGenerateContent" and sent.query == {"alt": "sse"}
    assert sent.headers["x-goog-api-key"] == KEY


def test_loopback_stream_tool_calls(loopback: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    completion = loopback.stream("Weather?", model="gemini-flash", tools=[WEATHER_TOOL]).completion
    assert completion.finish_reason == "tool_calls"
    assert [(t.name, dict(t.arguments)) for t in completion.tool_calls] == [("get_weather", {"city": "Paris"})]


def test_loopback_wrong_key_is_an_authentication_error(loopback: pepperpy.Client, server: FakeProviderServer) -> None:
    server.api_key = "the-right-key"
    with pytest.raises(errors.AuthenticationError) as info:
        loopback.complete("Hi", model="gemini-flash")
    assert info.value.status_code == 400 and KEY not in str(info.value)


def test_loopback_mid_stream_error_and_cut_stream(loopback: pepperpy.Client, server: FakeProviderServer) -> None:
    server.fault(Fault.stream_error(after=1))
    with pytest.raises(errors.ProviderUnavailableError):
        list(loopback.stream("Hi", model="gemini-flash"))
    server.fault(Fault.cut_stream(after=1, clean=True))
    with pytest.raises(errors.StreamError):
        list(loopback.stream("Hi", model="gemini-flash"))


def test_loopback_rate_limit_uses_retry_info(loopback: pepperpy.Client, server: FakeProviderServer) -> None:
    server.fail(429)
    with pytest.raises(errors.RateLimitError) as info:
        loopback.complete("Hi", model="gemini-flash")
    assert info.value.retry_after == 12.0


def test_loopback_embeddings(loopback: pepperpy.Client, server: FakeProviderServer) -> None:
    e = loopback.embed(["alpha", "beta"], model="gemini-embedding-001", dimensions=4)
    assert e.vectors == [embedding_vector("alpha", 4), embedding_vector("beta", 4)]
    assert server.requests[-1].path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
