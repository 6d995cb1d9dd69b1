"""The seed-compatible API: create_provider, Provider, ProviderConfig, ProviderEngine, domain errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import pepperpy
from pepperpy.providers import CatalogProvider, Provider, ProviderConfig, ProviderEngine, create_provider
from pepperpy.providers.domain import ProviderAPIError, ProviderError, ProviderRateLimitError
from pepperpy.testing import FakeProviderServer


@pytest.fixture
def openai_on_loopback(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL", server.base_url("openai"))
    return server


def test_complete_stream_embed_and_cleanup(openai_on_loopback: FakeProviderServer) -> None:
    with create_provider("openai", api_key="sk-seed-test-123456", model="gpt-4o", timeout=30,
                         max_retries=3) as p:
        assert p.complete("Explain quantum computing", temperature=0.7, max_tokens=200) == \
            "echo: Explain quantum computing"
        assert "".join(p.complete("Tell me a story", stream=True)) == "echo: Tell me a story"
        vector = p.embed("Text to embed")
        assert isinstance(vector, list) and all(isinstance(v, float) for v in vector)
    body = openai_on_loopback.requests[0].json
    assert body["model"] == "gpt-4o" and body["temperature"] == 0.7 and body["max_completion_tokens"] == 200
    with pytest.raises(pepperpy.ConfigurationError, match="not initialized"):
        p.complete("after cleanup")


def test_model_from_env_and_extra_config_headers(openai_on_loopback: FakeProviderServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_API_KEY", "sk-seed-env-123456")
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_MODEL", "gpt-4o-mini")
    p = create_provider("openai", extra_config={"organization": "org-1"})
    p.complete("hi")
    sent = openai_on_loopback.requests[-1]
    assert sent.json["model"] == "gpt-4o-mini" and sent.headers["openai-organization"] == "org-1"
    p.cleanup()


def test_provider_config_round_trip_hides_the_key() -> None:
    config = ProviderConfig(provider_type="openai", api_key="sk-secret-value-999", model="gpt-4o",
                            extra_config={"base_url": "http://x"})
    assert config.to_dict() == config.dict() == {
        "provider_type": "openai", "api_key": "sk-secret-value-999", "model": "gpt-4o", "timeout": None,
        "max_retries": None, "extra_config": {"base_url": "http://x"}}
    assert "sk-secret-value-999" not in repr(config)


class EchoProvider(Provider):
    def complete(self, prompt: str, *, temperature: float | None = None, max_tokens: int | None = None,
                 stream: bool = False, **kwargs: Any) -> str | Iterator[str]:
        self._check_initialized()
        return iter(prompt.split()) if stream else prompt.upper()

    def embed(self, text: str, **kwargs: Any) -> list[float]:
        return [float(len(text))]


def test_engine_registers_custom_providers() -> None:
    ProviderEngine.register_provider("echo", EchoProvider)
    try:
        assert "echo" in ProviderEngine.list_providers() and "openai" in ProviderEngine.list_providers()
        with create_provider("echo", api_key="k") as p:
            assert p.complete("hi there") == "HI THERE" and list(p.complete("a b", stream=True)) == ["a", "b"]
    finally:
        ProviderEngine.unregister_provider("echo")
    with pytest.raises(pepperpy.ConfigurationError):
        ProviderEngine.register_provider("bad", object)  # type: ignore[arg-type]


def test_domain_errors_carry_provider_type_and_details(openai_on_loopback: FakeProviderServer) -> None:
    openai_on_loopback.fail(429, times=10)
    p = create_provider("openai", api_key="sk-seed-test-123456", max_retries=0)
    with pytest.raises(ProviderRateLimitError) as info:
        p.complete("hi")
    assert isinstance(info.value, ProviderAPIError) and isinstance(info.value, ProviderError)
    assert info.value.provider_type == "openai" and info.value.details


def test_missing_key_fails_at_create_provider_naming_the_variables() -> None:
    with pytest.raises(pepperpy.ConfigurationError, match="OPENAI_API_KEY"):
        create_provider("openai")


def test_default_model_is_the_catalogs_choice_not_the_priciest(openai_on_loopback: FakeProviderServer) -> None:
    with create_provider("openai", api_key="sk-seed-test-123456") as p:
        p.complete("hi")
    assert openai_on_loopback.requests[-1].json["model"] == "gpt-4o-mini"


def test_sampling_settings_given_to_create_provider_apply_to_each_call(
        openai_on_loopback: FakeProviderServer) -> None:
    with create_provider("openai", api_key="sk-seed-test-123456", model="gpt-4o", temperature=0.3,
                         max_tokens=50) as p:
        p.complete("a")
        p.complete("b", temperature=0.9)
    first, second = (r.json for r in openai_on_loopback.requests[-2:])
    assert (first["temperature"], first["max_completion_tokens"]) == (0.3, 50)
    assert second["temperature"] == 0.9


def test_create_provider_has_the_clients_defaults(openai_on_loopback: FakeProviderServer) -> None:
    """One set of defaults: a provider built without timeout / max_retries behaves as a Client does."""
    with create_provider("openai", api_key="sk-test-123456789") as p, pepperpy.Client(env_file=None) as client:
        assert isinstance(p, CatalogProvider)
        assert p.client.retry_policy == client.retry_policy and p.client.max_retries == 2
        assert p.client.timeout is None and client.timeout is None  # both: the catalog's timeout, else 60 s
        p.complete("hi")
        assert p.client.check_credentials("openai") is None
    with create_provider("openai", api_key="sk-test-123456789", timeout=5, max_retries=4) as p:
        assert isinstance(p, CatalogProvider)
        assert (p.client.timeout, p.client.retry_policy.max_retries) == (5, 4)


# --------------------------------------------------------------------------- issue 11 items 2 and 4

@pytest.mark.parametrize(("kwargs", "error", "words"), [
    ({"modle": "gpt-4o"}, pepperpy.ValidationError, "'modle' is not a parameter of create_provider('openai'); "
                                                    "did you mean 'model'?"),
    ({"temprature": 0.2}, pepperpy.ValidationError, "did you mean 'temperature'?"),
    ({"model": "gpt-4o-mino"}, pepperpy.ModelNotFoundError, "did you mean 'gpt-4o-mini'"),
    ({"temperature": 9}, pepperpy.ValidationError, "temperature=9 is out of range for openai/gpt-4o-mini"),
    ({"model": "gpt-4o", "max_tokens": 10**7}, pepperpy.ValidationError, "max_tokens=10000000 is out of range"),
])
def test_create_provider_checks_what_a_call_would_check(openai_on_loopback: FakeProviderServer,
                                                        kwargs: dict[str, Any], error: type[Exception],
                                                        words: str) -> None:
    with pytest.raises(error) as info:
        create_provider("openai", api_key="sk-seed-test-123456", **kwargs)
    assert words in str(info.value)
    assert openai_on_loopback.requests == []


def test_call_params_given_to_create_provider_are_sent_not_dropped(openai_on_loopback: FakeProviderServer) -> None:
    with create_provider("openai", api_key="sk-seed-test-123456", presence_penalty=0.5, user="u-1",
                         dimensions=64) as p:
        p.complete("a")
        p.embed("b")
    chat, embed = (r.json for r in openai_on_loopback.requests)
    assert (chat["presence_penalty"], chat["user"]) == (0.5, "u-1") and "dimensions" not in chat
    assert embed["dimensions"] == 64


def test_a_bare_name_newer_than_the_catalog_is_still_accepted(openai_on_loopback: FakeProviderServer) -> None:
    """Only a near miss of a listed name is refused at creation; another unlisted name goes out as typed."""
    with create_provider("openai", api_key="sk-seed-test-123456", model="gpt-7-preview") as p, \
            pytest.warns(UserWarning, match="gpt-7-preview"):
        p.complete("hi")
    assert openai_on_loopback.requests[-1].json["model"] == "gpt-7-preview"
