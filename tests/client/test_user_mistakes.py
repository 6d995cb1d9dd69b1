"""Mistakes users coming from other libraries make: each gets a typed error that says what to do instead."""

from __future__ import annotations

import logging
import re
import warnings

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer

KEY = "sk-test-mistakes-0123456789"


@pytest.fixture
def client(server: FakeProviderServer) -> pepperpy.Client:
    return pepperpy.Client(env_file=None, api_keys={"openai": KEY}, max_retries=0,
                           providers={"openai": {"base_url": server.base_url("openai")}})


def test_messages_must_be_a_list(client: pepperpy.Client) -> None:
    with pytest.raises(pepperpy.ValidationError, match="messages must be a list"):
        client.complete(model="gpt-4o-mini", messages="hello")  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "value", "hint"), [
    ("api_key", "sk-in-the-body-0123456789", "Client\\(api_keys="),
    ("timeout", 5, "Client\\(timeout="),
    ("stream", True, "client.stream"),
    ("base_url", "http://x", "base_url"),
])
def test_client_options_are_not_request_parameters(client: pepperpy.Client, server: FakeProviderServer, name: str,
                                                   value: object, hint: str) -> None:
    with pytest.raises(pepperpy.ValidationError, match=hint) as info:
        client.complete("hi", model="gpt-4o-mini", **{name: value})
    assert server.requests == [] and "sk-in-the-body" not in str(info.value) + repr(info.value.value)


def test_a_base_url_without_scheme_suggests_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OLLAMA_BASE_URL", "localhost:11434 ")
    with pepperpy.Client(env_file=None) as c, \
            pytest.raises(pepperpy.ConfigurationError, match="did you mean 'http://localhost:11434'"):
        c.complete("hi", model="ollama/llama3.2")


def test_a_refused_explicit_key_points_at_where_it_came_from(client: pepperpy.Client,
                                                             server: FakeProviderServer) -> None:
    server.fail(401)
    with pytest.raises(pepperpy.AuthenticationError, match=re.escape("Client(api_keys={'openai': ...})")) as info:
        client.complete("hi", model="gpt-4o-mini")
    assert "OPENAI_API_KEY" not in str(info.value)


def test_misspelt_providers_and_fallbacks_fail_when_the_client_is_built() -> None:
    with pytest.raises(pepperpy.ConfigurationError, match="did you mean 'openai'"):
        pepperpy.Client(env_file=None, api_keys={"opnai": KEY})
    with pytest.raises(pepperpy.ConfigurationError, match="did you mean 'openai'"):
        pepperpy.Client(env_file=None, rate_limits={"opnai": {"rpm": 10}})
    with pytest.raises(pepperpy.ModelNotFoundError, match="claude-haikoo"):
        pepperpy.Client(env_file=None, fallbacks={"gpt-4o-mini": ["claude-haikoo"]})


def test_a_misspelt_fallback_in_a_call_is_not_skipped_silently(client: pepperpy.Client,
                                                               server: FakeProviderServer) -> None:
    with pytest.raises(pepperpy.ModelNotFoundError, match="claude-haikoo"):
        client.complete("hi", model="gpt-4o-mini", fallbacks=["claude-haikoo"])
    assert server.requests == []


def test_a_deprecated_model_warns_once_at_the_callers_line(client: pepperpy.Client) -> None:
    old = next(m for m in client.models(provider="openai", mode="chat") if m.deprecated)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.complete("hi", model=old.name)
        client.complete("hi", model=old.name)
    messages = [w for w in caught if issubclass(w.category, FutureWarning)]
    assert len(messages) == 1 and old.deprecated is not None and old.deprecated in str(messages[0].message)
    assert messages[0].filename == __file__


def test_a_stream_answered_with_html_says_to_check_base_url(client: pepperpy.Client,
                                                            server: FakeProviderServer) -> None:
    server.fail(200, body="<html><body>Please log in</body></html>", headers={"content-type": "text/html"})
    with pytest.raises(pepperpy.StreamError, match="text/html instead of an event stream; check its base_url"):
        list(client.stream("hi", model="gpt-4o-mini"))


def test_the_library_logger_has_a_null_handler() -> None:

    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("pepperpy").handlers)


def test_an_answer_of_the_wrong_shape_is_not_an_empty_success(client: pepperpy.Client,
                                                              server: FakeProviderServer) -> None:
    server.fail(200, body={"hello": "world"})
    with pytest.raises(pepperpy.ProviderAPIError, match="does its base_url point at an API of that dialect"):
        client.complete("hi", model="gpt-4o-mini")
    server.fail(200, body={"object": "list", "data": []})
    with pytest.raises(pepperpy.ProviderAPIError, match="0 vectors for 2 texts"):
        client.embed(["a", "b"], model="text-embedding-3-small")


# --------------------------------------------------------------------------- issue 11 item 12

@pytest.mark.parametrize(("option", "hint"), [
    ("api_key", "api_keys={'openai': ...}"),
    ("base_url", "providers={'openai': {'base_url': ...}}"),
    ("timout", "did you mean timeout=?"),
    ("max_retry", "did you mean max_retries=?"),
    ("colour", "its options are api_keys, breaker,"),
])
def test_an_unknown_client_option_says_what_to_write(option: str, hint: str) -> None:
    with pytest.raises(pepperpy.ConfigurationError) as info:
        pepperpy.Client(env_file=None, **{option: KEY})
    assert hint in str(info.value) and KEY not in str(info.value)


def test_an_unknown_provider_is_a_configuration_error_naming_the_known_ones() -> None:
    for build in (lambda: pepperpy.Client(env_file=None, api_keys={"opnai": KEY}),
                  lambda: pepperpy.Client(env_file=None, providers={"opnai": {"timeout": 3}}),
                  lambda: pepperpy.Client(env_file=None).has_credentials("opnai")):
        with pytest.raises(pepperpy.ConfigurationError, match="unknown provider 'opnai'; did you mean") as info:
            build()
        assert "Known providers: anthropic, deepseek, gemini, groq" in str(info.value)
    from pepperpy.providers import create_provider

    with pytest.raises(pepperpy.ConfigurationError, match="unknown provider 'antropic'; did you mean 'anthropic'"):
        create_provider("antropic", api_key=KEY)
