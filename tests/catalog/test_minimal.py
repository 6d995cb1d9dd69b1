"""Minimal entries: a model needs only ``id``, a new provider only ``base_url`` (its dialect defaults to openai)."""

from __future__ import annotations

from pathlib import Path

import pytest

import pepperpy
from pepperpy.catalog._registry import Catalog, check_file
from pepperpy.testing import FakeProviderServer, Reply


def four_lines(folder: Path, base_url: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "house.yaml"
    path.write_text(f"provider: house\nbase_url: {base_url}\nrequires_api_key: false\nmodels: [{{id: x}}]\n",
                    encoding="utf-8")
    return path


def test_the_four_line_provider_file_serves_complete_and_stream(tmp_path: Path) -> None:
    with FakeProviderServer() as server:
        folder = tmp_path / "my-catalog"
        path = four_lines(folder, server.base_url("openai"))
        assert len(path.read_text().splitlines()) == 4
        server.reply(Reply("hello from house"))
        server.reply(Reply(chunks=["str", "eam"]))
        with pepperpy.Client(catalog=folder, env_file=None) as client:
            spec = client.model("house/x")
            assert (spec.mode, spec.context_window, spec.max_output_tokens, spec.pricing, spec.source) == \
                ("chat", None, None, None, None)
            assert client.catalog.providers["house"].dialect == "openai"
            result = client.complete("hi", model="x", max_tokens=10**6)  # no limit known: no pre-flight refusal
            assert result.text == "hello from house" and result.cost is None
            assert "".join(chunk.text for chunk in client.stream("hi", model="house/x")) == "stream"
        sent = server.requests
        assert [r.path for r in sent] == ["/v1/chat/completions"] * 2
        assert all(r.json["model"] == "x" for r in sent)
        assert sent[0].json["max_tokens"] == 10**6
        assert "authorization" not in sent[0].headers  # requires_api_key: false, and no key set


def test_a_minimal_file_passes_the_validator_and_gets_no_invented_figures(tmp_path: Path) -> None:
    path = four_lines(tmp_path, "http://localhost:8000/v1")
    assert check_file(path) == []
    model = Catalog.from_files([path]).resolve("house/x")[1]
    assert model.capabilities == frozenset() and not model.params and model.deprecated is None


def test_a_new_provider_still_needs_a_base_url(tmp_path: Path) -> None:
    path = tmp_path / "house.yaml"
    path.write_text("provider: house\nmodels: [{id: x}]\n", encoding="utf-8")
    with pytest.raises(pepperpy.CatalogError, match="needs 'base_url'") as info:
        Catalog.from_files([path])
    assert (info.value.file, info.value.line, info.value.field) == (str(path), 1, "base_url")


def test_an_explicit_dialect_still_wins(tmp_path: Path) -> None:
    path = tmp_path / "local.yaml"
    path.write_text("provider: local\ndialect: ollama\nbase_url: http://localhost:11434\nmodels: [{id: m}]\n",
                    encoding="utf-8")
    assert Catalog.from_files([path]).providers["local"].dialect == "ollama"
