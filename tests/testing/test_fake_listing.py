"""The fakes serve each provider's model listing in its own format, paged, and Ollama's /api/show."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from pepperpy.testing import FakeAdapter, FakeProviderServer

BIG = {"id": "big-1", "context_window": 200000, "max_output_tokens": 8192,
       "pricing": {"input": 3.0, "output": 15.0, "cached_input": 0.3}, "capabilities": ["vision", "tools"]}
NAMES = ["m-1", "m-2", "m-3", "m-4", "m-5"]


def get(server: FakeProviderServer, path: str, **kwargs: Any) -> Any:
    response = requests.get(server.url + path, timeout=5, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_anthropic_pages_by_limit_and_after_id() -> None:
    with FakeProviderServer() as server:
        server.models = list(NAMES)
        headers = {"anthropic-version": "2023-06-01"}
        first = get(server, "/v1/models", params={"limit": "2"}, headers=headers)
        assert [m["id"] for m in first["data"]] == ["m-1", "m-2"]
        assert (first["has_more"], first["first_id"], first["last_id"]) == (True, "m-1", "m-2")
        last = get(server, "/v1/models", params={"limit": "2", "after_id": "m-4"}, headers=headers)
        assert [m["id"] for m in last["data"]] == ["m-5"] and last["has_more"] is False
        server.page_size = 3  # caps even a larger limit
        assert len(get(server, "/v1/models", params={"limit": "1000"}, headers=headers)["data"]) == 3
        assert len(get(server, "/v1/models", headers=headers)["data"]) == 3  # default 20, capped


def test_gemini_pages_by_page_size_and_token() -> None:
    with FakeProviderServer() as server:
        server.models = [*NAMES, {"id": "e-1", "mode": "embedding", "context_window": 2048}]
        server.page_size = 4
        first = get(server, "/v1beta/models", params={"pageSize": "1000"})
        assert [m["name"] for m in first["models"]] == ["models/m-1", "models/m-2", "models/m-3", "models/m-4"]
        second = get(server, "/v1beta/models", params={"pageSize": "1000", "pageToken": first["nextPageToken"]})
        assert [m["name"] for m in second["models"]] == ["models/m-5", "models/e-1"]
        assert "nextPageToken" not in second
        assert second["models"][1]["supportedGenerationMethods"] == ["embedContent", "batchEmbedContents"]
        assert second["models"][1]["inputTokenLimit"] == 2048


def test_openai_listing_carries_openrouter_figures_for_entries_that_have_them() -> None:
    with FakeProviderServer() as server:
        server.models = ["plain", BIG]
        data = get(server, "/api/v1/models")["data"]
        assert data[0] == {"id": "plain", "object": "model", "created": data[0]["created"], "owned_by": "fake"}
        big = data[1]
        assert big["context_length"] == 200000 and big["top_provider"]["max_completion_tokens"] == 8192
        assert big["pricing"]["prompt"] == "0.000003" and big["pricing"]["input_cache_read"] == "0.0000003"
        assert big["architecture"]["input_modalities"] == ["text", "image"]
        assert "tools" in big["supported_parameters"]


def test_ollama_tags_and_show() -> None:
    with FakeProviderServer() as server:
        server.models = ["llama3.2", {"id": "qwen:7b", "context_window": 32768, "capabilities": ["tools"]}]
        tags = get(server, "/api/tags")["models"]
        assert [m["name"] for m in tags] == ["llama3.2:latest", "qwen:7b"]
        show = requests.post(server.url + "/api/show", json={"model": "qwen:7b"}, timeout=5).json()
        assert show["model_info"]["fake.context_length"] == 32768 and show["capabilities"] == ["completion", "tools"]
        assert requests.post(server.url + "/api/show", json={"model": "llama3.2:latest"}, timeout=5).ok
        missing = requests.post(server.url + "/api/show", json={"model": "nope"}, timeout=5)
        assert missing.status_code == 404 and missing.json() == {"error": "model 'nope' not found"}


@pytest.mark.parametrize("path", ["/v1/models", "/v1beta/models"])
def test_the_adapter_pages_the_same_way(path: str) -> None:
    adapter = FakeAdapter()
    adapter.models = list(NAMES)
    adapter.page_size = 2
    session = requests.Session()
    session.mount("https://", adapter)
    body = session.get("https://api.example.com" + path, headers={"anthropic-version": "2023-06-01"}).json()
    assert len(body.get("data") or body.get("models")) == 2
    assert body.get("has_more") is True or body.get("nextPageToken") == "fake-page-2"
