"""The installed ``pepperpy`` console script, run as a subprocess (each run costs about 0.2 s: keep them few)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pepperpy.testing import FakeProviderServer, Reply

SCRIPT = Path(sys.executable).with_name("pepperpy")
SECRET = "sk-test-secret-value-1234567890"


def run(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), f"console script missing: {SCRIPT} (pip install -e .)"
    return subprocess.run([str(SCRIPT), *args], input=stdin, capture_output=True, text=True, timeout=30,
                          env={**os.environ, **(env or {})})


def loopback(server: FakeProviderServer, *providers: str) -> dict[str, str]:
    env = {}
    for name in providers:
        prefix = f"PEPPERPY_PROVIDER_{name.upper()}_"
        env[prefix + "BASE_URL"] = server.base_url(name)
        env[prefix + "API_KEY"] = SECRET
    return env


def assert_one_clean_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("complete", "embed", "models", "providers", "catalog"):
        assert command in result.stdout


def test_models_filters_make_an_aligned_table() -> None:
    result = run("models", "--provider", "anthropic", "--capability", "vision", "--mode", "chat")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split()[:3] == ["model", "provider", "context"] and rows
    column = header.index("provider")
    assert all(row[column:].startswith("anthropic ") and "vision" in row for row in rows)
    assert len({row.index("anthropic") for row in rows}) == 1


def test_complete_streams_from_the_loopback_server(server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=["Hello", " from", " the fake"]))
    result = run("complete", "-m", "gpt-4o-mini", "--system", "Be brief.", "-t", "0.5", "--max-tokens", "20",
                 "Say", "hi", env=loopback(server, "openai"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from the fake\n"
    body = server.requests[0].json
    assert body["stream"] is True and body["temperature"] == 0.5
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi"}]


def test_complete_json_reads_the_prompt_from_stdin(server: FakeProviderServer) -> None:
    server.reply("Four.", usage=(5, 1))
    result = run("complete", "-m", "claude-haiku", "--json", "-", stdin="What is 2+2?\n",
                 env=loopback(server, "anthropic"))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["text"] == "Four." and answer["provider"] == "anthropic" and answer["finish_reason"] == "stop"
    assert answer["usage"]["input_tokens"] == 5 and answer["usage"]["output_tokens"] == 1
    assert isinstance(answer["cost"], float)
    assert server.requests[0].json["messages"][-1]["content"] == "What is 2+2?"


def test_unknown_model_is_one_line_with_a_suggestion() -> None:
    line = assert_one_clean_error_line(run("complete", "-m", "gpt-4o-mino", "hello"))
    assert "unknown model 'gpt-4o-mino'" in line and "did you mean 'gpt-4o-mini'" in line
    assert "pepperpy models" in line


def test_refused_key_is_one_line_that_never_shows_the_key(server: FakeProviderServer) -> None:
    server.fail(401)
    result = run("complete", "-m", "gpt-4o-mini", "hello", env=loopback(server, "openai"))
    line = assert_one_clean_error_line(result)
    assert "401" in line and "PEPPERPY_PROVIDER_OPENAI_API_KEY" in line
    assert SECRET not in result.stdout + result.stderr


def test_catalog_validate_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "house.yaml"
    broken.write_text("provider: house\ndialect: openai\nbase_url: http://localhost:8000/v1\n"
                      "requires_api_key: maybe\nmodels:\n  - id: house-chat\n    mode: chat\n"
                      "    context_window: 8192\n    max_output_tokens: 1024\n    colour: red\n", encoding="utf-8")
    result = run("catalog", "validate", str(broken))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f"{broken}:4: requires_api_key: 'maybe' is not of type 'boolean'" in lines
    assert any(line.startswith(f"{broken}:10: models[0].colour: unknown key 'colour'") for line in lines)
    assert "Traceback" not in result.stderr


def test_providers_show_what_to_set_and_never_a_key() -> None:
    result = run("providers", env={"OPENAI_API_KEY": SECRET})
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert rows["openai"].endswith("  set") and "https://api.openai.com/v1" in rows["openai"]
    assert rows["anthropic"].endswith("missing: set ANTHROPIC_API_KEY or PEPPERPY_PROVIDER_ANTHROPIC_API_KEY")
    assert rows["ollama"].endswith("not needed")
    assert SECRET not in result.stdout + result.stderr


def test_options_before_the_command_are_not_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "my-catalog"
    folder.mkdir()
    (folder / "house.yaml").write_text("provider: house\ndialect: openai\nbase_url: http://localhost:8000/v1\n"
                                       "requires_api_key: false\nmodels:\n  - id: house-chat\n    mode: chat\n"
                                       "    context_window: 8192\n    max_output_tokens: 1024\n"
                                       "    source: https://example.com\n", encoding="utf-8")
    result = run("--catalog", str(folder), "models", "--provider", "house")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("house-chat ")
    result = run("-v", "complete", "-m", "gpt-4o-mino", "hi")
    assert result.returncode == 1 and "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: unknown model 'gpt-4o-mino'")


def test_an_html_error_page_is_one_short_line(server: FakeProviderServer) -> None:
    page = "<!DOCTYPE html>\n<html>\n<body>\n" + "<p>the gateway refused this request</p>\n" * 40 + "</body>\n</html>\n"
    server.fail(400, body=page, headers={"content-type": "text/html"})
    line = assert_one_clean_error_line(run("complete", "-m", "gpt-4o-mini", "hi", env=loopback(server, "openai")))
    assert "400" in line and "…" in line and len(line) < 350
