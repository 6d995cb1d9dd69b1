"""Names the provider accepts but the catalog does not list: snapshots and fine-tunes inherit their base model's
entry, other ``<provider>/<name>`` go on the wire as typed with one warning, ``api_name`` resolves, and
``strict_models=True`` keeps refusing them all."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer


@pytest.fixture(scope="module")
def client() -> pepperpy.Client:
    return pepperpy.Client(env_file=None)


@pytest.mark.parametrize(("name", "base", "wire"), [
    ("openai/gpt-4o-2024-11-20", "openai/gpt-4o", "gpt-4o-2024-11-20"),
    ("gpt-4o-2024-11-20", "openai/gpt-4o", "gpt-4o-2024-11-20"),
    ("ft:gpt-4o-mini:acme::abc123", "openai/gpt-4o-mini", "ft:gpt-4o-mini:acme::abc123"),
    ("openai/ft:gpt-4o-mini-2024-07-18:acme:support:abc123", "openai/gpt-4o-mini",
     "ft:gpt-4o-mini-2024-07-18:acme:support:abc123"),
    ("claude-opus-5-20991231", "anthropic/claude-opus-5", "claude-opus-5-20991231"),
    ("gpt-4o-0613", "openai/gpt-4o", "gpt-4o-0613"),
])
def test_dated_snapshots_and_fine_tunes_inherit_their_base_model(client: pepperpy.Client, name: str, base: str,
                                                                 wire: str) -> None:
    spec, listed = client.model(name), client.model(base)
    assert spec.wire_name == wire and not spec.open
    assert (spec.provider, spec.id, spec.context_window, spec.max_output_tokens, spec.pricing, spec.capabilities,
            spec.params) == (listed.provider, listed.id, listed.context_window, listed.max_output_tokens,
                             listed.pricing, listed.capabilities, listed.params)


def test_a_mistral_dated_name_inherits_its_latest_entry(client: pepperpy.Client) -> None:
    latest = next(m for m in client.models(provider="mistral") if m.id.endswith("-latest"))
    spec = client.model("mistral/" + latest.id.removesuffix("-latest") + "-2411")
    assert spec.id == latest.id and spec.wire_name.endswith("-2411")


def test_an_unlisted_name_of_a_hosted_provider_is_sent_as_typed_with_one_warning(tmp_path: Path) -> None:
    with FakeProviderServer() as server, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-0123456789"},
                                 providers={"openai": {"base_url": server.base_url("openai")}})
        spec = client.model("openai/o1")
        assert (spec.open, spec.context_window, spec.max_output_tokens, spec.pricing) == (True, None, None, None)
        first = client.complete("hi", model="openai/o1", max_tokens=10**6)
        client.complete("hi", model="openai/o1")
        assert "".join(c.text for c in client.stream("hi", model="openai/o1"))
        client.complete("hi", model="openai/chatgpt-4o-latest")
    assert first.cost is None
    assert [r.json["model"] for r in server.requests] == ["o1", "o1", "o1", "chatgpt-4o-latest"]
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 2, messages  # one per name, not one per call
    assert messages[0].startswith("openai/o1 is not in the catalog")
    assert "strict_models=True" in messages[0] and "cost None" in messages[0]
    assert caught[0].filename == __file__  # points at the caller's line


def test_a_typo_on_a_hosted_provider_says_what_it_may_have_meant() -> None:
    with FakeProviderServer() as server, pytest.warns(UserWarning, match=r"did you mean 'openai/gpt-4o-mini'\?"):
        client = pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-0123456789"},
                                 providers={"openai": {"base_url": server.base_url("openai")}})
        client.complete("hi", model="openai/gpt-4o-mimi")


def test_a_model_resolves_by_its_api_name(tmp_path: Path, client: pepperpy.Client) -> None:
    (tmp_path / "house.yaml").write_text("provider: house\nbase_url: http://localhost:8000/v1\nmodels:\n"
                                         "  - {id: qwen, api_name: Qwen/Qwen2.5-7B-Instruct}\n", encoding="utf-8")
    house = pepperpy.Client(catalog=tmp_path, env_file=None)
    assert house.model("Qwen/Qwen2.5-7B-Instruct").name == "house/qwen"
    assert house.model("house/Qwen/Qwen2.5-7B-Instruct").name == "house/qwen"
    assert client.model("groq/openai/gpt-oss-120b").name == "groq/gpt-oss-120b"
    assert client.model("qwen/qwen3.8-27b").name == "groq/qwen3.8-27b"
    # an api_name that starts with another provider's name does not take that provider's names over
    with pytest.warns(UserWarning, match="openai/gpt-oss-120b is not in the catalog"), FakeProviderServer() as server:
        other = pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-0123456789"},
                                providers={"openai": {"base_url": server.base_url("openai")}})
        assert other.model("openai/gpt-oss-120b").provider == "openai"
        other.complete("hi", model="openai/gpt-oss-120b")


def test_a_bare_unknown_name_says_how_to_call_an_unlisted_model(client: pepperpy.Client) -> None:
    with pytest.raises(pepperpy.ModelNotFoundError) as info:
        client.model("chatgpt-4o-latest")
    assert "name its provider: 'openai/chatgpt-4o-latest'" in str(info.value)
    with pytest.raises(pepperpy.ModelNotFoundError, match="name its provider: '<provider>/zzqqxx'"):
        client.model("zzqqxx")


def test_strict_mode_keeps_refusing_every_unlisted_name(tmp_path: Path) -> None:
    strict = pepperpy.Client(env_file=None, strict_models=True)
    for name in ("openai/gpt-4o-2024-11-20", "gpt-4o-2024-11-20", "ft:gpt-4o-mini:acme::abc123", "openai/o1"):
        with pytest.raises(pepperpy.ModelNotFoundError):
            strict.model(name)
    with pytest.raises(pepperpy.ModelNotFoundError, match="strict_models"):
        strict.model("openai/o1")
    assert strict.model("gpt-4o-mini-2024-07-18").id == "gpt-4o-mini"  # a listed snapshot is listed
    assert strict.model("groq/openai/gpt-oss-120b").id == "gpt-oss-120b"  # so is an api_name
    assert strict.model("ollama/anything:7b").open  # open_models providers stay open
    assert pepperpy.Client(env_file=None, strict_models=True, providers={"openai": {"timeout": 5}}).catalog.strict


@pytest.mark.parametrize("name", ["sora-2", "dall-e-3", "nope-model"])
def test_the_provider_of_an_unknown_name_is_not_guessed_from_a_far_match(client: pepperpy.Client, name: str) -> None:
    """'sora-2' is nearest to Ollama's 'mistral': advising 'ollama/sora-2' sent users to a local server."""
    with pytest.raises(pepperpy.ModelNotFoundError, match=f"name its provider: '<provider>/{name}'"):
        client.model(name)
