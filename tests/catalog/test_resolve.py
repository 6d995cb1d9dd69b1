"""Name resolution, user folders, overrides and open models."""

from __future__ import annotations

from pathlib import Path

import pytest

import pepperpy
from tests.conftest import write_provider

ONE = """\
- id: gpt-4o
  aliases: [house-model]
  mode: chat
  context_window: 1000
  max_output_tokens: 10
  source: https://example.com
"""


def test_packaged_models_resolve_by_id_alias_and_provider_prefix() -> None:
    client = pepperpy.Client(env_file=None)
    spec = client.model("gpt-4o")
    assert spec.provider == "openai" and spec.id == "gpt-4o"
    assert client.model("openai/gpt-4o") == spec
    assert client.model("GPT-4o") == spec


def test_unknown_model_suggests_close_matches() -> None:
    client = pepperpy.Client(env_file=None)
    with pytest.raises(pepperpy.ModelNotFoundError) as info:
        client.model("gpt-4oo")
    assert "gpt-4o" in info.value.suggestions
    assert "did you mean" in str(info.value)


def test_unknown_model_of_a_closed_provider_in_strict_mode_says_how_to_add_it() -> None:
    with pytest.raises(pepperpy.ModelNotFoundError, match="add it to a catalog YAML"):
        pepperpy.Client(env_file=None, strict_models=True).model("openai/not-a-model")


def test_user_folder_replaces_a_provider_model_and_adds_providers(tmp_path: Path) -> None:
    folder = tmp_path / "cat"
    folder.mkdir()
    (folder / "openai.yaml").write_text("provider: openai\nmodels:\n" + "  " + ONE.replace("\n", "\n  "))
    write_provider(folder, "house", "openai", "http://127.0.0.1:9/v1",
                   models=ONE.replace("gpt-4o", "house-1").replace("house-model", "hm"))
    client = pepperpy.Client(catalog=folder, env_file=None)
    replaced = client.model("openai/gpt-4o")
    assert replaced.context_window == 1000 and replaced.aliases == ("house-model",)
    assert client.model("house-model") == replaced
    assert client.model("hm").provider == "house"
    assert client.model("gpt-4o-mini").provider == "openai"  # the rest of openai is kept
    assert client.catalog.providers["openai"].base_url == "https://api.openai.com/v1"


def test_catalog_path_env_adds_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = write_provider(tmp_path / "a", "alpha", "openai", "http://127.0.0.1:9/v1", models=ONE.replace("gpt-4o", "a1")
                       .replace("house-model", "a-alias"))
    b = write_provider(tmp_path / "b", "beta", "openai", "http://127.0.0.1:9/v1", models=ONE.replace("gpt-4o", "b1")
                       .replace("house-model", "b-alias"))
    monkeypatch.setenv("PEPPERPY_CATALOG_PATH", f"{a}:{b}")
    client = pepperpy.Client(env_file=None)
    assert client.model("a1").provider == "alpha" and client.model("b1").provider == "beta"


def test_open_models_accept_any_name(tmp_path: Path) -> None:
    folder = write_provider(tmp_path / "c", "lan", "openai", "http://127.0.0.1:9/v1", extra="open_models: true\n",
                            models="[]\n")
    client = pepperpy.Client(catalog=folder, env_file=None)
    spec = client.model("lan/meta/llama-3-8b")
    assert spec.provider == "lan" and spec.wire_name == "meta/llama-3-8b" and spec.open
    with pytest.raises(pepperpy.ModelNotFoundError):
        client.model("lan")


def test_models_filters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = pepperpy.Client(env_file=None)
    embeds = client.models(mode="embedding")
    assert embeds and all(m.mode == "embedding" for m in embeds)
    assert all(m.provider == "openai" for m in client.models(provider="openai"))
    assert all("vision" in m.capabilities for m in client.models(capability="vision"))
    assert not any(m.provider == "openai" for m in client.models(available=True))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123456789")
    assert any(m.provider == "openai" for m in client.models(available=True))
    assert not any(m.provider == "openai" for m in client.models(available=False))


def test_offered_models_follow_pepperpy_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_MODELS", "gpt-4o, claude-sonnet ,gpt-4o-mini")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123456789")
    client = pepperpy.Client(env_file=None)
    assert [m.id for m in client.offered_models()] == ["gpt-4o", "gpt-4o-mini"]


def test_provider_overrides_in_code() -> None:
    client = pepperpy.Client(env_file=None, providers={"openai": {"base_url": "http://127.0.0.1:9/v1/",
                                                                  "headers": {"X-A": "1"}}})
    spec = client.catalog.providers["openai"]
    assert spec.base_url == "http://127.0.0.1:9/v1" and spec.headers["X-A"] == "1"
    with pytest.raises(pepperpy.CatalogError, match=r"providers\[.openai.\].base_ulr: unknown key .base_ulr."):
        pepperpy.Client(env_file=None, providers={"openai": {"base_ulr": "x"}})


def test_a_later_file_extends_headers_and_options(tmp_path: Path) -> None:
    folder = tmp_path / "ext"
    folder.mkdir()
    (folder / "openrouter.yaml").write_text(
        "provider: openrouter\nheaders: {X-Extra: '1'}\noptions: {stream_usage: false}\n")
    spec = pepperpy.Client(catalog=folder, env_file=None).catalog.providers["openrouter"]
    assert spec.headers["X-Extra"] == "1"
    assert spec.options["stream_usage"] is False and "referer_env" in spec.options  # kept from the packaged file


def test_unknown_provider_message() -> None:
    with pytest.raises(pepperpy.ConfigurationError, match=r"unknown provider 'opnai'; did you mean 'openai'") as info:
        pepperpy.Client(env_file=None).catalog.provider("opnai")
    assert "Known providers: anthropic, deepseek, gemini" in str(info.value)


def test_a_provider_name_where_a_model_was_expected() -> None:
    with pytest.raises(pepperpy.ModelNotFoundError, match="'openai' is a provider") as info:
        pepperpy.Client(env_file=None).model("openai")
    assert info.value.suggestions[0] == "openai/gpt-4o-mini"


def test_suggestions_skip_retiring_models() -> None:
    client = pepperpy.Client(env_file=None)
    retiring = [m for m in client.models() if m.deprecated]
    assert retiring
    with pytest.raises(pepperpy.ModelNotFoundError) as info:
        client.model(retiring[0].id + "x")
    assert all(not client.model(s).deprecated for s in info.value.suggestions)
