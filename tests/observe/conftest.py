"""Fixtures of the observability tests: two loopback providers on a fake clock, and event recorders."""

from __future__ import annotations

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
  pricing: {input: 3.0, output: 6.0}
  source: https://example.com/backup
"""


class FakeClock:
    """Monotonic time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds

    def policy(self, **kw: Any) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, clock=self.monotonic, random=lambda: 0.0, **kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backup_server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as fake:
        yield fake


@pytest.fixture
def catalogs(local_catalog: Path, backup_server: FakeProviderServer) -> Path:
    """Provider 'local' (priced 1.0 / 2.0 USD per 1M tokens) and 'backup' (3.0 / 6.0) on two servers."""
    text = (f"provider: backup\ndialect: openai\nbase_url: {backup_server.base_url('openai')}\n"
            f"requires_api_key: false\nmodels:\n{textwrap.indent(BACKUP_MODELS, '  ')}")
    (local_catalog / "backup.yaml").write_text(text, encoding="utf-8")
    return local_catalog


MakeClient = Callable[..., pepperpy.Client]


@pytest.fixture
def make_client(catalogs: Path, clock: FakeClock) -> Iterator[MakeClient]:
    made: list[pepperpy.Client] = []

    def make(**kw: Any) -> pepperpy.Client:
        if "retry_policy" not in kw:
            flat = {name: kw.pop(name) for name in ("max_retries",) if name in kw}
            kw["retry_policy"] = clock.policy(**flat)
        c = pepperpy.Client(catalog=catalogs, env_file=None, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


class Recorder:
    """Every event of every kind, in order, as (name, event)."""

    def __init__(self, client: pepperpy.Client) -> None:
        self.seen: list[tuple[str, Any]] = []
        for name in pepperpy.events.EVENTS:
            client.on(name, lambda event, name=name: self.seen.append((name, event)))  # type: ignore[arg-type]

    def of(self, name: str) -> list[Any]:
        return [event for kind, event in self.seen if kind == name]

    def names(self) -> list[str]:
        return [kind for kind, _ in self.seen]


@pytest.fixture
def recorder() -> Callable[[pepperpy.Client], Recorder]:
    return Recorder
