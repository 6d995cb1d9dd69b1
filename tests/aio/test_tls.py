"""TLS on both roads to a provider: ``complete`` (requests) and ``acomplete`` (the event loop's own HTTP/1.1
client), against an HTTPS front on loopback whose certificates come from a CA made at test time (trustme).

Each case runs both ways and expects the same outcome: the same answer, or the same error class, the same
``retryable`` and the same words, which say what to fix.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tls_helpers import TLSFront

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.conftest import LOCAL_MODELS, wait_until, write_provider

trustme = pytest.importorskip("trustme")  # a dev dependency (pyproject.toml); never skipped under make test

MODES = ("blocking", "async")


@pytest.fixture(scope="module")
def ca() -> Any:
    return trustme.CA()


@pytest.fixture
def front(server: FakeProviderServer) -> Iterator[Callable[..., TLSFront]]:
    """``front(ca, *names)``: an HTTPS front for the fake server, its certificate issued by ``ca`` for ``names``."""
    made: list[TLSFront] = []

    def start(authority: Any, *names: str) -> TLSFront:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(*names).configure_cert(context)
        made.append(TLSFront(server.port, context))
        return made[-1]

    yield start
    for each in made:
        each.close()


def bundle_of(authority: Any, path: Path) -> str:
    authority.cert_pem.write_to_path(str(path))
    return str(path)


def outcome(mode: str, url: str, tmp_path: Path, server: FakeProviderServer) -> Any:
    """The answer's text, or the error, of one call through ``mode`` to a provider at ``url`` (a fresh Client:
    the CA bundle variables are read when a provider's transport is made)."""
    folder = write_provider(tmp_path / f"{mode}-catalog", "local", "openai", url, models=LOCAL_MODELS)
    client = pepperpy.Client(catalog=folder, env_file=None)
    server.reply("over TLS")
    try:
        if mode == "blocking":
            return client.complete("hi", model="local-chat").text
        return asyncio.run(client.acomplete("hi", model="local-chat")).text
    except pepperpy.PepperpyError as exc:
        return exc
    finally:
        server.clear()
        client.close()


def both(url: str, tmp_path: Path, server: FakeProviderServer) -> tuple[Any, Any]:
    return outcome("blocking", url, tmp_path, server), outcome("async", url, tmp_path, server)


def same_failure(blocking: Any, nonblocking: Any, cls: type[Exception]) -> Exception:
    assert isinstance(blocking, cls) and type(nonblocking) is type(blocking), (blocking, nonblocking)
    assert str(nonblocking) == str(blocking)
    assert getattr(nonblocking, "retryable", None) == getattr(blocking, "retryable", None)
    return blocking


def test_a_trusted_certificate_answers_and_the_host_name_goes_in_sni(
        ca: Any, front: Callable[..., TLSFront], server: FakeProviderServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    https = front(ca, "localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle_of(ca, tmp_path / "ca.pem"))
    assert both(f"https://localhost:{https.port}/v1", tmp_path, server) == ("over TLS", "over TLS")
    assert https.server_names == ["localhost", "localhost"]  # one handshake each way, naming the host
    assert https.failed_handshakes == []


def test_an_unknown_ca_fails_alike_at_once_saying_what_to_set(
        ca: Any, front: Callable[..., TLSFront], server: FakeProviderServer, tmp_path: Path) -> None:
    https = front(ca, "localhost")  # no REQUESTS_CA_BUNDLE: requests' own bundle does not know the test's CA
    error = same_failure(*both(f"https://localhost:{https.port}/v1", tmp_path, server),
                         pepperpy.ProviderConnectionError)
    assert not error.retryable  # type: ignore[attr-defined]
    assert "unable to get local issuer certificate" in str(error)
    assert "set REQUESTS_CA_BUNDLE to a PEM file holding that CA" in str(error)
    # one attempt each way, no retry (the front records a failed handshake in its own thread, maybe after the
    # client has given up)
    assert wait_until(lambda: len(https.failed_handshakes) >= 2) and server.requests == []
    assert len(https.failed_handshakes) == 2


def test_a_certificate_for_another_name_fails_alike(
        ca: Any, front: Callable[..., TLSFront], server: FakeProviderServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    https = front(ca, "api.example.com")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle_of(ca, tmp_path / "ca.pem"))
    error = same_failure(*both(f"https://localhost:{https.port}/v1", tmp_path, server),
                         pepperpy.ProviderConnectionError)
    assert "Hostname mismatch" in str(error) and "issued for another name" in str(error)
    assert not error.retryable  # type: ignore[attr-defined]


def test_curl_ca_bundle_is_honoured_and_requests_ca_bundle_comes_first(
        ca: Any, front: Callable[..., TLSFront], server: FakeProviderServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    https = front(ca, "localhost")
    url = f"https://localhost:{https.port}/v1"
    monkeypatch.setenv("CURL_CA_BUNDLE", bundle_of(ca, tmp_path / "ca.pem"))
    assert both(url, tmp_path, server) == ("over TLS", "over TLS")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle_of(trustme.CA(), tmp_path / "other.pem"))
    same_failure(*both(url, tmp_path, server), pepperpy.ProviderConnectionError)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="a folder of CA certificates needs `openssl rehash`")
def test_a_folder_of_ca_certificates_works(ca: Any, front: Callable[..., TLSFront], server: FakeProviderServer,
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    https = front(ca, "localhost")
    folder = tmp_path / "certs"
    folder.mkdir()
    bundle_of(ca, folder / "test-ca.pem")
    subprocess.run(["openssl", "rehash", str(folder)], check=True, capture_output=True)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(folder))
    assert both(f"https://localhost:{https.port}/v1", tmp_path, server) == ("over TLS", "over TLS")


@pytest.mark.parametrize("bundle", ["missing.pem", "not-pem.txt"])
def test_a_ca_bundle_that_cannot_be_read_is_a_configuration_error_naming_its_variable(
        bundle: str, ca: Any, front: Callable[..., TLSFront], server: FakeProviderServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    https = front(ca, "localhost")
    (tmp_path / "not-pem.txt").write_text("not a certificate\n", encoding="utf-8")
    monkeypatch.setenv("CURL_CA_BUNDLE", str(tmp_path / bundle))
    for error in both(f"https://localhost:{https.port}/v1", tmp_path, server):
        assert isinstance(error, pepperpy.ConfigurationError), error
        assert str(error).startswith(f"CURL_CA_BUNDLE='{tmp_path / bundle}' ")
        assert "does not exist" in str(error) if bundle == "missing.pem" else "holds no CA certificate" in str(error)
    # requests ignores the bundle for http:// providers, and so does pepperpy
    assert both(server.base_url("openai"), tmp_path, server) == ("over TLS", "over TLS")


def test_https_to_a_plain_http_port_says_the_server_does_not_speak_tls(
        server: FakeProviderServer, tmp_path: Path) -> None:
    error = same_failure(*both(f"https://127.0.0.1:{server.port}/v1", tmp_path, server),
                         pepperpy.ProviderConnectionError)
    assert "does not speak TLS at this address" in str(error)
