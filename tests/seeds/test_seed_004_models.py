"""Seed 004's unified model configuration: one ``MODELS`` variable lists the models of every provider, the
models of a provider without an API key are left out and that provider is logged, and ``.env.example`` shows
the format (T046-T052 of the seed's task list)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import pepperpy

ROOT = Path(__file__).resolve().parents[2]


def offered(caplog: pytest.LogCaptureFixture, **kw: object) -> tuple[list[str], list[str]]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pepperpy.config"), \
            pepperpy.Client(use_keyring=False, **kw) as client:  # type: ignore[arg-type]
        names = [m.name for m in client.offered_models()]
    return names, [r.getMessage() for r in caplog.records if r.name == "pepperpy.config"]


def test_one_models_variable_lists_every_provider_and_drops_those_without_a_key(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("MODELS", "gpt-4o-mini, claude-haiku,gemini-flash,gpt-4.1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-seed-004-openai")
    names, lines = offered(caplog)
    assert names == ["openai/gpt-4o-mini", "openai/gpt-4.1"]  # in the variable's order
    assert lines == [
        "models claude-haiku left out: provider 'anthropic' has no API key; set ANTHROPIC_API_KEY (or "
        "PEPPERPY_PROVIDER_ANTHROPIC_API_KEY) in the environment or .env (or `pepperpy keys set anthropic`)",
        "models gemini-flash left out: provider 'gemini' has no API key; set GEMINI_API_KEY (or GOOGLE_API_KEY, "
        "PEPPERPY_PROVIDER_GEMINI_API_KEY) in the environment or .env (or `pepperpy keys set gemini`)"]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "pepperpy.config")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-seed-004")
    names, lines = offered(caplog)
    assert names == ["openai/gpt-4o-mini", "anthropic/claude-haiku-5-5", "openai/gpt-4.1"]
    assert len(lines) == 1 and "'gemini'" in lines[0]


def test_pepperpy_models_wins_and_models_may_live_in_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-seed-004-openai")
    (tmp_path / ".env").write_text("MODELS=gpt-4o-mini\n", encoding="utf-8")
    assert offered(caplog)[0] == ["openai/gpt-4o-mini"]  # from ./.env, beside the key in the environment
    monkeypatch.setenv("MODELS", "gpt-4.1")
    assert offered(caplog)[0] == ["openai/gpt-4.1"]  # the real environment beats .env
    monkeypatch.setenv("PEPPERPY_MODELS", "gpt-4.1-mini")
    assert offered(caplog)[0] == ["openai/gpt-4.1-mini"]  # PEPPERPY_MODELS beats MODELS


def test_an_unknown_or_retired_name_in_models_is_an_error_not_a_silent_drop(monkeypatch: pytest.MonkeyPatch,
                                                                            caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("MODELS", "gpt-4o-mini,gpt-4")
    with pytest.raises(pepperpy.ModelRetiredError, match="gpt-4 was retired by OpenAI"):
        offered(caplog)


def test_the_env_example_shows_the_unified_format() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    models = next(line for line in text.splitlines() if line.startswith("MODELS="))
    names = models.removeprefix("MODELS=").split(",")
    client = pepperpy.Client(env_file=None, use_keyring=False)
    assert len(names) > 1 and len({client.model(name).provider for name in names}) == len(names)
