"""OpenRouter: the OpenAI dialect plus attribution headers, keep-alive comments, open models and usage.cost."""

from __future__ import annotations

import json

import pytest
import responses

import pepperpy
from pepperpy.dialects.openai import DIALECT
from pepperpy.http.transport import iter_sse
from pepperpy.providers import create_provider

KEY = "sk-or-v1-test-0123456789"
URL = "https://openrouter.ai/api/v1/chat/completions"
ANSWER = {"id": "gen-1", "object": "chat.completion", "model": "anthropic/claude-sonnet-4.5", "provider": "Anthropic",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop",
                       "native_finish_reason": "end_turn"}],
          "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12, "cost": 0.000123}}


@pytest.fixture
def client() -> pepperpy.Client:
    return pepperpy.Client(env_file=None, api_keys={"openrouter": KEY}, max_retries=0)


@responses.activate
def test_open_models_send_the_vendor_slug_and_prefer_usage_cost(client: pepperpy.Client) -> None:
    responses.post(URL, json=ANSWER)
    r = client.complete("Hi", model="openrouter/anthropic/claude-sonnet-4.5", max_tokens=20)
    body = json.loads(responses.calls[0].request.body or b"{}")
    assert body["model"] == "anthropic/claude-sonnet-4.5" and body["max_tokens"] == 20
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {KEY}"
    assert r.cost == 0.000123 and r.provider == "openrouter" and r.finish_reason == "stop"


@responses.activate
def test_attribution_headers_from_the_environment(client: pepperpy.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENROUTER_REFERER", "https://my-app.example")
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENROUTER_TITLE", "My App")
    responses.post(URL, json=ANSWER)
    with pepperpy.Client(env_file=None, api_keys={"openrouter": KEY}) as fresh:
        fresh.complete("Hi", model="openrouter/openai/gpt-4o-mini")
    headers = responses.calls[0].request.headers
    assert headers["HTTP-Referer"] == "https://my-app.example" and headers["X-Title"] == "My App"


@responses.activate
def test_attribution_headers_from_extra_config() -> None:
    responses.post(URL, json=ANSWER)
    with create_provider("openrouter", api_key=KEY, model="openai/gpt-4o-mini",
                         extra_config={"referer": "https://your-app.com", "title": "Your App"}) as p:
        assert p.complete("Hi") == "Hi"
    headers = responses.calls[0].request.headers
    assert headers["HTTP-Referer"] == "https://your-app.com" and headers["X-Title"] == "Your App"
    assert json.loads(responses.calls[0].request.body or b"{}")["model"] == "openai/gpt-4o-mini"


def test_keep_alive_comments_are_ignored_and_stream_cost_is_kept(client: pepperpy.Client) -> None:
    stream = (b": OPENROUTER PROCESSING\n\n"
              b'data: {"id":"gen-1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}\n\n'
              b": OPENROUTER PROCESSING\n\n"
              b'data: {"id":"gen-1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}\n\n'
              b'data: {"id":"gen-1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,'
              b'"total_tokens":5,"cost":0.00042}}\n\n'
              b"data: [DONE]\n\n")
    parser = DIALECT.stream_parser(client.model("openrouter/x/y"))
    chunks = [c for e, d in iter_sse([stream]) if (c := parser.feed(e, d)) is not None]
    assert "".join(c.text for c in chunks) == "Hello" and chunks[-1].cost == 0.00042 and parser.done


@pytest.mark.parametrize("code", ["server_error", 502])
def test_mid_stream_error_with_a_string_or_int_code(client: pepperpy.Client, code: object) -> None:
    parser = DIALECT.stream_parser(client.model("openrouter/x/y"))
    event = json.dumps({"id": "cmpl-abc123", "object": "chat.completion.chunk", "error": {
        "code": code, "message": "Provider disconnected unexpectedly"},
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]}).encode()
    with pytest.raises(pepperpy.ProviderUnavailableError, match="Provider disconnected"):
        parser.feed("message", event)


@responses.activate
def test_compatible_vendors_get_max_tokens_and_openai_gets_max_completion_tokens() -> None:
    responses.post("https://api.groq.com/openai/v1/chat/completions", json=ANSWER)
    responses.post("https://api.openai.com/v1/chat/completions", json=ANSWER)
    keys = {"groq": "gsk_test0123456789", "openai": "sk-test-0123456789"}
    with pepperpy.Client(env_file=None, api_keys=keys) as client:
        groq_model = client.models(provider="groq", mode="chat")[0].name
        client.complete("Hi", model=groq_model, max_tokens=5)
        client.complete("Hi", model="gpt-4o-mini", max_tokens=5)
    groq_body, openai_body = (json.loads(c.request.body or b"{}") for c in responses.calls)
    assert groq_body["max_tokens"] == 5 and "max_completion_tokens" not in groq_body
    assert openai_body["max_completion_tokens"] == 5 and "max_tokens" not in openai_body
