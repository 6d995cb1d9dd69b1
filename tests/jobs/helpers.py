"""Helpers of the job tests: a Client whose batch/video providers are the loopback fake server (with a key the
server checks), and a fake clock for waits."""

from __future__ import annotations

import pepperpy
from pepperpy.testing import FakeProviderServer

KEY = "sk-jobs-test-key-123456"
PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "gemini": "gemini"}


class FakeClock:
    """A clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def job_client(server: FakeProviderServer, **options: object) -> pepperpy.Client:
    """A Client whose openai, anthropic and gemini providers are the fake server (key required)."""
    server.api_key = KEY
    overrides = {name: {"base_url": server.base_url(dialect)} for name, dialect in PROVIDERS.items()}
    for name, extra in dict(options.pop("providers", {}) or {}).items():  # type: ignore[call-overload]
        overrides[name] = {**overrides[name], **extra}
    return pepperpy.Client(env_file=None, providers=overrides, api_keys={name: KEY for name in PROVIDERS},
                           **options)  # type: ignore[arg-type]
