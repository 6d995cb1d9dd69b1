"""Issue 11 items 11 and 12 (CLI part): the command line speaks in commands and flags, suggests the catalog's
everyday model, makes ``-p KEY VALUE`` unambiguous, counts catalog problems right, shows warnings as one plain
line, and lists providers by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pepperpy import cli
from pepperpy.http import _translate
from pepperpy.testing import FakeProviderServer
from tests.conftest import write_provider


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch, server: FakeProviderServer) -> FakeProviderServer:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL", server.base_url("openai"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-wording-123456")
    return server


def test_a_mode_mistake_points_at_the_command_and_the_everyday_model(keyed: FakeProviderServer,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "complete", "-m", "text-embedding-3-small", "hi")
    assert code == 1 and "use `pepperpy embed`" in err and "client.embed" not in err
    assert "such as 'openai/gpt-4o-mini'" in err  # the catalog's default, not the flagship listed first
    code, _, err = run(capsys, "embed", "-m", "gpt-4o-mini", "hi")
    assert code == 1 and "`pepperpy embed` needs an embedding model such as 'openai/text-embedding-3-small'" in err
    assert "embed()" not in err
    assert keyed.requests == []


def test_a_missing_key_is_not_answered_with_python(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "complete", "-m", "gpt-4o-mini", "hi")
    assert code == 1 and "OPENAI_API_KEY" in err
    assert "Client(api_keys" not in err and "create_provider" not in err
    assert "`pepperpy providers` shows what each provider needs" in err


def test_other_python_advice_becomes_commands() -> None:
    body = json.dumps({"error": {"code": 500, "type": "server_error", "message": "image input is not supported - "
                                 "hint: you may need to provide the mmproj"}}).encode()
    error = _translate.from_response(500, body, {}, provider="llamacpp", model="m")
    assert "client.models(capability='vision')" in str(error)
    line = cli.error_line(error)
    assert "`pepperpy models --capability vision`" in line and "client." not in line


@pytest.mark.parametrize(("option", "hint"), [("timeout", "use --timeout SECONDS"),
                                              ("max_retries", "use --max-retries N"),
                                              ("api_key", "never given on the command line")])
def test_client_settings_given_as_options_name_the_flag(option: str, hint: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "complete", "-m", "gpt-4o-mini", "-p", option, "sk-test-secret-12345678", "hi")
    assert code == 1 and hint in err and "sk-test-secret" not in err


def test_an_option_that_took_the_prompt_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["complete", "-m", "gpt-4o-mini", "-p", "seed", "Say hi"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert "no prompt: -p seed took 'Say hi' as its VALUE (-p takes KEY and VALUE)" in err and "--" in err
    with pytest.raises(SystemExit) as info:
        cli.main(["complete", "-m", "gpt-4o-mini"])
    assert info.value.code == 2 and "the prompt is missing" in capsys.readouterr().err


def test_a_double_dash_ends_the_options(keyed: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "complete", "-m", "gpt-4o-mini", "--no-stream", "-p", "seed", "42", "--",
                       "-1 is negative")
    assert (code, out) == (0, "echo: -1 is negative\n")
    assert keyed.requests[-1].json["seed"] == 42


def test_catalog_validate_counts_files_and_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "catalog", "validate", str(tmp_path / "nonexistent"))
    assert code == 1 and err.splitlines()[-1] == "1 problem: 1 path with no catalog file"
    folder = tmp_path / "cat"
    write_provider(folder, "good", "openai", "http://127.0.0.1:9/v1", models="- id: m\n")
    (folder / "bad.yaml").write_text("provider: bad\ndialect: nope\nbase_url: http://127.0.0.1:9\nmodels:\n"
                                     "  - id: m\n    context_window: 10\n    max_output_tokens: 20\n")
    code, out, err = run(capsys, "catalog", "validate", str(folder), str(tmp_path / "nonexistent"))
    assert code == 1 and len(out.splitlines()) == 3  # the missing path and the bad file's two problems
    assert err.splitlines()[-1] == "3 problems in 1 of 2 files, 1 path with no catalog file"


MODELS = """\
- id: old-chat
  context_window: 8192
  max_output_tokens: 1024
  deprecated: 2020-01-01
- id: retiring-chat
  context_window: 8192
  max_output_tokens: 1024
  deprecated: 2099-01-01
- id: new-chat
  context_window: 8192
  max_output_tokens: 1024
"""


@pytest.mark.filterwarnings("default::FutureWarning")  # shown, as outside the test suite (setup.cfg makes it an error)
def test_a_deprecation_warning_is_one_plain_line_and_past_dates_say_so(
        tmp_path: Path, server: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_provider(tmp_path / "cat", "house", "openai", server.base_url("openai"), models=MODELS)
    code, out, err = run(capsys, "--catalog", str(folder), "complete", "-m", "house/old-chat", "--no-stream", "hi")
    assert (code, out) == (0, "echo: hi\n")
    assert err.splitlines() == ["warning: house/old-chat was retired on 2020-01-01 by its provider: calls to it may "
                                "fail; consider house/new-chat"]
    code, _, err = run(capsys, "--catalog", str(folder), "complete", "-m", "house/retiring-chat", "--no-stream", "hi")
    assert err.splitlines() == ["warning: house/retiring-chat is deprecated: its provider retires it on 2099-01-01; "
                                "consider house/new-chat"]


def test_providers_are_listed_by_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = write_provider(tmp_path / "cat", "aaa-house", "openai", "http://127.0.0.1:9/v1", models="- id: m\n")
    code, out, _ = run(capsys, "--catalog", str(folder), "providers")
    names = [line.split()[0] for line in out.splitlines()[1:]]
    assert code == 0 and names == sorted(names) and names[0] == "aaa-house"
