"""FakeProviderServer, exercised with plain ``requests`` over loopback."""

from __future__ import annotations

import base64
import json
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import pepperpy.testing
from pepperpy.testing import FakeProviderServer, Fault, FaultKind, Reply, embedding_vector

TIMEOUT = 5.0
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-fake"}


@pytest.fixture
def server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as fake:
        yield fake
        assert fake.errors == []


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """Parse a server-sent event body by hand: (event name, data) pairs."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            if field == "event":
                name = value.strip()
            elif field == "data":
                data.append(value[1:] if value.startswith(" ") else value)
        events.append((name, "\n".join(data)))
    return events


def openai_chat(server: FakeProviderServer, content: str = "hi there", **extra: Any) -> requests.Response:
    body = {"model": "gpt-fake", "messages": [{"role": "user", "content": content}], **extra}
    return requests.post(server.base_url("openai") + "/chat/completions", json=body, timeout=TIMEOUT)


def anthropic_chat(server: FakeProviderServer, **extra: Any) -> requests.Response:
    body = {"model": "claude-fake", "max_tokens": 64, "messages": [{"role": "user", "content": "hi there"}], **extra}
    return requests.post(server.url + "/v1/messages", json=body, headers=ANTHROPIC_HEADERS, timeout=TIMEOUT)


def gemini_chat(server: FakeProviderServer, method: str = "generateContent", query: str = "") -> requests.Response:
    url = f"{server.base_url('gemini')}/models/gemini-fake:{method}{query}"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi there"}]}]}
    return requests.post(url, json=body, timeout=TIMEOUT)


def ollama_chat(server: FakeProviderServer, **extra: Any) -> requests.Response:
    body = {"model": "llama-fake", "messages": [{"role": "user", "content": "hi there"}], **extra}
    return requests.post(server.url + "/api/chat", json=body, timeout=TIMEOUT)


def stackspot_token(server: FakeProviderServer) -> str:
    form = {"grant_type": "client_credentials", "client_id": "id", "client_secret": "secret"}
    answer = requests.post(server.token_url("stackspot-freemium"), data=form, timeout=TIMEOUT)
    assert answer.status_code == 200
    token: str = answer.json()["access_token"]
    return token


def stackspot_chat(server: FakeProviderServer, token: str, **extra: Any) -> requests.Response:
    body = {"user_prompt": "hi there", "streaming": False, "stackspot_knowledge": False, **extra}
    body.setdefault("return_ks_in_response", False)
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(server.url + "/v1/agent/agent-1/chat", json=body, headers=headers, timeout=TIMEOUT)


# -- package surface ------------------------------------------------------------------------------


def test_public_names_are_pinned() -> None:
    assert pepperpy.testing.__all__ == [
        "DEFAULT_EMBEDDING_DIMENSIONS",
        "DEFAULT_HANG_SECONDS",
        "DEFAULT_MODELS",
        "DEFAULT_TOKEN_TTL",
        "FAKE_API_KEY",
        "FakeAdapter",
        "FakeProviderServer",
        "FakeRealtimeServer",
        "Fault",
        "FaultKind",
        "RealtimeAnswer",
        "RecordedRequest",
        "RecordedSession",
        "Reply",
        "embedding_vector",
        "fake_providers",
        "server_environ",
    ]


def test_base_urls(server: FakeProviderServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.base_url("openai") == server.url + "/v1"
    assert server.base_url("openrouter") == server.url + "/v1"
    assert server.base_url("anthropic") == server.url
    assert server.base_url("gemini") == server.url + "/v1beta"
    assert server.base_url("ollama") == server.url
    assert server.base_url("stackspot") == server.url
    assert server.token_url("realm") == server.url + "/realm/oidc/oauth/token"


def test_reply_and_fault_values() -> None:
    assert Reply("a b").chunks == ("a ", "b")
    assert Reply(chunks=["Hel", "lo"]).text == "Hello"
    assert Fault.hang(0.5) == Fault(FaultKind.HANG, seconds=0.5)
    assert Fault.RESET.kind is FaultKind.RESET and Fault.HANG.seconds > 1
    with pytest.raises(ValueError, match="name"):
        Reply(tool_calls=[{"arguments": {}}])
    with pytest.raises(TypeError):
        FakeProviderServer().reply(Reply("x"), usage=(1, 1))


def test_not_running_has_no_url() -> None:
    with pytest.raises(RuntimeError, match="start"):
        _ = FakeProviderServer().url


# -- OpenAI ---------------------------------------------------------------------------------------


def test_openai_echo_shape(server: FakeProviderServer) -> None:
    answer = openai_chat(server, "hi there")
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "req_1"
    body = answer.json()
    assert body["object"] == "chat.completion"
    assert {"id", "created", "model", "choices", "usage"} <= body.keys()
    choice = body["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"] == {"role": "assistant", "content": "echo: hi there", "refusal": None}
    assert body["usage"]["prompt_tokens"] == 2
    assert body["usage"]["completion_tokens"] == 3
    assert body["usage"]["total_tokens"] == 5


def test_openai_stream_with_usage(server: FakeProviderServer) -> None:
    server.reply("Hello there friend", usage=(10, 5))
    answer = openai_chat(server, stream=True, stream_options={"include_usage": True})
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert answer.headers["transfer-encoding"] == "chunked"
    events = sse_events(answer.text)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Hello there friend"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] == 15


def test_openai_stream_without_usage(server: FakeProviderServer) -> None:
    events = sse_events(openai_chat(server, stream=True).text)
    assert events[-1][1] == "[DONE]"
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert all("usage" not in c and c["choices"] for c in chunks)


def test_openai_tool_calls(server: FakeProviderServer) -> None:
    call = {"name": "get_weather", "arguments": {"city": "Paris"}}
    server.reply(Reply(tool_calls=[call]))
    message = openai_chat(server).json()["choices"][0]
    assert message["finish_reason"] == "tool_calls"
    assert message["message"]["content"] is None
    function = message["message"]["tool_calls"][0]["function"]
    assert function["name"] == "get_weather" and json.loads(function["arguments"]) == {"city": "Paris"}

    server.reply(Reply(tool_calls=[call]))
    chunks = [json.loads(d) for _, d in sse_events(openai_chat(server, stream=True).text)[:-1]]
    arguments = "".join(
        tc["function"].get("arguments", "") for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls", [])
    )
    assert json.loads(arguments) == {"city": "Paris"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1", "/openai/v1"])
def test_openai_routes_match_by_suffix(server: FakeProviderServer, prefix: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    answer = requests.post(server.url + prefix + "/chat/completions", json=body, timeout=TIMEOUT)
    assert answer.json()["choices"][0]["message"]["content"] == "echo: x"


def test_openai_embeddings_and_models(server: FakeProviderServer) -> None:
    url = server.base_url("openai") + "/embeddings"
    body = requests.post(url, json={"model": "e", "input": ["a b", "c"]}, timeout=TIMEOUT).json()
    assert body["object"] == "list" and body["model"] == "e"
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert body["data"][0]["embedding"] == embedding_vector("a b")
    assert body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    sized = requests.post(url, json={"model": "e", "input": "a", "dimensions": 40}, timeout=TIMEOUT).json()
    assert len(sized["data"][0]["embedding"]) == 40
    packed = requests.post(url, json={"model": "e", "input": "a", "encoding_format": "base64"}, timeout=TIMEOUT)
    raw = base64.b64decode(packed.json()["data"][0]["embedding"])
    assert struct.unpack(f"<{len(raw) // 4}f", raw) == pytest.approx(embedding_vector("a"), abs=1e-6)
    models = requests.get(server.base_url("openai") + "/models", timeout=TIMEOUT).json()
    assert [m["id"] for m in models["data"]] == server.models


def test_openai_auth_when_required(server: FakeProviderServer) -> None:
    assert openai_chat(server).status_code == 200  # keys are optional by default
    server.require_auth = True
    missing = openai_chat(server)
    assert missing.status_code == 401
    assert missing.json()["error"]["message"].startswith("You didn't provide an API key")
    assert missing.json()["error"]["type"] == "invalid_request_error"
    server.api_key = "sk-good"
    url = server.base_url("openai") + "/chat/completions"
    body = {"model": "m", "messages": []}
    wrong = requests.post(url, json=body, headers={"Authorization": "Bearer sk-bad"}, timeout=TIMEOUT)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    right = requests.post(url, json=body, headers={"Authorization": "Bearer sk-good"}, timeout=TIMEOUT)
    assert right.status_code == 200


def test_openai_rejects_missing_messages(server: FakeProviderServer) -> None:
    server.reply("kept for later")
    answer = requests.post(server.base_url("openai") + "/chat/completions", json={"model": "m"}, timeout=TIMEOUT)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Missing required parameter: 'messages'."
    assert server.pending == 1


# -- Anthropic ------------------------------------------------------------------------------------


def test_anthropic_shape(server: FakeProviderServer) -> None:
    answer = anthropic_chat(server)
    assert answer.headers["request-id"] == answer.headers["x-request-id"]
    body = answer.json()
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["content"] == [{"type": "text", "text": "echo: hi there"}]
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    assert body["usage"]["input_tokens"] == 2 and body["usage"]["output_tokens"] == 3


def test_anthropic_requires_version_header(server: FakeProviderServer) -> None:
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    answer = requests.post(server.url + "/v1/messages", json=body, timeout=TIMEOUT)
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"


def test_anthropic_stream_events(server: FakeProviderServer) -> None:
    server.reply("Hello there", usage=(11, 6), finish="length")
    events = sse_events(anthropic_chat(server, stream=True).text)
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    payloads = [json.loads(data) for _, data in events]
    assert all(p["type"] == name for p, name in zip(payloads, names, strict=True))
    assert payloads[0]["message"]["usage"]["input_tokens"] == 11
    assert "".join(p["delta"]["text"] for p in payloads if p["type"] == "content_block_delta") == "Hello there"
    assert payloads[-2]["delta"]["stop_reason"] == "max_tokens"
    assert payloads[-2]["usage"]["output_tokens"] == 6


def test_anthropic_key_checks(server: FakeProviderServer) -> None:
    server.api_key = "sk-ant-good"
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    missing = requests.post(
        server.url + "/v1/messages", json=body, headers={"anthropic-version": "2023-06-01"}, timeout=TIMEOUT
    )
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "authentication_error"
    assert anthropic_chat(server).json()["error"]["message"] == "invalid x-api-key"


def test_anthropic_tool_use(server: FakeProviderServer) -> None:
    server.reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    body = anthropic_chat(server).json()
    assert body["stop_reason"] == "tool_use"
    assert body["content"][0]["type"] == "tool_use" and body["content"][0]["input"] == {"city": "Paris"}


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (529, "overloaded_error"),
    ],
)
def test_anthropic_error_bodies(server: FakeProviderServer, status: int, kind: str) -> None:
    server.fail(status)
    answer = anthropic_chat(server)
    assert answer.status_code == status
    body = answer.json()
    assert body["type"] == "error" and body["error"]["type"] == kind and body["error"]["message"]
    assert body["request_id"] == answer.headers["request-id"]


# -- Gemini ---------------------------------------------------------------------------------------


def test_gemini_shape(server: FakeProviderServer) -> None:
    body = gemini_chat(server).json()
    candidate = body["candidates"][0]
    assert candidate["content"] == {"role": "model", "parts": [{"text": "echo: hi there"}]}
    assert candidate["finishReason"] == "STOP" and candidate["index"] == 0
    assert body["usageMetadata"] == {"promptTokenCount": 2, "candidatesTokenCount": 3, "totalTokenCount": 5}
    assert body["modelVersion"] == "gemini-fake"


def test_gemini_sse_stream(server: FakeProviderServer) -> None:
    answer = gemini_chat(server, "streamGenerateContent", "?alt=sse")
    assert "\r\n\r\n" in answer.text and "[DONE]" not in answer.text
    events = [json.loads(data) for _, data in sse_events(answer.text)]
    text = "".join(p.get("text", "") for e in events for p in e["candidates"][0]["content"]["parts"])
    assert text == "echo: hi there"
    assert all("finishReason" not in e["candidates"][0] for e in events[:-1])
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert events[-1]["usageMetadata"]["totalTokenCount"] == 5


def test_gemini_stream_without_sse_is_a_json_array(server: FakeProviderServer) -> None:
    answer = gemini_chat(server, "streamGenerateContent")
    events = answer.json()
    assert isinstance(events, list) and events[-1]["candidates"][0]["finishReason"] == "STOP"


def test_gemini_function_call(server: FakeProviderServer) -> None:
    server.reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    parts = gemini_chat(server).json()["candidates"][0]["content"]["parts"]
    assert parts == [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]


def test_gemini_embeddings(server: FakeProviderServer) -> None:
    base = server.base_url("gemini") + "/models/embed-fake"
    one = requests.post(base + ":embedContent", json={"content": {"parts": [{"text": "a"}]}}, timeout=TIMEOUT)
    assert one.json() == {"embedding": {"values": embedding_vector("a")}}
    batch = {
        "requests": [
            {"model": "models/embed-fake", "content": {"parts": [{"text": t}]}, "outputDimensionality": 4}
            for t in ("a", "b")
        ]
    }
    many = requests.post(base + ":batchEmbedContents", json=batch, timeout=TIMEOUT).json()
    assert many == {"embeddings": [{"values": embedding_vector(t, 4)} for t in ("a", "b")]}


def test_gemini_errors(server: FakeProviderServer) -> None:
    server.fail(429)
    error = gemini_chat(server).json()["error"]
    assert error["code"] == 429 and error["status"] == "RESOURCE_EXHAUSTED"
    assert error["details"] == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}]
    server.fail(503)
    assert gemini_chat(server).json()["error"]["status"] == "UNAVAILABLE"
    server.require_auth = True
    missing = gemini_chat(server)
    assert missing.status_code == 403 and missing.json()["error"]["status"] == "PERMISSION_DENIED"


# -- Ollama ---------------------------------------------------------------------------------------


def test_ollama_streams_by_default(server: FakeProviderServer) -> None:
    answer = ollama_chat(server)
    assert answer.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert all(not line["done"] for line in lines[:-1])
    assert "".join(line["message"]["content"] for line in lines) == "echo: hi there"
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["prompt_eval_count"] == 2 and final["eval_count"] == 3
    assert final["message"] == {"role": "assistant", "content": ""}


def test_ollama_non_stream_embed_tags(server: FakeProviderServer) -> None:
    server.reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    body = ollama_chat(server, stream=False).json()
    assert body["done"] is True and body["model"] == "llama-fake"
    assert body["message"]["tool_calls"] == [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]
    embed = requests.post(server.url + "/api/embed", json={"model": "e", "input": ["a", "b"]}, timeout=TIMEOUT)
    assert embed.json()["embeddings"] == [embedding_vector("a"), embedding_vector("b")]
    tags = requests.get(server.url + "/api/tags", timeout=TIMEOUT).json()
    assert [m["name"] for m in tags["models"]] == ["fake-chat:latest", "fake-embed:latest"]


def test_ollama_not_found(server: FakeProviderServer) -> None:
    server.fail(404)
    answer = ollama_chat(server)
    assert answer.status_code == 404
    assert answer.json() == {"error": 'model "llama-fake" not found, try pulling it first'}


# -- StackSpot ------------------------------------------------------------------------------------


def test_stackspot_token_and_chat(server: FakeProviderServer) -> None:
    server.token_ttl = 600
    form = {"grant_type": "client_credentials", "client_id": "id", "client_secret": "secret"}
    token = requests.post(server.token_url("realm"), data=form, timeout=TIMEOUT).json()
    assert token == {"access_token": "fake-token-1", "token_type": "Bearer", "expires_in": 600}
    assert server.tokens_issued == 1
    assert server.requests[0].form["client_id"] == "id"
    body = stackspot_chat(server, token["access_token"]).json()
    assert body["message"] == "echo: hi there" and body["stop_reason"] == "stop"
    assert body["tokens"] == {"user": 2, "enrichment": 0, "output": 3}
    assert len(body["conversation_id"]) == 26 and body["message_id"]
    again = stackspot_chat(server, token["access_token"], use_conversation=True, conversation_id="c-1").json()
    assert again["conversation_id"] == "c-1"


def test_stackspot_stream(server: FakeProviderServer) -> None:
    answer = stackspot_chat(server, stackspot_token(server), streaming=True)
    events = [json.loads(data) for _, data in sse_events(answer.text)]
    assert "[DONE]" not in answer.text
    assert "".join(e["message"] for e in events) == "echo: hi there"
    assert events[-1]["stop_reason"] == "stop" and events[-1]["tokens"] == {"input": 2, "output": 3}
    assert events[-1]["message_id"]


def test_stackspot_revoke_and_expiry(server: FakeProviderServer) -> None:
    assert stackspot_chat(server, "nope").status_code == 401
    token = stackspot_token(server)
    server.reply("scripted")
    server.revoke_tokens()
    assert stackspot_chat(server, token).status_code == 401  # the script stays queued
    assert stackspot_chat(server, stackspot_token(server)).json()["message"] == "scripted"
    server.token_ttl = 0
    assert stackspot_chat(server, stackspot_token(server)).status_code == 401
    assert server.tokens_issued == 3


def test_stackspot_token_errors(server: FakeProviderServer) -> None:
    server.stackspot_credentials = ("id", "right")
    url = server.token_url("realm")
    bad = {"grant_type": "client_credentials", "client_id": "id", "client_secret": "wrong"}
    assert requests.post(url, data=bad, timeout=TIMEOUT).json()["error"] == "invalid_client"
    grant = requests.post(url, data={"grant_type": "password"}, timeout=TIMEOUT)
    assert grant.status_code == 400


def test_stackspot_rate_limit_body(server: FakeProviderServer) -> None:
    token = stackspot_token(server)
    server.fail(429)
    body = stackspot_chat(server, token).json()
    assert body["type"] == "TooManyRequests"
    assert body["code"] == "CODEBUDDY_1044_QUICK_COMMAND_RATE_LIMIT_EXCEEDED"


# -- scripting ------------------------------------------------------------------------------------


def test_script_is_fifo_across_dialects(server: FakeProviderServer) -> None:
    server.reply("first")
    server.reply(Reply(chunks=["sec", "ond"], usage=(7, 1)))
    assert openai_chat(server).json()["choices"][0]["message"]["content"] == "first"
    assert anthropic_chat(server).json()["content"][0]["text"] == "second"
    assert gemini_chat(server).json()["candidates"][0]["content"]["parts"][0]["text"] == "echo: hi there"
    assert server.pending == 0


def test_fail_times_headers_and_body(server: FakeProviderServer) -> None:
    server.fail(429, headers={"retry-after": "0"}, times=2)
    server.fail(500, body={"custom": True})
    for _ in range(2):
        limited = openai_chat(server)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "0"
        assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    custom = openai_chat(server)
    assert custom.status_code == 500 and custom.json() == {"custom": True}
    assert openai_chat(server).status_code == 200


def test_fail_with_raw_body_and_content_type(server: FakeProviderServer) -> None:
    server.fail(502, body="<html>Bad Gateway</html>", headers={"content-type": "text/html"})
    answer = openai_chat(server)
    assert answer.status_code == 502 and answer.headers["content-type"] == "text/html"
    assert answer.text == "<html>Bad Gateway</html>"


def test_embeddings_take_failures_but_not_replies(server: FakeProviderServer) -> None:
    url = server.base_url("openai") + "/embeddings"
    server.fail(503)
    assert requests.post(url, json={"model": "e", "input": "a"}, timeout=TIMEOUT).status_code == 503
    server.reply("for chat")
    assert requests.post(url, json={"model": "e", "input": "a"}, timeout=TIMEOUT).status_code == 200
    assert openai_chat(server).json()["choices"][0]["message"]["content"] == "for chat"


def test_requests_are_recorded_and_cleared(server: FakeProviderServer) -> None:
    server.reply("unused")
    url = server.base_url("gemini") + "/models/g:generateContent?key=k1"
    requests.post(url, json={"contents": [{"parts": [{"text": "x"}]}]}, headers={"X-Custom": "1"}, timeout=TIMEOUT)
    (recorded,) = server.requests
    assert recorded.method == "POST" and recorded.path == "/v1beta/models/g:generateContent"
    assert recorded.query == {"key": "k1"} and recorded.headers["x-custom"] == "1"
    assert recorded.json == {"contents": [{"parts": [{"text": "x"}]}]}
    assert recorded.client_port > 0
    server.clear()
    assert server.requests == [] and server.pending == 0


def test_unknown_route(server: FakeProviderServer) -> None:
    answer = requests.get(server.url + "/nowhere", timeout=TIMEOUT)
    assert answer.status_code == 404 and "Unknown route" in answer.json()["error"]["message"]


# -- faults ---------------------------------------------------------------------------------------


def test_reset_raises_connection_error(server: FakeProviderServer) -> None:
    server.fault(Fault.RESET)
    with pytest.raises(requests.ConnectionError):
        openai_chat(server)
    assert openai_chat(server).status_code == 200


def test_hang_trips_read_timeout(server: FakeProviderServer) -> None:
    server.fault(Fault.hang(0.3))
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    with pytest.raises(requests.Timeout):
        requests.post(server.base_url("openai") + "/chat/completions", json=body, timeout=0.1)


def test_cut_stream_drops_connection(server: FakeProviderServer) -> None:
    server.fault(Fault.CUT_STREAM)
    lines: list[bytes] = []
    body = {"model": "m", "messages": [{"role": "user", "content": "a b c d"}], "stream": True}
    url = server.base_url("openai") + "/chat/completions"
    with (
        requests.post(url, json=body, stream=True, timeout=TIMEOUT) as answer,
        pytest.raises(requests.exceptions.ChunkedEncodingError),
    ):
        lines.extend(answer.iter_lines())
    assert lines and not any(b"[DONE]" in line for line in lines)


def test_cut_stream_clean_ends_without_terminator(server: FakeProviderServer) -> None:
    server.fault(Fault.cut_stream(2, clean=True))
    events = sse_events(anthropic_chat(server, stream=True).text)
    names = [name for name, _ in events]
    assert names[-2:] == ["content_block_delta", "content_block_delta"] and "message_stop" not in names


@pytest.mark.parametrize(
    ("call", "marker"),
    [
        (openai_chat, '"type":"server_error"'),
        (anthropic_chat, "event: error"),
        (ollama_chat, '{"error":'),
    ],
)
def test_stream_error_event(server: FakeProviderServer, call: Any, marker: str) -> None:
    server.fault(Fault.STREAM_ERROR)
    answer = call(server, stream=True)
    assert answer.status_code == 200
    assert marker in answer.text.strip().splitlines()[-1] or marker in answer.text.strip().split("\n\n")[-1]
    assert "[DONE]" not in answer.text and "message_stop" not in answer.text


def test_gemini_stream_error_event(server: FakeProviderServer) -> None:
    server.fault(Fault.stream_error(1, message="Boom"))
    events = sse_events(gemini_chat(server, "streamGenerateContent", "?alt=sse").text)
    assert json.loads(events[-1][1]) == {"error": {"code": 500, "message": "Boom", "status": "INTERNAL"}}


def test_stream_faults_on_non_stream_requests(server: FakeProviderServer) -> None:
    server.fault(Fault.STREAM_ERROR)
    assert openai_chat(server).status_code == 500
    server.fault(Fault.CUT_STREAM)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        openai_chat(server)


# -- timing, concurrency and connections ----------------------------------------------------------


def test_stream_events_arrive_incrementally(server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=["one ", "two ", "three"], chunk_delay=0.1))
    started = time.monotonic()
    url = server.base_url("ollama") + "/api/chat"
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    with requests.post(url, json=body, stream=True, timeout=TIMEOUT) as answer:
        lines = answer.iter_lines()
        first = next(lines)
        first_at = time.monotonic() - started
        rest = list(lines)
    assert json.loads(first)["message"]["content"] == "one "
    assert first_at < 0.09
    assert len(rest) == 3 and time.monotonic() - started >= 0.3


def test_concurrent_requests_are_served_in_parallel(server: FakeProviderServer) -> None:
    server.default_delay = 0.2
    results: list[int] = []

    def call() -> None:
        results.append(openai_chat(server).status_code)

    started = time.monotonic()
    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 8
    assert time.monotonic() - started < 0.6
    assert server.connections == 8


def test_connections_are_counted_and_reused(server: FakeProviderServer) -> None:
    with requests.Session() as session:
        for _ in range(3):
            body = {"model": "m", "messages": []}
            session.post(server.base_url("openai") + "/chat/completions", json=body, timeout=TIMEOUT)
        with session.post(
            server.base_url("openai") + "/chat/completions",
            json={"model": "m", "messages": [], "stream": True},
            stream=True,
            timeout=TIMEOUT,
        ) as streamed:
            assert streamed.text.endswith("data: [DONE]\n\n")
        session.post(server.base_url("openai") + "/chat/completions", json=body, timeout=TIMEOUT)
    assert server.connections == 1
    assert len({r.client_port for r in server.requests}) == 1


def test_stop_is_prompt_while_a_request_hangs() -> None:
    server = FakeProviderServer().start()
    server.fault(Fault.HANG)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            openai_chat(server)
        except requests.RequestException as exc:
            errors.append(exc)

    client = threading.Thread(target=call)
    client.start()
    while not server.requests:
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    client.join(timeout=2)
    assert time.monotonic() - started < 1.0
    assert not client.is_alive() and len(errors) == 1
