"""One Client with a provider of every dialect on the loopback fake server: ``dialect_client`` gives the
Client and the model to call for each dialect in turn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.conftest import write_provider

DIALECTS = ("openai", "anthropic", "gemini", "ollama")
MODEL = """\
- id: fake-chat
  mode: chat
  context_window: 1000
  max_output_tokens: 500
  capabilities: [streaming, tools, json_output, system_prompt]
  pricing: {input: 1.0, output: 2.0}
  source: https://example.com/fake
"""


@pytest.fixture
def fake_catalog(tmp_path: Path, server: FakeProviderServer) -> Path:
    folder = tmp_path / "dialects"
    for dialect in DIALECTS:
        write_provider(folder, f"f-{dialect}", dialect, server.base_url(dialect), models=MODEL)
    return folder


@pytest.fixture
def fake_client(fake_catalog: Path) -> Iterator[pepperpy.Client]:
    with pepperpy.Client(catalog=fake_catalog, env_file=None, max_retries=0) as client:
        yield client


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def model_of(dialect: str) -> str:
    return f"f-{dialect}/fake-chat"
