"""Shared fixtures: a clean environment for every test, and a provider catalog pointing at a loopback server."""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import pepperpy

_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "requests_ca_bundle", "curl_ca_bundle"}


def _is_sensitive(name: str) -> bool:
    upper = name.upper()
    return (upper.endswith("_API_KEY") or upper.startswith("PEPPERPY_") or upper.startswith("STACKSPOT_")
            or name.lower() in _PROXY_VARS or upper.endswith("_TOKEN"))


@pytest.fixture(scope="session")
def catalog_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("catalog-cache")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, catalog_cache_dir: Path) -> Iterator[None]:
    """No real keys, no PEPPERPY_* settings (nor seed 004's MODELS), no proxies, a cwd without a .env file, no
    user configuration file (XDG_CONFIG_HOME points at an empty folder), and a private cache dir."""
    for name in list(os.environ):
        if _is_sensitive(name) or name == "MODELS":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("PEPPERPY_CACHE_DIR", str(catalog_cache_dir))
    monkeypatch.chdir(tmp_path)
    yield
    pepperpy.reset_default_client()


@pytest.fixture(autouse=True)
def no_opentelemetry_providers() -> Iterator[None]:
    """Every test starts with no global OpenTelemetry providers set, as a fresh process does: OpenTelemetry
    lets a process set them once, and tests (and documentation examples) each set their own."""
    reset_opentelemetry()
    yield
    reset_opentelemetry()


def reset_opentelemetry() -> None:
    import sys

    trace = sys.modules.get("opentelemetry.trace")
    if trace is not None:
        from opentelemetry.util._once import Once

        trace._TRACER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
        trace._TRACER_PROVIDER = None  # type: ignore[attr-defined]
    metrics = sys.modules.get("opentelemetry.metrics._internal")
    if metrics is not None:
        from opentelemetry.util._once import Once

        metrics._METER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
        metrics._METER_PROVIDER = None  # type: ignore[attr-defined]
        metrics._PROXY_METER_PROVIDER = metrics._ProxyMeterProvider()  # type: ignore[attr-defined]


@pytest.fixture
def server() -> Iterator[pepperpy.testing.FakeProviderServer]:
    from pepperpy.testing import FakeProviderServer

    with FakeProviderServer() as fake:
        yield fake


def wait_until(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    """Poll ``condition`` every 10 ms until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def write_provider(folder: Path, name: str, dialect: str, base_url: str, *, extra: str = "",
                   models: str = "") -> Path:
    """Write a one-provider catalog file and return its folder."""
    folder.mkdir(parents=True, exist_ok=True)
    body = textwrap.dedent(f"""\
        provider: {name}
        dialect: {dialect}
        base_url: {base_url}
        requires_api_key: false
        """) + textwrap.dedent(extra) + "models:\n" + textwrap.indent(textwrap.dedent(models), "  ")
    (folder / f"{name}.yaml").write_text(body, encoding="utf-8")
    return folder


LOCAL_MODELS = """\
- id: local-chat
  aliases: [lc]
  mode: chat
  context_window: 8192
  max_output_tokens: 1024
  capabilities: [streaming, system_prompt]
  params: {temperature: {min: 0, max: 2}, top_p: {min: 0, max: 1}}
  pricing: {input: 1.0, output: 2.0}
  source: https://example.com/local
- id: local-embed
  mode: embedding
  context_window: 8192
  dimensions: 8
  pricing: {input: 0.5, output: 0}
  source: https://example.com/local
"""


@pytest.fixture
def local_catalog(tmp_path: Path, server: pepperpy.testing.FakeProviderServer) -> Path:
    """A user catalog folder declaring provider 'local' (openai dialect) on the loopback server."""
    return write_provider(tmp_path / "user-catalog", "local", "openai", server.base_url("openai"),
                          models=LOCAL_MODELS)


@pytest.fixture
def client(local_catalog: Path) -> Iterator[pepperpy.Client]:
    with pepperpy.Client(catalog=local_catalog, env_file=None) as c:
        yield c
