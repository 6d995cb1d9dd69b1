"""The WebSocket road honours what the HTTP road honours: the environment's proxy for the provider's address
(and NO_PROXY), decided as requests decides it and passed to websockets explicitly, and REQUESTS_CA_BUNDLE."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeRealtimeServer

trustme = pytest.importorskip("trustme")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client_for(fake: FakeRealtimeServer, **options: Any) -> pepperpy.Client:
    return pepperpy.Client(env_file=None, api_keys={"openai": "sk-net"},
                           providers={"openai": {"base_url": fake.base_url("openai")}}, **options)


def test_the_environment_proxy_is_used_and_named_and_no_proxy_skips_it(fake: FakeRealtimeServer,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HTTP_PROXY", proxy)
    with pytest.raises(pepperpy.ProviderConnectionError) as caught:
        client_for(fake, max_retries=0).realtime("gpt-realtime-2")
    assert f"through the proxy {proxy}" in str(caught.value) and "NO_PROXY" in str(caught.value)
    assert fake.handshakes == 0
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with client_for(fake).realtime("gpt-realtime-2") as s:
        assert s.ask("Hello").text == "echo: Hello"


@pytest.fixture
def tls_fake(tmp_path: Path) -> Iterator[tuple[FakeRealtimeServer, Path]]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with FakeRealtimeServer(ssl_context=context) as fake:
        yield fake, bundle


def test_wss_trusts_requests_ca_bundle(tls_fake: tuple[FakeRealtimeServer, Path],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fake, bundle = tls_fake
    assert fake.base_url("openai").startswith("https://")
    with pytest.raises(pepperpy.ProviderConnectionError) as caught:
        client_for(fake, max_retries=0).realtime("gpt-realtime-2")
    assert "certificate verify failed" in str(caught.value) and "REQUESTS_CA_BUNDLE" in str(caught.value)
    assert not caught.value.retryable  # the certificate will not change
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    with client_for(fake).realtime("gpt-realtime-2") as s:
        assert s.ask("Over TLS").text == "echo: Over TLS"
    assert fake.sessions[-1].path == "/v1/realtime?model=gpt-realtime-2"
