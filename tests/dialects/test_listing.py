"""Model listings read into catalog entries, from plain dicts in each provider's format (no I/O)."""

from __future__ import annotations

import pytest

from pepperpy.dialects import _listing
from pepperpy.dialects.base import get_dialect
from pepperpy.types import ProviderSpec


@pytest.mark.parametrize(("value", "expected"), [
    ("0.0000025", 2.5), ("0.00000015", 0.15), ("0", 0.0), (0.000003, 3.0), ("-1", None), ("", None), (None, None),
    ("free", None),
])
def test_per_token_prices_become_prices_per_million(value: object, expected: float | None) -> None:
    assert _listing.per_million(value) == expected


def test_openai_ids_only_and_openrouter_figures() -> None:
    payload = {"object": "list", "data": [
        {"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "system"},
        {"id": "anthropic/claude-x", "context_length": 200000,
         "top_provider": {"context_length": 200000, "max_completion_tokens": 64000, "is_moderated": False},
         "pricing": {"prompt": "0.000003", "completion": "0.000015", "input_cache_read": "0.0000003", "request": "0"},
         "architecture": {"input_modalities": ["text", "image", "file"], "output_modalities": ["text"]},
         "supported_parameters": ["tools", "tool_choice", "reasoning", "structured_outputs", "temperature"]},
        {"id": "openrouter/auto", "context_length": None, "pricing": {"prompt": "-1", "completion": "-1"}},
    ]}
    assert _listing.openai_page(payload) == [
        {"id": "gpt-4o"},
        {"id": "anthropic/claude-x", "context_window": 200000, "max_output_tokens": 64000,
         "pricing": {"input": 3.0, "output": 15.0, "cached_input": 0.3},
         "capabilities": ["json_output", "pdf", "reasoning", "tools", "vision"]},
        {"id": "openrouter/auto"},  # variable prices and no context: nothing is guessed
    ]


def test_anthropic_pages_follow_last_id_while_has_more() -> None:
    first = {"data": [{"type": "model", "id": "claude-a", "max_input_tokens": 200000, "max_tokens": 64000,
                       "capabilities": {"image_input": {"supported": True}, "pdf_input": {"supported": False},
                                        "thinking": {"supported": True, "types": {}}}},
                      {"type": "model", "id": "claude-b", "max_input_tokens": None, "max_tokens": None,
                       "capabilities": None}],
             "has_more": True, "first_id": "claude-a", "last_id": "claude-b"}
    entries, cursor = _listing.anthropic_page(first)
    assert entries == [{"id": "claude-a", "mode": "chat", "context_window": 200000, "max_output_tokens": 64000,
                        "capabilities": ["reasoning", "vision"]}, {"id": "claude-b", "mode": "chat"}]
    assert cursor == "claude-b"
    assert _listing.anthropic_page({**first, "has_more": False})[1] is None
    request = _listing.anthropic_request("claude-b")
    assert (request.method, request.path, request.params) == ("GET", "/v1/models",
                                                              {"limit": "1000", "after_id": "claude-b"})


def test_gemini_modes_come_from_the_generation_methods() -> None:
    payload = {"models": [
        {"name": "models/gemini-x", "inputTokenLimit": 1048576, "outputTokenLimit": 65536, "thinking": True,
         "supportedGenerationMethods": ["generateContent", "countTokens"]},
        {"name": "models/embed-x", "inputTokenLimit": 2048, "outputTokenLimit": 1,
         "supportedGenerationMethods": ["embedContent"]},
        {"name": "models/imagen-x", "inputTokenLimit": 480, "supportedGenerationMethods": ["predict"]},
    ], "nextPageToken": "abc"}
    entries, cursor = _listing.gemini_page(payload)
    assert entries == [
        {"id": "gemini-x", "mode": "chat", "context_window": 1048576, "max_output_tokens": 65536,
         "capabilities": ["reasoning"]},
        {"id": "embed-x", "mode": "embedding", "context_window": 2048},
        {"id": "imagen-x", "_unmapped": "methods predict", "context_window": 480},
    ]
    assert cursor == "abc" and _listing.gemini_page({"models": []}) == ([], None)
    assert _listing.gemini_request("abc").params == {"pageSize": "1000", "pageToken": "abc"}


def test_ollama_tags_then_show() -> None:
    entries = _listing.ollama_tags({"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest"},
                                               {"name": "qwen2.5:7b", "model": "qwen2.5:7b"}]})
    assert entries == [{"id": "llama3.2"}, {"id": "qwen2.5:7b"}]
    assert _listing.ollama_show_request(entries[1]).json == {"model": "qwen2.5:7b"}
    show = {"model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32768},
            "capabilities": ["completion", "tools", "insert"]}
    assert _listing.ollama_show(show, entries[1]) == {"id": "qwen2.5:7b", "mode": "chat", "context_window": 32768,
                                                      "capabilities": ["tools"]}
    embed = {"model_info": {"general.architecture": "bert", "bert.context_length": 512},
             "capabilities": ["embedding"]}
    assert _listing.ollama_show(embed, {"id": "e"}) == {"id": "e", "mode": "embedding", "context_window": 512}
    unmapped = {"id": "i", "_unmapped": "capabilities image"}
    assert _listing.ollama_show({"capabilities": ["image"]}, {"id": "i"}) == unmapped


@pytest.mark.parametrize(("dialect", "path"), [("openai", "/models"), ("anthropic", "/v1/models"),
                                                ("gemini", "/models"), ("ollama", "/api/tags"), ("stackspot", None)])
def test_every_dialect_says_where_its_listing_is(dialect: str, path: str | None) -> None:
    provider = ProviderSpec(name="p", dialect=dialect, base_url="http://x")
    request = get_dialect(dialect).build_list_models(provider, None)
    assert (request.path if request is not None else None) == path
