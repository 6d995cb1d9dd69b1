"""Fixtures of the resilience tests: a fake clock, a second loopback server, and client factories."""

from __future__ import annotations

import socket
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.resilience.retry import RetryPolicy
from pepperpy.testing import FakeProviderServer

BACKUP_MODELS = """\
- id: backup-chat
  mode: chat
  context_window: 8192
  max_output_tokens: 1024
  capabilities: [streaming]
  params: {temperature: {min: 0, max: 1}}
  source: https://example.com/backup
- id: backup-embed
  mode: embedding
  context_window: 8192
  source: https://example.com/backup
"""

GEMINI_MODELS = """\
- id: gem-chat
  mode: chat
  context_window: 8192
  max_output_tokens: 1024
  source: https://example.com/gem
"""


class FakeClock:
    """Monotonic time that moves only when someone sleeps; every sleep is recorded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def policy(self, **kw: Any) -> RetryPolicy:
        """A retry policy on this clock, without jitter (waits are exact)."""
        return RetryPolicy(sleep=self.sleep, clock=self.monotonic, random=lambda: 0.0, **kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backup_server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as fake:
        yield fake


def add_provider(folder: Path, name: str, dialect: str, base_url: str, models: str, extra: str = "") -> Path:
    """Write one more provider file into a catalog folder."""
    text = (f"provider: {name}\ndialect: {dialect}\nbase_url: {base_url}\nrequires_api_key: false\n"
            f"{textwrap.dedent(extra)}models:\n{textwrap.indent(models, '  ')}")
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def catalogs(local_catalog: Path, server: FakeProviderServer, backup_server: FakeProviderServer) -> Path:
    """Providers 'local' (on ``server``), 'backup' (on ``backup_server``) and 'gem' (gemini, on ``server``)."""
    add_provider(local_catalog, "backup", "openai", backup_server.base_url("openai"), BACKUP_MODELS)
    add_provider(local_catalog, "gem", "gemini", server.base_url("gemini"), GEMINI_MODELS)
    return local_catalog


MakeClient = Callable[..., pepperpy.Client]


@pytest.fixture
def make_client(catalogs: Path, clock: FakeClock) -> Iterator[MakeClient]:
    """Build Clients on the test catalogs and the fake clock (closed at teardown)."""
    made: list[pepperpy.Client] = []

    def make(**kw: Any) -> pepperpy.Client:
        if "retry_policy" not in kw:  # the flat retry options become the fake-clock policy's fields
            flat = {name: kw.pop(name) for name in ("max_retries", "max_retry_wait", "total_timeout") if name in kw}
            kw["retry_policy"] = clock.policy(**flat)
        c = pepperpy.Client(catalog=catalogs, env_file=None, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def write_provider_file() -> Callable[..., Path]:
    """``add_provider`` for tests that need a provider of their own (catalog ``breaker:`` / ``limits:``)."""
    return add_provider
