"""Issue 11 item 1: a credential that cannot go into an HTTP header is a ConfigurationError naming where it came
from, raised before any request, never showing the value (no UnicodeEncodeError, whose repr holds the header)."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

import pepperpy
from pepperpy import cli
from pepperpy.http.transport import Request, Transport
from pepperpy.testing import FakeProviderServer
from tests.conftest import LOCAL_MODELS, write_provider

SECRET = "0123456789abcdefSECRET"
BAD_KEY = f"sk-test-{SECRET}\u201d"  # a typographic closing quote pasted along with the key

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-3.5-flash",
          "ollama": "ollama/llama3.2"}


def assert_hidden(exc: BaseException, *names: str) -> None:
    text = f"{exc}\n{exc!r}"
    assert SECRET not in text
    assert "UnicodeEncodeError" not in text and "latin-1" not in text
    assert not isinstance(exc.__cause__, UnicodeError)
    for name in names:
        assert name in str(exc)


@pytest.fixture
def pointed(server: FakeProviderServer) -> dict[str, dict[str, str]]:
    return {name: {"base_url": server.base_url(name)} for name in MODELS}


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_a_key_in_api_keys_every_dialect(provider: str, pointed: dict[str, dict[str, str]],
                                         server: FakeProviderServer) -> None:
    with pepperpy.Client(env_file=None, api_keys={provider: BAD_KEY}, providers=pointed) as client, \
            pytest.raises(pepperpy.ConfigurationError) as caught:
        client.complete("hi", model=MODELS[provider])
    assert_hidden(caught.value, f"api_keys[{provider!r}]", "U+201D", "RIGHT DOUBLE QUOTATION MARK")
    assert server.requests == []


@pytest.mark.parametrize("variable", ["OPENAI_API_KEY", "PEPPERPY_PROVIDER_OPENAI_API_KEY"])
def test_a_key_in_the_environment(variable: str, monkeypatch: pytest.MonkeyPatch,
                                  pointed: dict[str, dict[str, str]], server: FakeProviderServer) -> None:
    monkeypatch.setenv(variable, BAD_KEY)
    with pepperpy.Client(env_file=None, providers=pointed) as client, \
            pytest.raises(pepperpy.ConfigurationError) as caught:
        client.stream("hi", model="gpt-4o-mini")
    assert_hidden(caught.value, variable)
    assert server.requests == []


def test_a_key_in_the_env_file(tmp_path: Path, pointed: dict[str, dict[str, str]],
                               server: FakeProviderServer) -> None:
    env = tmp_path / "keys.env"
    env.write_text(f"ANTHROPIC_API_KEY={BAD_KEY}\n", encoding="utf-8")
    with pepperpy.Client(env_file=env, providers=pointed) as client, \
            pytest.raises(pepperpy.ConfigurationError) as caught:
        client.complete("hi", model="claude-haiku-4-5")
    assert_hidden(caught.value, "ANTHROPIC_API_KEY", str(env))
    assert server.requests == []


def test_a_key_in_the_keyring(monkeypatch: pytest.MonkeyPatch, pointed: dict[str, dict[str, str]],
                              server: FakeProviderServer) -> None:
    fake = types.SimpleNamespace(get_password=lambda service, user: BAD_KEY if user == "gemini" else None)
    monkeypatch.setitem(sys.modules, "keyring", fake)
    with pepperpy.Client(env_file=None, providers=pointed) as client, \
            pytest.raises(pepperpy.ConfigurationError) as caught:
        client.embed("hi", model="gemini/gemini-embedding-001")
    assert_hidden(caught.value, "keyring", "'gemini'")
    assert server.requests == []


def test_the_seed_api_refuses_at_creation(pointed: dict[str, dict[str, str]]) -> None:
    from pepperpy.providers import create_provider

    with pytest.raises(pepperpy.ConfigurationError) as caught:
        create_provider("openai", api_key=BAD_KEY, base_url=pointed["openai"]["base_url"])
    assert_hidden(caught.value, "api_keys['openai']")


# --------------------------------------------------------------------------- StackSpot client credentials

@pytest.fixture
def stackspot(monkeypatch: pytest.MonkeyPatch, server: FakeProviderServer) -> dict[str, dict[str, object]]:
    monkeypatch.setenv("STACKSPOT_CLIENT_ID", "client-1")
    monkeypatch.setenv("STACKSPOT_CLIENT_SECRET", "secret-1")
    monkeypatch.setenv("STACKSPOT_REALM", "acme")
    return {"stackspot": {"base_url": server.base_url("stackspot"),
                          "options": {"auth_url": server.url + "/{realm}/oidc/oauth/token"}}}


@pytest.mark.parametrize("variable", ["STACKSPOT_CLIENT_ID", "STACKSPOT_CLIENT_SECRET"])
def test_stackspot_client_id_and_secret(variable: str, monkeypatch: pytest.MonkeyPatch,
                                        stackspot: dict[str, dict[str, object]], server: FakeProviderServer) -> None:
    monkeypatch.setenv(variable, f"cl-{SECRET}\u201c")
    with pepperpy.Client(env_file=None, providers=stackspot) as client, \
            pytest.raises(pepperpy.ConfigurationError) as caught:
        client.complete("hi", model="stackspot/agent-1")
    assert_hidden(caught.value, variable)
    assert server.requests == [] and server.tokens_issued == 0


@responses.activate
def test_a_token_that_cannot_be_sent_is_an_authentication_error(stackspot: dict[str, dict[str, object]]) -> None:
    responses.add(responses.POST, "https://idm.stackspot.com/acme/oidc/oauth/token",
                  json={"access_token": f"tok-{SECRET}\u2028", "expires_in": 600})
    with pepperpy.Client(env_file=None, max_retries=0) as client, \
            pytest.raises(pepperpy.AuthenticationError) as caught:
        client.complete("hi", model="stackspot/agent-1")
    assert_hidden(caught.value, "access_token")
    assert len(responses.calls) == 1  # the token request; the agent was never called


# --------------------------------------------------------------------------- URLs and headers

def test_a_password_in_a_base_url_variable(monkeypatch: pytest.MonkeyPatch, server: FakeProviderServer) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fine")
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL",
                       f"http://user:{SECRET}\u201d@127.0.0.1:{server.port}/v1")
    with pepperpy.Client(env_file=None) as client, pytest.raises(pepperpy.ConfigurationError) as caught:
        client.complete("hi", model="gpt-4o-mini")
    assert_hidden(caught.value, "PEPPERPY_PROVIDER_OPENAI_BASE_URL", "password")
    assert server.requests == []


def test_a_user_name_in_a_base_url_given_in_code(server: FakeProviderServer) -> None:
    url = f"http://{SECRET}%E2%80%9D:pw@127.0.0.1:{server.port}/v1"  # percent-encoded: still not Latin-1
    with pepperpy.Client(env_file=None, api_keys={"openai": "sk-fine"},
                         providers={"openai": {"base_url": url}}) as client, \
            pytest.raises(pepperpy.ConfigurationError) as caught:
        client.complete("hi", model="gpt-4o-mini")
    assert_hidden(caught.value, "Client(providers=", "user name")
    assert server.requests == []


def test_an_app_title_variable(monkeypatch: pytest.MonkeyPatch, server: FakeProviderServer) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-fine")
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENROUTER_TITLE", f"My app {SECRET} \u2713")
    with pepperpy.Client(env_file=None, providers={"openrouter": {"base_url": server.base_url("openrouter")}}) as c, \
            pytest.raises(pepperpy.ConfigurationError) as caught:
        c.complete("hi", model="openrouter/openai/gpt-4o")
    assert_hidden(caught.value, "PEPPERPY_PROVIDER_OPENROUTER_TITLE", "U+2713")
    assert server.requests == []


def test_headers_given_in_code_are_checked_with_the_catalog() -> None:
    with pytest.raises(pepperpy.CatalogError) as caught:
        pepperpy.Client(env_file=None, providers={"openai": {"headers": {"api-key": BAD_KEY}}})
    assert_hidden(caught.value, "providers['openai'].headers.api-key")


def test_headers_in_a_catalog_file(tmp_path: Path) -> None:
    folder = write_provider(tmp_path / "cat", "azure", "openai", "https://example.openai.azure.com/openai/v1",
                            extra=f'headers:\n  api-key: "{BAD_KEY}"\n', models=LOCAL_MODELS)
    with pytest.raises(pepperpy.CatalogError) as caught:
        pepperpy.Client(catalog=folder, env_file=None)
    assert_hidden(caught.value, "azure.yaml:6", "headers.api-key")


@pytest.mark.parametrize("value", [f"{SECRET}\u201d", f"{SECRET}\nX-Injected: 1"])
def test_the_transport_names_the_header_never_its_value(value: str, server: FakeProviderServer) -> None:
    transport = Transport("custom", server.base_url("openai"), {"X-Custom-Auth": value}, secrets=())
    with pytest.raises(pepperpy.ConfigurationError) as caught:
        transport.send(Request("POST", "/chat/completions", json={}))
    assert_hidden(caught.value, "X-Custom-Auth")
    assert server.requests == []


# --------------------------------------------------------------------------- the command line

@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, server: FakeProviderServer) -> Iterator[None]:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL", server.base_url("openai"))
    monkeypatch.setenv("OPENAI_API_KEY", BAD_KEY)
    yield


def test_the_cli_prints_one_line_without_the_key(cli_env: None, server: FakeProviderServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["complete", "-m", "gpt-4o-mini", "hi"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the API key in OPENAI_API_KEY contains U+201D") and err.count("\n") == 1
    assert SECRET not in err and "Unicode" not in err
    assert server.requests == []


def test_the_providers_command_marks_the_key_invalid(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["providers"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("openai "))
    assert "invalid: the API key in OPENAI_API_KEY" in row and SECRET not in out
