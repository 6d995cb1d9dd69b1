"""Mistakes on the caller's side are typed at once, never retried, and never leak a credential."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer

SECRET = "mysecretvalue-0123456789"


def local_client(server: FakeProviderServer, **kwargs: object) -> pepperpy.Client:
    return pepperpy.Client(env_file=None, providers={"openai": {"base_url": server.base_url("openai")}},
                           **kwargs)  # type: ignore[arg-type]


def test_a_key_with_a_trailing_newline_is_stripped(server: FakeProviderServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET + "\n")
    with local_client(server) as client:
        client.complete("hi", model="gpt-4o-mini")
    assert server.requests[-1].headers["authorization"] == f"Bearer {SECRET}"


def test_a_key_with_inner_whitespace_names_the_variable_not_the_value(server: FakeProviderServer,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "abc def-0123456789")
    with local_client(server) as client, pytest.raises(pepperpy.ConfigurationError) as info:
        client.complete("hi", model="gpt-4o-mini")
    assert "OPENAI_API_KEY" in str(info.value) and "abc def" not in str(info.value)
    assert server.requests == []


def test_redirects_are_not_followed(server: FakeProviderServer) -> None:
    server.fail(307, headers={"location": "http://127.0.0.2:1/v1/chat/completions?key=x"}, body={})
    expected = re.escape("redirect to http://127.0.0.2:1/v1/chat/completions: pepperpy does not follow")
    with pepperpy.Client(env_file=None, api_keys={"anthropic": SECRET}, max_retries=0,
                         providers={"anthropic": {"base_url": server.base_url("anthropic")}}) as client, \
            pytest.raises(pepperpy.InvalidRequestError, match=expected):
        client.complete("hi", model="claude-haiku")
    assert len(server.requests) == 1


def test_a_password_in_base_url_stays_out_of_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_PROVIDER_VLLM_BASE_URL", "http://admin:hunter2-s3cret@127.0.0.1:9/v1")
    with pepperpy.Client(env_file=None, max_retries=0) as client, \
            pytest.raises(pepperpy.ProviderConnectionError) as info:
        client.complete("hi", model="vllm/any-model")
    assert "hunter2" not in str(info.value) and "127.0.0.1:9/v1" in str(info.value)


@pytest.mark.parametrize("value", [math.inf, math.nan, {"a set"}])
def test_params_that_are_not_json_are_refused_before_sending(server: FakeProviderServer, value: object) -> None:
    with local_client(server, api_keys={"openai": SECRET}, breaker={"fail_max": 1}) as client:
        with pytest.raises(pepperpy.ValidationError, match="cannot be sent as JSON"):
            client.complete("hi", model="gpt-4o-mini", metadata={"x": value})
        assert server.requests == [] and client.breaker_state("openai") == "closed"


def test_a_base_url_without_scheme_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OLLAMA_BASE_URL", "localhost:11434")
    with pepperpy.Client(env_file=None) as client, pytest.raises(pepperpy.ConfigurationError, match="BASE_URL"):
        client.complete("hi", model="ollama/llama3.2")
    assert client.breaker_state("ollama") == "closed"


def test_a_base_url_in_code_beats_the_environment(server: FakeProviderServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    with local_client(server, api_keys={"openai": SECRET}) as client:
        assert client.complete("hi", model="gpt-4o-mini").text == "echo: hi"


@pytest.mark.parametrize("timeout", [0, -1, (5, 0), "60", (1, 2, 3), True])
def test_bad_timeouts_are_refused_when_the_client_is_built(timeout: object) -> None:
    with pytest.raises(pepperpy.ConfigurationError, match="timeout"):
        pepperpy.Client(env_file=None, timeout=timeout)  # type: ignore[arg-type]


def test_submodules_are_reachable_from_a_bare_import(tmp_path: Path) -> None:
    code = "import pepperpy, sys; print(callable(pepperpy.aio.create_provider), 'requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.split() == ["True", "False"]
