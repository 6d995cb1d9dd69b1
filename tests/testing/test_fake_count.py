"""The fake server's token-counting endpoints (the fake tokenizer counts words)."""

from __future__ import annotations

import requests

from pepperpy.testing import FakeProviderServer

USER = {"role": "user", "content": "one two three"}
TOOL = {"name": "look", "description": "find it", "input_schema": {"type": "object"}}


def test_anthropic_count_tokens(server: FakeProviderServer) -> None:
    url = server.base_url("anthropic") + "/v1/messages/count_tokens"
    headers = {"anthropic-version": "2023-06-01", "x-api-key": "k"}
    body = {"model": "m", "system": "be brief", "messages": [USER], "tools": [TOOL]}
    assert requests.post(url, json=body, headers=headers, timeout=5).json() == {"input_tokens": 3 + 2 + 4}
    missing = requests.post(url, json={"model": "m"}, headers=headers, timeout=5)
    assert missing.status_code == 400 and "messages: Field required" in missing.text
    assert server.pending == 0


def test_gemini_count_tokens(server: FakeProviderServer) -> None:
    url = server.base_url("gemini") + "/models/fake-chat:countTokens"
    contents = [{"role": "user", "parts": [{"text": "one two three"}]}]
    assert requests.post(url, json={"contents": contents}, timeout=5).json() == {"totalTokens": 3}
    wrapped = {"generateContentRequest": {"model": "models/fake-chat", "contents": contents,
                                          "systemInstruction": {"parts": [{"text": "be brief"}]}}}
    assert requests.post(url, json=wrapped, timeout=5).json() == {"totalTokens": 5}
    del wrapped["generateContentRequest"]["model"]
    assert requests.post(url, json=wrapped, timeout=5).status_code == 400


def test_openai_input_tokens_and_llamacpp_tokenize(server: FakeProviderServer) -> None:
    body = {"model": "m", "instructions": "be brief", "input": [USER]}
    answer = requests.post(server.base_url("openai") + "/responses/input_tokens", json=body, timeout=5).json()
    assert answer == {"object": "response.input_tokens", "input_tokens": 5}
    prompt = requests.post(server.url + "/apply-template", json={"messages": [USER]}, timeout=5).json()["prompt"]
    tokens = requests.post(server.url + "/tokenize", json={"content": prompt, "add_special": True}, timeout=5).json()
    assert len(tokens["tokens"]) == 3
