"""Issue 11 items 6 and 7: errors that point the right way (see also tests/test_overflow.py).

Context overflow: every provider's wording (verbatim from /work/notes/structured-listing-wire.md, section D)
becomes a ContextLengthError with ``tokens`` and ``limit`` when the message states them. A 404 shows the URL
that was requested, and a doubled path gets the base URL to use instead.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

import pepperpy
from pepperpy.http import _translate
from pepperpy.testing import FakeProviderServer
from pepperpy.web import http_error


def openai_error(message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": "messages", **extra}}


def vllm_error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "BadRequestError", "param": None, "code": 400}}


LLAMA_CPP = {"error": {"code": 400, "message": "request (5024 tokens) exceeds the available context size (4096 "
                       "tokens), try increasing it", "type": "exceed_context_size_error", "n_prompt_tokens": 5024,
                       "n_ctx": 4096}}
ANTHROPIC = {"type": "error", "error": {"type": "invalid_request_error",
                                        "message": "prompt is too long: 210000 tokens > 200000 maximum"}}

OVERFLOWS = {
    "openai": (openai_error("This model's maximum context length is 128000 tokens. However, your messages resulted in "
                            "130000 tokens. Please reduce the length of the messages.", code="context_length_exceeded"),
               130000, 128000),
    "openai-split": (openai_error("This model's maximum context length is 8192 tokens. However, you requested 9000 "
                                  "tokens (8000 in the messages, 1000 in the completion). Please reduce the length of "
                                  "the messages or completion.", code="context_length_exceeded"), 8000, 8192),
    "openai-responses": (openai_error("Your input exceeds the context window of this model. Please adjust your input "
                                      "and try again.", code="context_length_exceeded"), None, None),
    "anthropic": (ANTHROPIC, 210000, 200000),
    "anthropic-max-tokens": ({"type": "error", "error": {
        "type": "invalid_request_error", "message": "input length and `max_tokens` exceed context limit: 195000 + "
        "8192 > 200000, decrease input length or `max_tokens` and try again"}}, 195000, 200000),
    "gemini-vertex": ({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "The input token count "
                                 "(1200000) exceeds the maximum number of tokens allowed (1048576)."}},
                      1200000, 1048576),
    "gemini-ai-studio": ({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "The input token count "
                                    "exceeds the maximum number of tokens allowed (1048576)."}}, None, 1048576),
    "llama.cpp": (LLAMA_CPP, 5024, 4096),
    "vllm-old": (vllm_error("This model's maximum context length is 4096 tokens. However, you requested 5000 tokens "
                            "(4900 in the messages, 100 in the completion). Please reduce the length of the messages "
                            "or completion."), 4900, 4096),
    "vllm-0.10": (vllm_error("This model's maximum context length is 8192 tokens. However, you requested 64 output "
                             "tokens and your prompt contains at least 8129 input tokens, for a total of at least 8193 "
                             "tokens. Please reduce the length of the input prompt or the number of requested output "
                             "tokens."), 8129, 8192),
    "vllm-current": (vllm_error("You passed 9000 input tokens and requested 100 output tokens. However, the model's "
                                "context length is only 8192 tokens, resulting in a maximum input length of 8092 "
                                "tokens. Please reduce the length of the input prompt."), 9000, 8192),
    "vllm-characters": (vllm_error("You passed 40000 input characters and requested 100 output tokens. However, the "
                                   "model's context length is only 8192 tokens, resulting in a maximum input length of "
                                   "8092 tokens (at most 32368 characters). Please reduce the length of the input "
                                   "prompt."), None, 8192),
    "vllm-max-tokens": (vllm_error("max_tokens=10000 cannot be greater than max_model_len=8192. Please request fewer "
                                   "output tokens."), None, 8192),
    "ollama": ({"error": "the input length exceeds the context length"}, None, None),
    "ollama-truncation": ({"error": "input after truncation exceeds maximum context length"}, None, None),
    "ollama-runner": ({"error": "the prompt is longer than the context length currently available to the model; "
                                "shorten the prompt, adjust the context length in settings, or use a model with a "
                                "longer context length"}, None, None),
    "ollama-nested-llama.cpp": ({"error": json.dumps(LLAMA_CPP)}, 5024, 4096),
    "openrouter": ({"error": {"code": 400, "message": "This endpoint's maximum context length is 8192 tokens. "
                              "However, you requested about 12000 tokens. Please reduce the length of either one."}},
                   12000, 8192),
    "openrouter-upstream": ({"error": {"code": 400, "message": "Provider returned error", "metadata": {
        "provider_name": "Anthropic", "raw": json.dumps(ANTHROPIC)}}}, 210000, 200000),
}


@pytest.mark.parametrize("case", sorted(OVERFLOWS))
def test_every_providers_overflow_is_a_context_length_error_with_its_numbers(case: str) -> None:
    body, tokens, limit = OVERFLOWS[case]
    error = _translate.from_response(400, json.dumps(body).encode(), {"content-type": "application/json"},
                                     provider="p", model="m")
    assert isinstance(error, pepperpy.ContextLengthError), (case, error)
    assert (error.tokens, error.limit) == (tokens, limit)
    assert error.retryable is False and "Shorten the prompt or lower max_tokens" in str(error)
    assert http_error(error)[0] == 413


def test_the_upstream_words_are_in_the_message() -> None:
    body, _, _ = OVERFLOWS["openrouter-upstream"]
    error = _translate.from_response(400, json.dumps(body).encode(), {}, provider="openrouter", model="m")
    assert "Provider returned error (Anthropic: prompt is too long: 210000 tokens > 200000 maximum)" in str(error)


def test_an_overflow_sent_mid_stream_keeps_its_numbers() -> None:
    error = _translate.from_error_payload(OVERFLOWS["openrouter"][0], status=None, provider="openrouter", model="m")
    assert isinstance(error, pepperpy.ContextLengthError) and (error.tokens, error.limit) == (12000, 8192)


def test_other_bad_requests_stay_invalid_request_errors() -> None:
    body = openai_error("Invalid value for 'temperature': must be between 0 and 2.")
    error = _translate.from_response(400, json.dumps(body).encode(), {}, provider="p", model="m")
    assert type(error) is pepperpy.InvalidRequestError


def test_llama_cpp_overflow_through_a_client_is_a_413_for_web_apps(server: FakeProviderServer) -> None:
    server.fail(400, LLAMA_CPP)
    with pepperpy.Client(env_file=None, providers={"llamacpp": {"base_url": server.base_url("llamacpp")}}) as client, \
            pytest.raises(pepperpy.ContextLengthError) as info:
        client.complete("a long prompt", model="llamacpp/qwen3-8b")
    assert (info.value.tokens, info.value.limit) == (5024, 4096)
    assert http_error(info.value)[0] == 413
    assert len(server.requests) == 1  # not retried


# --------------------------------------------------------------------------- item 6: a base_url with a wrong path

# What each server answers for a path it does not serve
NOT_FOUND = {
    "openai": {"json": {"error": {"message": "Invalid URL (POST /v1/chat/completions/chat/completions)",
                                  "type": "invalid_request_error", "param": None, "code": None}}},
    "anthropic": {"json": {"type": "error", "error": {"type": "not_found_error", "message": "Not Found"}}},
    "ollama": {"body": "404 page not found", "content_type": "text/plain"},
}


@responses.activate
@pytest.mark.parametrize(("provider", "model", "base", "fixed", "added"), [
    ("openai", "gpt-4o-mini", "https://api.openai.com/v1/chat/completions", "https://api.openai.com/v1",
     "/chat/completions"),
    ("anthropic", "claude-haiku-4-5", "https://api.anthropic.com/v1", "https://api.anthropic.com", "/v1/messages"),
    ("ollama", "ollama/llama3.2", "http://gpu-box:11434/api", "http://gpu-box:11434", "/api/chat"),
])
def test_a_doubled_path_gets_the_base_url_to_use(provider: str, model: str, base: str, fixed: str,
                                                 added: str) -> None:
    responses.add(responses.POST, base + added, status=404, **NOT_FOUND[provider])
    with pepperpy.Client(env_file=None, api_keys={provider: "sk-test-123456"},
                         providers={provider: {"base_url": base}}) as client, \
            pytest.raises(pepperpy.InvalidRequestError) as info:
        client.complete("hi", model=model)
    message = str(info.value)
    assert f"the request went to {base}{added}" in message
    assert f"Set the provider's base_url to {fixed}: " in message
    assert f"pepperpy adds {added}" in message and "Check the model name" not in message


def test_a_plain_404_shows_the_url_requested(server: FakeProviderServer) -> None:
    server.fail(404, {"error": {"message": "The model `gpt-4o-mini` does not exist", "type": "invalid_request_error",
                                "code": "model_not_found"}})
    with pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-123456"},
                         providers={"openai": {"base_url": server.base_url("openai")}}) as client, \
            pytest.raises(pepperpy.InvalidRequestError) as info:
        client.complete("hi", model="gpt-4o-mini")
    assert (f"Check the model name 'gpt-4o-mini' and the provider's base_url (the request went to "
            f"{server.url}/v1/chat/completions)") in str(info.value)


def test_an_html_404_on_a_doubled_path() -> None:
    error = _translate.from_response(404, b"<html>Not found</html>", {"content-type": "text/html"}, provider="vllm",
                                     model="m", url="http://gpu:8000/v1/chat/completions/chat/completions",
                                     base_url="http://gpu:8000/v1/chat/completions")
    assert "Set the provider's base_url to http://gpu:8000/v1:" in str(error)
