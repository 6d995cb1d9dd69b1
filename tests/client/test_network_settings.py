"""Proxies, CA bundles and TLS from the environment: a mistake in them is a typed error that says which setting to
check, never a bare OSError, and never shows a proxy's password (docs/troubleshooting.md, docs/security.md)."""

from __future__ import annotations

import socket

import pytest
import requests

import pepperpy
from pepperpy.http import _translate
from pepperpy.testing import FakeProviderServer

KEY = "sk-test-network-0123456789"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client(base_url: str) -> pepperpy.Client:
    return pepperpy.Client(env_file=None, api_keys={"openai": KEY}, max_retries=0,
                           providers={"openai": {"base_url": base_url}})


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_that_does_not_exist_names_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "/nowhere/company-ca.pem")
    with client("https://api.example.invalid/v1") as c, pytest.raises(pepperpy.ConfigurationError) as info:
        c.complete("hi", model="gpt-4o-mini")
    assert f"{variable}='/nowhere/company-ca.pem' does not exist" in str(info.value)


def test_a_plain_http_provider_does_not_need_the_bundle(monkeypatch: pytest.MonkeyPatch,
                                                        server: FakeProviderServer) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nowhere/company-ca.pem")  # requests ignores it for http too
    with client(server.base_url("openai")) as c:
        assert c.complete("hi", model="gpt-4o-mini").text == "echo: hi"


def test_a_proxy_that_refuses_is_named_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("HTTPS_PROXY", f"http://alice:proxy-pass-1234@127.0.0.1:{port}")
    with client("https://api.example.invalid/v1") as c, pytest.raises(pepperpy.ProviderConnectionError) as info:
        c.complete("hi", model="gpt-4o-mini")
    text = str(info.value)
    assert f"through the proxy http://***@127.0.0.1:{port}" in text and "NO_PROXY" in text
    assert "proxy-pass-1234" not in text + repr(info.value) and info.value.retryable


def test_no_proxy_skips_the_proxy(monkeypatch: pytest.MonkeyPatch, server: FakeProviderServer) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with client(server.base_url("openai")) as c:
        assert c.complete("hi", model="gpt-4o-mini").text == "echo: hi"


def test_a_certificate_that_does_not_verify_says_where_a_company_ca_goes() -> None:
    failure = requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                                           "self-signed certificate in certificate chain (_ssl.c:1006)")
    error = _translate.from_transport_error(failure, provider="openai", model="m",
                                            url="https://api.openai.com/v1/chat/completions")
    assert isinstance(error, pepperpy.ProviderConnectionError) and not error.retryable
    assert "set REQUESTS_CA_BUNDLE to a PEM file" in str(error)
    other = _translate.from_transport_error(requests.exceptions.SSLError("[SSL] record layer failure"),
                                            provider="openai", model="m")
    assert "REQUESTS_CA_BUNDLE" not in str(other)
