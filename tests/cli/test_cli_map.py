"""``pepperpy map``: one JSON line per prompt in input order, failures in their place, totals on stderr."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from pepperpy import cli
from pepperpy.testing import FakeProviderServer


@pytest.fixture
def openai_on_loopback(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL", server.base_url("openai"))
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_API_KEY", "sk-test-secret-value-1234567890")
    return server


def test_map_prints_answers_in_order_and_the_totals(openai_on_loopback: FakeProviderServer, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('first\n\n{"prompt": "second"}\n{"messages": [{"role": "user", "content": "third"}]}\n',
                       encoding="utf-8")
    assert cli.main(["map", "-m", "gpt-4o-mini", "--max-tokens", "50", str(prompts)]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["index"], line["text"]) for line in lines] == [
        (0, "echo: first"), (1, "echo: second"), (2, "echo: third")]
    assert all(r.json["max_completion_tokens"] == 50 for r in openai_on_loopback.requests)  # its wire name
    header, row = err.strip().splitlines()
    assert header.split() == ["model", "calls", "errors", "cached", "in", "out", "cost"]
    assert row.split()[:3] == ["openai/gpt-4o-mini", "3", "0"]


def test_map_keeps_going_past_a_failure_and_exits_1(openai_on_loopback: FakeProviderServer,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("one\ntwo\n"))
    openai_on_loopback.fail(400)
    assert cli.main(["map", "-m", "gpt-4o-mini", "--concurrency", "1", "-"]) == 1
    out, err = capsys.readouterr()
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["error"].startswith("InvalidRequestError: ") and second["text"] == "echo: two"
    assert err.strip().splitlines()[1].split()[:3] == ["openai/gpt-4o-mini", "2", "1"]


def test_map_with_a_budget_refuses_without_sending(openai_on_loopback: FakeProviderServer, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    prompts = tmp_path / "p.txt"
    prompts.write_text("a\nb\n", encoding="utf-8")
    assert cli.main(["map", "-m", "gpt-4o-mini", "--budget", "0.000001", str(prompts)]) == 1
    out, err = capsys.readouterr()
    assert all(json.loads(line)["error"].startswith("BudgetExceededError") for line in out.splitlines())
    assert openai_on_loopback.requests == [] and err.strip() == "no calls"


def test_map_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x"}\n', encoding="utf-8")
    assert cli.main(["map", "-m", "gpt-4o-mini", str(bad)]) == 1
    assert 'line 1: a JSON line needs "prompt"' in capsys.readouterr().err
    assert cli.main(["map", "-m", "gpt-4o-mini", str(tmp_path / "missing.txt")]) == 1
    assert "cannot read" in capsys.readouterr().err
