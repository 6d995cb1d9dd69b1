"""Invariants over the whole packaged catalog."""

from __future__ import annotations

from collections import Counter

import pytest

import pepperpy
from pepperpy.catalog._registry import Catalog, check_file, packaged_catalog_dir
from pepperpy.dialects.base import DIALECTS

CATALOG = Catalog.load(include_env=False)
MODELS = list(CATALOG.iter_models())


def test_at_least_80_current_models_and_the_seed_aliases() -> None:
    client = pepperpy.Client(env_file=None)
    assert len(client.models()) >= 80
    assert client.model("gemini-pro").provider == "gemini"
    for alias, provider in [("gemini-flash", "gemini"), ("claude-sonnet", "anthropic"), ("claude-opus", "anthropic"),
                            ("claude-haiku", "anthropic"), ("gpt-4o", "openai"), ("text-embedding-3-small", "openai")]:
        assert client.model(alias).provider == provider


def test_every_file_passes_the_validator() -> None:
    for path in sorted(packaged_catalog_dir().glob("*.yaml")):
        assert check_file(path) == [], path


def test_bare_ids_and_aliases_are_unambiguous() -> None:
    names = Counter(name for m in MODELS for name in {m.id, *m.aliases, *m.snapshots})
    assert [n for n, count in names.items() if count > 1] == []
    qualified = {f"{m.provider}/{n}": m for m in MODELS for n in (m.id, *m.aliases)}
    for model in MODELS:
        for name in (model.id, *model.aliases, model.name):
            _, spec = CATALOG.resolve(name)
            # "<provider>/<id>" beats a bare OpenRouter-style id that looks the same (documented rule)
            assert spec is qualified.get(name, model), name


MEDIA_MODES = ("image", "speech", "transcription")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_model_figures(model: pepperpy.ModelSpec) -> None:
    if model.mode == "video":  # no tokens: durations, sizes and a price per second instead
        assert model.seconds and model.sizes and model.source and model.source.startswith("https://")
        assert model.pricing is not None and model.pricing.per_second is not None
        assert model.pricing.video_cost(min(model.seconds)) is not None  # a default price for an unset size
        return
    if model.mode not in MEDIA_MODES:
        assert model.context_window and model.context_window > 0
    if model.mode == "chat":
        assert model.max_output_tokens is not None and 0 < model.max_output_tokens <= model.context_window
    assert model.pricing is not None and model.pricing.input >= 0 and model.pricing.output >= 0
    if model.mode in MEDIA_MODES:  # priced in its own unit, or per token: never without a price
        pricing = model.pricing
        units = {"image": pricing.per_image, "speech": pricing.per_million_characters,
                 "transcription": pricing.per_minute}
        assert pricing.per_token or units[model.mode], model.name
    assert model.source and model.source.startswith("https://")
    for name, allowed in model.params.items():
        if allowed.supported and allowed.min is not None and allowed.max is not None:
            assert allowed.min <= allowed.max, name


def test_media_models_fix_what_their_provider_fixes() -> None:
    by_mode = {mode: [m for m in MODELS if m.mode == mode] for mode in MEDIA_MODES}
    assert {m.provider for m in by_mode["image"]} >= {"openai", "gemini", "xai"}
    assert {m.provider for m in by_mode["speech"]} >= {"openai", "gemini"}
    assert {m.provider for m in by_mode["transcription"]} >= {"openai", "groq"}
    for model in by_mode["speech"]:
        assert model.voices and model.formats, model.name
    for model in by_mode["transcription"]:
        assert model.max_upload_bytes == 25_000_000, model.name  # OpenAI's and Groq's documented limit
    gemini_images = [m for m in by_mode["image"] if m.provider == "gemini"]
    assert gemini_images and all(m.sizes == ("1K", "2K", "4K") for m in gemini_images)
    current = [m.name for m in MODELS if m.mode in MEDIA_MODES and m.deprecated is None]
    assert {"openai/gpt-image-2.6-flare", "openai/gpt-transcribe", "gemini/gemini-3.8-flash-tts"} <= set(current)


def test_every_provider_has_a_known_dialect_and_sane_urls() -> None:
    local = {"ollama", "llamacpp", "vllm", "lmstudio"}
    for provider in CATALOG.providers.values():
        assert provider.dialect in DIALECTS
        if provider.name in local:
            assert not provider.requires_api_key and provider.open_models
            assert provider.base_url.startswith("http://localhost")
        else:
            assert provider.base_url.startswith("https://")


def test_local_servers_move_with_base_url_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_PROVIDER_VLLM_BASE_URL", "http://gpu-box:8000/v1")
    from pepperpy.config import Settings

    assert Settings(None).base_url(CATALOG.providers["vllm"]) == "http://gpu-box:8000/v1"


def test_dated_snapshots_resolve_to_their_model_and_go_on_the_wire_as_typed() -> None:
    snapshotted = [m for m in MODELS if m.snapshots]
    assert snapshotted
    for model in snapshotted:
        for name in model.snapshots:
            _, spec = CATALOG.resolve(name)
            assert spec.id == model.id and spec.wire_name == name and spec.pricing == model.pricing
            assert CATALOG.resolve(f"{model.provider}/{name}")[1].wire_name == name
        assert CATALOG.resolve(model.id)[1].wire_name == (model.api_name or model.id)
