"""client.sync_catalog: the catalog against each provider's own listing, read page by page from the fake."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter

import pepperpy
from pepperpy.catalog._registry import check_file
from pepperpy.client._catalog_sync import MAX_PAGES
from pepperpy.testing import FakeAdapter, FakeProviderServer

KEY = "sk-test-0123456789"
NEW = {"id": "brand-new-1", "context_window": 100000, "max_output_tokens": 5000,
       "pricing": {"input": 2.5, "output": 10.0, "cached_input": 1.25}, "capabilities": ["tools", "vision"]}


@pytest.fixture
def server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as fake:
        fake.page_size = 2  # every listing that pages takes several pages
        yield fake


def client_for(server: FakeProviderServer, *, strict: bool = False, catalog: Path | None = None) -> pepperpy.Client:
    dialects = {"openai": "openai", "openrouter": "openai", "anthropic": "anthropic", "gemini": "gemini",
                "ollama": "ollama"}
    return pepperpy.Client(catalog, env_file=None, strict_models=strict,
                           api_keys={name: KEY for name in dialects if name != "ollama"},
                           providers={name: {"base_url": server.base_url(d)} for name, d in dialects.items()})


def listed(client: pepperpy.Client, provider: str, count: int) -> list[str]:
    return [m.id for m in client.models(provider=provider)][:count]


def test_anthropic_every_page_and_every_kind_of_difference(server: FakeProviderServer) -> None:
    client = client_for(server)
    ours = client.models(provider="anthropic")
    kept, changed = ours[0], ours[1]
    server.models = [kept.id, {"id": changed.id, "context_window": 123456, "max_output_tokens": 4096},
                     f"{kept.id}-20991231", NEW]
    diff = client.sync_catalog("anthropic")
    # two pages of two: the second starts after the first page's last_id
    assert [r.query for r in server.requests] == [{"limit": "1000"}, {"limit": "1000", "after_id": changed.id}]
    assert [m.id for m in diff.added] == ["brand-new-1"]
    assert (diff.added[0].context_window, diff.added[0].max_output_tokens) == (100000, 5000)
    assert diff.added[0].pricing is None  # Anthropic's listing gives no prices: none invented
    assert diff.added[0].capabilities == {"vision"}  # what its capabilities object says (it has no "tools")
    assert {m.id for m in diff.removed} == {m.id for m in ours[2:]}
    assert [(c.model, c.field, c.catalog, c.provider) for c in diff.changed] == [
        (changed.name, "context_window", changed.context_window, 123456),
        (changed.name, "max_output_tokens", changed.max_output_tokens, 4096)]
    assert diff.inherited == (f"{kept.id}-20991231",)
    assert diff.differs and diff.lines()[0].startswith("anthropic: 4 models listed by the provider; 1 new")


def test_gemini_pages_by_token_and_leaves_out_what_is_neither_chat_nor_embedding(server: FakeProviderServer) -> None:
    client = client_for(server)
    server.models = [*listed(client, "gemini", 3), {"id": "embed-new", "mode": "embedding", "context_window": 2048},
                     {"id": "imagen-new", "mode": "image"}]
    diff = client.sync_catalog("gemini")
    assert [r.query.get("pageToken") for r in server.requests] == [None, "fake-page-2", "fake-page-4"]
    assert [(m.id, m.mode) for m in diff.added] == [("embed-new", "embedding")]
    assert diff.unmapped == (("imagen-new", "methods predict"),)
    assert len(diff.listed) == 4


def test_openrouter_figures_are_compared_and_prices_read_per_million(server: FakeProviderServer) -> None:
    client = client_for(server)
    model = client.models(provider="openrouter")[0]
    assert model.pricing is not None and model.context_window is not None
    server.models = [{"id": model.id, "context_window": model.context_window, "max_output_tokens": 1000,
                      "pricing": {"input": model.pricing.input * 2, "output": model.pricing.output}}, NEW]
    diff = client.sync_catalog("openrouter")
    assert [r.path for r in server.requests] == ["/v1/models"]  # one page: the OpenAI format does not page
    fields = {c.field: (c.catalog, c.provider) for c in diff.changed}
    assert fields["pricing.input"] == (model.pricing.input, model.pricing.input * 2)
    assert "pricing.output" not in fields and "context_window" not in fields
    assert diff.added[0].pricing is not None and diff.added[0].pricing.cached_input == 1.25


def test_ollama_asks_show_for_every_pulled_model(server: FakeProviderServer) -> None:
    client = client_for(server)
    first = listed(client, "ollama", 1)[0]
    server.models = [first, {"id": "qwen-new:7b", "context_window": 32768, "capabilities": ["tools"]}]
    diff = client.sync_catalog("ollama")
    assert [r.path for r in server.requests] == ["/api/tags", "/api/show", "/api/show"]
    assert [(m.id, m.context_window, m.capabilities) for m in diff.added] == [("qwen-new:7b", 32768, {"tools"})]
    assert first not in {m.id for m in diff.removed}


def test_strict_models_counts_dated_names_as_new(server: FakeProviderServer) -> None:
    client = client_for(server, strict=True)
    first = listed(client, "anthropic", 1)[0]
    server.models = [first, f"{first}-20991231"]
    diff = client.sync_catalog("anthropic")
    assert [m.id for m in diff.added] == [f"{first}-20991231"] and diff.inherited == ()


def test_write_gives_a_valid_catalog_file_that_a_client_uses(server: FakeProviderServer, tmp_path: Path) -> None:
    client = client_for(server)
    server.models = [*listed(client, "openai", 2), NEW]
    folder = tmp_path / "my-catalog"
    path = client.sync_catalog("openai").write(folder, today=datetime.date(2026, 12, 1))
    assert path == folder / "openai-synced.yaml"
    text = path.read_text()
    assert text.startswith("# Written by `pepperpy catalog sync openai` on 2026-12-01")
    assert "provider: openai\nchecked: 2026-12-01\nmodels:\n  - id: \"brand-new-1\"\n" in text
    assert check_file(path) == []
    server.reply("hello from the new model")
    with client_for(server, catalog=folder) as synced:
        spec = synced.model("brand-new-1")
        assert (spec.context_window, spec.pricing and spec.pricing.input) == (100000, 2.5)
        assert synced.complete("hi", model="brand-new-1").text == "hello from the new model"
        assert synced.sync_catalog("openai").added == ()  # nothing new any more


def test_a_later_write_keeps_edits_drops_what_is_gone_and_refuses_files_it_did_not_write(
        server: FakeProviderServer, tmp_path: Path) -> None:
    client = client_for(server)
    server.models = [NEW, {"id": "also-new"}]
    path = client.sync_catalog("openai").write(tmp_path)
    assert path is not None
    path.write_text(path.read_text().replace('  - id: "also-new"\n', '  - id: "also-new"\n    aliases: [mine]\n'))
    server.models = [{"id": "also-new"}, {"id": "newest"}]
    assert client.sync_catalog("openai").write(tmp_path) == path
    text = path.read_text()
    assert 'aliases: ["mine"]' in text and '"newest"' in text and "brand-new-1" not in text
    server.models = []
    own = tmp_path / "elsewhere"
    own.mkdir()
    (own / "openai-synced.yaml").write_text("provider: openai\nmodels: [{id: handmade}]\n")
    server.models = [NEW]
    with pytest.raises(pepperpy.ValidationError, match="was not written by `pepperpy catalog sync`"):
        client.sync_catalog("openai").write(own)
    assert "handmade" in (own / "openai-synced.yaml").read_text()
    server.models = [*listed(client, "openai", 100)]
    assert client.sync_catalog("openai").write(tmp_path / "empty") is None  # nothing new: no file


def test_a_provider_without_a_listing_api_says_so_before_asking_for_credentials() -> None:
    with pytest.raises(pepperpy.ValidationError, match=r"^stackspot has no model-listing API"):
        pepperpy.Client(env_file=None).sync_catalog("stackspot")


def test_listing_errors_are_typed(server: FakeProviderServer) -> None:
    client = client_for(server)
    server.api_key = "sk-another-key-0123456789"
    with pytest.raises(pepperpy.AuthenticationError):
        client.sync_catalog("openai")
    with pytest.raises(pepperpy.ConfigurationError, match="OPENAI_API_KEY"):
        pepperpy.Client(env_file=None).sync_catalog("openai")
    with pytest.raises(pepperpy.ConfigurationError, match="unknown provider"):
        client.sync_catalog("opnai")


class Answers(BaseAdapter):
    """Answers every request with the next of these JSON bodies."""

    def __init__(self, *bodies: object) -> None:
        super().__init__()
        self.bodies = list(bodies)

    def send(self, request: PreparedRequest, *args: object, **kwargs: object) -> Response:
        response = Response()
        response.status_code, response.url = 200, request.url or ""
        response._content = json.dumps(self.bodies.pop(0)).encode()
        response.headers["Content-Type"] = "application/json"
        return response

    def close(self) -> None:
        pass


def test_a_listing_in_an_unknown_shape_or_endless_pages_is_a_provider_error(server: FakeProviderServer) -> None:
    wrong = pepperpy.Client(env_file=None, api_keys={"openai": KEY},  # a Gemini listing where OpenAI's should be
                            providers={"openai": {"base_url": server.base_url("gemini")}})
    with pytest.raises(pepperpy.ProviderAPIError, match=r"model listing \(/models\) in a shape the openai dialect"):
        wrong.sync_catalog("openai")
    page = {"data": [], "has_more": True, "last_id": "same"}
    looping = pepperpy.Client(env_file=None, api_keys={"anthropic": KEY}, transport=Answers(page, page))
    with pytest.raises(pepperpy.ProviderAPIError, match="repeats its page cursor 'same'"):
        looping.sync_catalog("anthropic")
    endless = [{"data": [], "has_more": True, "last_id": f"page-{i}"} for i in range(MAX_PAGES)]
    with pytest.raises(pepperpy.ProviderAPIError, match=f"did not end within {MAX_PAGES} pages"):
        pepperpy.Client(env_file=None, api_keys={"anthropic": KEY}, transport=Answers(*endless)).sync_catalog(
            "anthropic")


def test_sync_runs_through_the_fake_adapter_too() -> None:
    adapter = FakeAdapter()
    adapter.models = [NEW]
    adapter.page_size = 1
    client = pepperpy.Client(env_file=None, api_keys={"gemini": KEY}, transport=adapter)
    diff = client.sync_catalog("gemini")
    assert [m.id for m in diff.added] == ["brand-new-1"] and diff.added[0].context_window == 100000


# --------------------------------------------------------------------------- issue 24 item 10: no silent mode

def test_write_takes_a_mode_only_from_evidence_and_says_when_it_has_none(server: FakeProviderServer,
                                                                         tmp_path: Path) -> None:
    client = client_for(server)
    server.models = ["text-embedding-4-small", "mystery-model-9", "gpt-7-nova"]  # OpenAI's listing: ids only
    diff = client.sync_catalog("openai")
    assert {m.id: m.mode for m in diff.added} == {"text-embedding-4-small": "embedding", "mystery-model-9": "chat",
                                                  "gpt-7-nova": "chat"}
    assert diff.unknown_mode == ("mystery-model-9",)  # text-embedding-* and gpt-* are families OpenAI documents
    lines = "\n".join(diff.lines())
    assert "+ text-embedding-4-small (embedding)" in lines and "+ mystery-model-9 (mode unknown: set it" in lines
    path = diff.write(tmp_path / "synced")
    assert path is not None
    text = path.read_text()
    assert '  - id: "text-embedding-4-small"\n    mode: "embedding"\n' in text
    assert '  - id: "mystery-model-9"\n    # mode: unknown — set it' in text
    assert '  - id: "gpt-7-nova"\n' in text and check_file(path) == []
    with client_for(server, catalog=tmp_path / "synced") as synced:
        assert synced.model("text-embedding-4-small").mode == "embedding"  # `pepperpy embed` takes it
        assert len(synced.embed(["a"], model="text-embedding-4-small").vectors) == 1
