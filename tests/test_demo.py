"""`make demo`: the offline server without keys, the configured provider when .env has a key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pepperpy import demo
from pepperpy.testing import FakeProviderServer


def test_without_keys_the_demo_streams_from_the_offline_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["Say", "hi"]) == 0
    out = capsys.readouterr().out
    assert "offline provider server" in out and demo.OFFLINE_ANSWER in out and "finish=stop" in out


def test_with_a_key_in_dotenv_the_demo_calls_that_provider(tmp_path: Path, server: FakeProviderServer,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY=sk-demo-0123456789\n"
                                   f"PEPPERPY_PROVIDER_OPENAI_BASE_URL={server.base_url('openai')}\n")
    assert demo.main(["Say", "hi"]) == 0
    out = capsys.readouterr().out
    assert "offline" not in out and "echo: Say hi" in out
    assert server.requests[-1].headers["authorization"] == "Bearer sk-demo-0123456789"
