"""The Ollama dialect: /api/chat bodies and options, NDJSON streams, /api/embed, errors, the loopback server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import responses

import pepperpy
from pepperpy.dialects.ollama import DIALECT
from pepperpy.http.transport import iter_ndjson
from pepperpy.observe.pricing import charge  # dialects price nothing: the ledger does
from pepperpy.testing import FakeProviderServer, Fault, Reply

BASE = "http://localhost:11434"
KEY = "ollama-proxy-key-0123456789"

# Shaped like the Ollama docs' streaming example: content lines, then the final line with stats.
STREAM = (
    b'{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant",'
    b'"content":"The"},"done":false}\n'
    b'{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant",'
    b'"content":" sky"},"done":false}\n'
    b'{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},'
    b'"done":true,"done_reason":"length","total_duration":4883583458,"load_duration":1334875,'
    b'"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}\n'
)


@pytest.fixture
def client() -> Iterator[pepperpy.Client]:
    with pepperpy.Client(env_file=None, max_retries=0) as c:
        yield c


def feed_all(parser: object, data: bytes, size: int) -> list[pepperpy.Chunk]:
    pieces = [data[i:i + size] for i in range(0, len(data), size)]
    return [c for e, d in iter_ndjson(pieces) if (c := parser.feed(e, d)) is not None]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- pure: bodies and parsing

def test_body_maps_params_into_options_and_always_says_stream(client: pepperpy.Client) -> None:
    provider, spec = client.catalog.resolve("llama3.2")
    params = {"temperature": 0.2, "top_p": 0.9, "top_k": 40, "max_tokens": 64, "stop": ["\n"], "seed": 7,
              "num_ctx": 8192, "mirostat": 2, "format": "json", "keep_alive": "5m", "tools": [{"type": "function"}]}
    request = DIALECT.build_chat(provider, spec, [{"role": "user", "content": "hi"}], params, stream=False)
    assert (request.method, request.path, request.stream) == ("POST", "/api/chat", False)
    assert request.json == {
        "model": "llama3.2", "messages": [{"role": "user", "content": "hi"}], "stream": False,
        "format": "json", "keep_alive": "5m", "tools": [{"type": "function"}],
        "options": {"temperature": 0.2, "top_p": 0.9, "top_k": 40, "num_predict": 64, "stop": ["\n"], "seed": 7,
                    "num_ctx": 8192, "mirostat": 2}}
    streamed = DIALECT.build_chat(provider, spec, [{"role": "user", "content": "hi"}], {}, stream=True)
    assert streamed.json["stream"] is True and "options" not in streamed.json and streamed.stream


def test_response_format_and_explicit_options_are_translated(client: pepperpy.Client) -> None:
    provider, spec = client.catalog.resolve("llama3.2")
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    body = DIALECT.build_chat(provider, spec, [{"role": "user", "content": "x"}],
                              {"response_format": {"type": "json_schema", "json_schema": {"schema": schema}},
                               "options": {"num_gpu": 1}, "temperature": 0}, stream=False).json
    assert body["format"] == schema and body["options"] == {"num_gpu": 1, "temperature": 0}
    body = DIALECT.build_chat(provider, spec, [{"role": "user", "content": "x"}],
                              {"response_format": {"type": "json_object"}}, stream=False).json
    assert body["format"] == "json"
    body = DIALECT.build_chat(provider, spec, [{"role": "user", "content": "x"}],
                              {"response_format": {"type": "text"}}, stream=False).json
    assert "format" not in body  # plain text: no JSON mode


def test_messages_become_ollama_shaped(client: pepperpy.Client) -> None:
    provider, spec = client.catalog.resolve("llama3.2")
    messages = [
        {"role": "developer", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "what is "}, {"type": "text", "text": "this?"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "look", "arguments": "{\"zoom\": 2}"}}]},
        {"role": "tool", "content": "a cat", "name": "look"},
    ]
    sent = DIALECT.build_chat(provider, spec, messages, {}, stream=False).json["messages"]
    assert sent == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "what is this?", "images": ["QUJD"]},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "look", "arguments": {"zoom": 2}}}]},
        {"role": "tool", "content": "a cat", "tool_name": "look"},
    ]


def test_tool_result_gets_tool_name_from_the_assistant_call(client: pepperpy.Client) -> None:
    provider, spec = client.catalog.resolve("llama3.2")
    messages = [{"role": "user", "content": "weather?"},
                {"role": "assistant", "content": "", "tool_calls": [
                    {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_0", "content": "sunny"},
                {"role": "tool", "tool_call_id": "unknown", "content": "?"}]
    sent = DIALECT.build_chat(provider, spec, messages, {}, stream=False).json["messages"]
    assert sent[2] == {"role": "tool", "content": "sunny", "tool_name": "get_weather"}
    assert sent[3] == {"role": "tool", "content": "?"}


def test_image_urls_are_refused_before_sending(client: pepperpy.Client) -> None:
    provider, spec = client.catalog.resolve("llama3.2")
    parts = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    with pytest.raises(pepperpy.ValidationError, match="base64"):
        DIALECT.build_chat(provider, spec, [{"role": "user", "content": parts}], {}, stream=False)


def test_parse_answer_usage_finish_and_object_arguments(client: pepperpy.Client) -> None:
    spec = client.model("llama3.2")
    r = DIALECT.parse_chat({"model": "llama3.2", "message": {"role": "assistant", "content": "Hi"}, "done": True,
                            "done_reason": "length", "prompt_eval_count": 12, "eval_count": 3}, spec)
    assert (r.text, r.finish_reason, r.usage.input_tokens, r.usage.output_tokens) == ("Hi", "length", 12, 3)
    assert r.cost is None and charge(spec, r) == 0  # a free local model: the ledger prices it at 0
    tools = DIALECT.parse_chat({"message": {"role": "assistant", "content": "", "tool_calls": [
        {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}, "done": True, "done_reason": "stop"},
        spec)
    assert tools.finish_reason == "tool_calls" and tools.usage.total_tokens == 0
    assert (tools.tool_calls[0].id, tools.tool_calls[0].name, dict(tools.tool_calls[0].arguments)) == (
        "call_0", "get_weather", {"city": "Paris"})


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_ndjson_stream_ends_on_done_line_with_usage(client: pepperpy.Client, size: int) -> None:
    parser = DIALECT.stream_parser(client.model("llama3.2"))
    chunks = feed_all(parser, STREAM, size)
    assert [c.text for c in chunks] == ["The", " sky", ""]
    last = chunks[-1]
    assert last.finish_reason == "length" and last.usage == pepperpy.Usage(26, 282)
    assert parser.done


def test_stream_without_done_line_is_not_done(client: pepperpy.Client) -> None:
    parser = DIALECT.stream_parser(client.model("llama3.2"))
    feed_all(parser, STREAM.split(b"\n")[0] + b"\n", 4096)
    assert not parser.done


def test_tool_calls_in_a_stream_arrive_with_the_done_line(client: pepperpy.Client) -> None:
    parser = DIALECT.stream_parser(client.model("llama3.2"))
    data = (b'{"message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":'
            b'{"x":1}}}]},"done":false}\n{"message":{"role":"assistant","content":""},"done":true,'
            b'"done_reason":"stop","prompt_eval_count":5,"eval_count":2}\n')
    chunks = feed_all(parser, data, 4096)
    assert len(chunks) == 1 and chunks[0].finish_reason == "tool_calls"
    assert dict(chunks[0].tool_calls[0].arguments) == {"x": 1}


@pytest.mark.parametrize(("line", "cls"), [
    (b'{"error":"an error was encountered while running the model: unexpected EOF"}', pepperpy.StreamError),
    (b'{"error":"input length exceeds the context length"}', pepperpy.ContextLengthError),
])
def test_error_line_mid_stream_raises_typed_error(client: pepperpy.Client, line: bytes, cls: type) -> None:
    parser = DIALECT.stream_parser(client.model("llama3.2"))
    parser.feed("message", STREAM.split(b"\n")[0])
    with pytest.raises(cls) as info:
        parser.feed("message", line)
    assert info.value.provider == "ollama" and "mid-stream" in str(info.value)


def test_embed_body_and_parse(client: pepperpy.Client) -> None:
    provider, spec = client.catalog.resolve("nomic-embed-text")
    request = DIALECT.build_embed(provider, spec, ["a", "b"], {"truncate": True})
    assert (request.path, request.json) == ("/api/embed", {"model": "nomic-embed-text", "input": ["a", "b"],
                                                           "truncate": True})
    e = DIALECT.parse_embed({"embeddings": [[0.1, 0.2], [0.3, 0.4]], "prompt_eval_count": 4}, spec)
    assert e.vectors == [[0.1, 0.2], [0.3, 0.4]] and e.usage.input_tokens == 4 and charge(spec, e) == 0


# --------------------------------------------------------------------------- responses: through the Client

@responses.activate
def test_complete_sends_no_auth_by_default(client: pepperpy.Client) -> None:
    responses.post(f"{BASE}/api/chat", json={"model": "llama3.2", "message": {"role": "assistant", "content": "Yo"},
                                             "done": True, "done_reason": "stop", "prompt_eval_count": 4,
                                             "eval_count": 1})
    r = client.complete("hi", model="ollama/llama3.2", system="be brief", temperature=0.5, max_tokens=9)
    assert (r.text, r.provider, r.model, r.finish_reason, r.usage.total_tokens) == ("Yo", "ollama", "llama3.2",
                                                                                   "stop", 5)
    sent = responses.calls[0].request
    assert "Authorization" not in sent.headers
    assert json.loads(sent.body) == {"model": "llama3.2", "stream": False,
                                     "messages": [{"role": "system", "content": "be brief"},
                                                  {"role": "user", "content": "hi"}],
                                     "options": {"temperature": 0.5, "num_predict": 9}}


@responses.activate
def test_a_configured_key_is_sent_as_bearer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OLLAMA_API_KEY", KEY)
    responses.post(f"{BASE}/api/chat", json={"message": {"content": "ok"}, "done": True})
    responses.post(f"{BASE}/api/embed", status=401, json={"error": f"unauthorized key {KEY}"})
    with pepperpy.Client(env_file=None, max_retries=0) as client:
        client.complete("hi", model="llama3.2")
        with pytest.raises(pepperpy.AuthenticationError) as info:
            client.embed("x", model="nomic-embed-text")
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in str(info.value) and KEY not in repr(info.value) and KEY not in json.dumps(info.value.details)
    assert "PEPPERPY_PROVIDER_OLLAMA_API_KEY" in str(info.value)


@responses.activate
def test_missing_model_says_how_to_pull_it(client: pepperpy.Client) -> None:
    responses.post(f"{BASE}/api/chat", status=404, json={"error": 'model "llama9:1b" not found, try pulling it first'})
    with pytest.raises(pepperpy.InvalidRequestError) as info:
        client.complete("hi", model="ollama/llama9:1b")
    assert info.value.status_code == 404 and info.value.model == "llama9:1b"
    assert "llama9:1b" in str(info.value) and "ollama pull llama9:1b" in str(info.value)


@responses.activate
@pytest.mark.parametrize(("status", "message", "cls"), [
    (400, 'invalid options: "mirostat_x"', pepperpy.InvalidRequestError),
    (400, "input length exceeds the context length", pepperpy.ContextLengthError),
    (403, "forbidden", pepperpy.AuthenticationError),
    (429, "too many requests", pepperpy.RateLimitError),
    (500, "llama runner process has terminated", pepperpy.ProviderUnavailableError),
    (503, "server busy, please try again.  maximum pending requests exceeded", pepperpy.ProviderUnavailableError),
])
def test_error_answers(client: pepperpy.Client, status: int, message: str, cls: type) -> None:
    responses.post(f"{BASE}/api/chat", status=status, json={"error": message})
    with pytest.raises(cls) as info:
        client.complete("hi", model="llama3.2")
    assert type(info.value) is cls and info.value.provider == "ollama"
    assert " ".join(message.split()).rstrip(".") in str(info.value)  # messages are kept on one line
    assert info.value.details == {"error": message}  # the body itself, untouched


@responses.activate
def test_embed_through_client(client: pepperpy.Client) -> None:
    responses.post(f"{BASE}/api/embed", json={"model": "nomic-embed-text", "embeddings": [[1.0, 0.0], [0.0, 1.0]],
                                              "prompt_eval_count": 2})
    e = client.embed(["a", "b"], model="nomic-embed-text")
    assert e.vectors == [[1.0, 0.0], [0.0, 1.0]] and e.usage.input_tokens == 2
    assert json.loads(responses.calls[0].request.body) == {"model": "nomic-embed-text", "input": ["a", "b"]}


# --------------------------------------------------------------------------- loopback: the fake server

@pytest.fixture
def local(server: FakeProviderServer) -> Iterator[pepperpy.Client]:
    with pepperpy.Client(env_file=None, max_retries=0,
                         providers={"ollama": {"base_url": server.base_url("ollama")}}) as c:
        yield c


def test_stream_of_an_open_model(local: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=["Hel", "lo", "!"], usage=(3, 2)))
    with local.stream("hi there", model="ollama/anything:7b") as s:
        texts = [c.text for c in s]
    assert "".join(texts) == "Hello!"
    done = s.completion
    assert (done.text, done.model, done.finish_reason, done.usage.input_tokens, done.usage.output_tokens) == (
        "Hello!", "anything:7b", "stop", 3, 2)
    sent = server.requests[-1]
    assert sent.path == "/api/chat" and sent.json["model"] == "anything:7b" and sent.json["stream"] is True


def test_non_stream_and_embed_of_open_models(local: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply("fine thanks", usage=(4, 2), finish="length")
    r = local.complete("how are you", model="ollama/anything")
    assert (r.text, r.finish_reason, r.usage.total_tokens) == ("fine thanks", "length", 6)
    assert server.requests[-1].json["stream"] is False
    e = local.embed(["a", "b c"], model="ollama/some-embedder")
    assert len(e.vectors) == 2 and e.usage.input_tokens == 3


def test_error_line_mid_stream_over_loopback(local: pepperpy.Client, server: FakeProviderServer) -> None:
    server.fault(Fault.stream_error(after=1, message="model runner crashed"))  # answers with the echo
    received = []
    with pytest.raises(pepperpy.StreamError, match="model runner crashed"), local.stream("x y", model="ollama/m") as s:
        for chunk in s:
            received.append(chunk.text)
    assert received == ["echo: "]


def test_stream_cut_before_done_line_is_incomplete(local: pepperpy.Client, server: FakeProviderServer) -> None:
    server.fault(Fault.cut_stream(after=1, clean=True))
    with pytest.raises(pepperpy.StreamError, match="terminator"):
        list(local.stream("one two three", model="ollama/m"))


def test_missing_model_over_loopback(local: pepperpy.Client, server: FakeProviderServer) -> None:
    server.fail(404)
    with pytest.raises(pepperpy.InvalidRequestError, match="ollama pull nothing-here"):
        local.complete("x", model="ollama/nothing-here")
