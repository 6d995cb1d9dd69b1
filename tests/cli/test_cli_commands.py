"""The ``pepperpy`` command in-process (``cli.main``): options, outputs and error paths, quickly."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from pepperpy import cli
from pepperpy.testing import FakeProviderServer

SECRET = "sk-test-secret-value-1234567890"


@pytest.fixture
def openai_on_loopback(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL", server.base_url("openai"))
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_API_KEY", SECRET)
    return server


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_complete_without_streaming_and_as_json(openai_on_loopback: FakeProviderServer,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    openai_on_loopback.reply("Plain answer")
    assert run(capsys, "complete", "-m", "gpt-4o-mini", "--no-stream", "hi") == (0, "Plain answer\n", "")
    assert openai_on_loopback.requests[-1].json.get("stream") in (None, False)
    openai_on_loopback.reply("Jason", usage=(2, 1))
    code, out, _ = run(capsys, "complete", "-m", "gpt-4o-mini", "--json", "hi")
    assert code == 0
    assert set(json.loads(out)) == {"text", "model", "provider", "finish_reason", "usage", "cost"}


def test_verbose_prints_the_summary_line(openai_on_loopback: FakeProviderServer,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    openai_on_loopback.reply("ok", usage=(3, 1))
    code, out, err = run(capsys, "complete", "-m", "gpt-4o-mini", "hi", "--verbose")
    assert (code, out) == (0, "ok\n")
    assert err.startswith("[openai/gpt-4o-mini · stop · 3 in → 1 out · $")


def test_empty_stdin_prompt_is_a_clean_error(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("  \n"))
    assert run(capsys, "complete", "-m", "gpt-4o-mini", "-") == (1, "", "error: the prompt on stdin is empty\n")


def test_embed_prints_one_vector_per_line(openai_on_loopback: FakeProviderServer,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, "embed", "-m", "text-embedding-3-small", "first", "second")
    vectors = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(vectors) == 2 and vectors[0] != vectors[1]
    monkeypatch.setattr(sys, "stdin", io.StringIO("first\n\nsecond\n"))
    assert run(capsys, "embed", "-m", "text-embedding-3-small", "-")[1] == out
    assert openai_on_loopback.requests[-1].json["input"] == ["first", "second"]


def test_models_options(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, "models", "--mode", "embedding")
    assert code == 0 and "text-embedding-3-small" in out and "gpt-4o-mini" not in out
    monkeypatch.setenv("GROQ_API_KEY", SECRET)
    _, out, _ = run(capsys, "models", "--available")
    providers = {line.split()[1] for line in out.splitlines()[1:]}
    assert "groq" in providers and "openai" not in providers and "ollama" in providers  # local: no key needed
    code, out, err = run(capsys, "models", "--provider", "opena")
    assert (code, out) == (1, "")
    assert err == "error: no provider 'opena'; did you mean 'openai'? `pepperpy providers` lists them.\n"
    code, _, err = run(capsys, "models", "--capability", "visoin")
    assert code == 1 and "did you mean 'vision'?" in err and "Known: " in err


def test_models_columns(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "models", "--provider", "ollama")
    header, *rows = out.splitlines()
    assert "$/1M in/out" in header and "max output" in header
    row = next(r for r in rows if r.startswith("llama3.2 "))
    assert "131,072" in row and "free" in row and "streaming" in row


def test_catalog_validate_defaults_and_layering(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "catalog", "validate")
    assert (code, out) == (0, "") and err.startswith("ok: ")
    extension = tmp_path / "more-openai.yaml"  # extends a packaged provider: fine on top of the catalog
    extension.write_text("provider: openai\nmodels: []\n", encoding="utf-8")
    assert run(capsys, "catalog", "validate", str(extension))[0] == 0
    orphan = tmp_path / "orphan.yaml"
    orphan.write_text("provider: orphan\nmodels: []\n", encoding="utf-8")
    code, out, _ = run(capsys, "catalog", "validate", str(orphan), str(tmp_path / "missing"))
    assert code == 1
    assert out.splitlines() == [f"{tmp_path / 'missing'}: no such catalog file or folder"]
    code, out, _ = run(capsys, "catalog", "validate", str(orphan))
    assert (code, out) == (1, f"{orphan}:1: dialect: a new provider needs 'dialect'\n")


def test_verbose_shows_the_traceback_and_unexpected_errors_stay_one_line(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(capsys, "complete", "-m", "no-such-model", "hi", "--verbose")
    assert code == 1 and "Traceback" in err and err.splitlines()[-1].startswith("error: unknown model")

    def broken(args: object) -> int:
        raise RuntimeError(f"bug with {SECRET}")

    monkeypatch.setattr(cli, "_models", broken)
    code, _, err = run(capsys, "models")
    assert code == 1 and err == "error: unexpected RuntimeError: bug with *** (run with --verbose for the traceback)\n"

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_models", interrupted)
    assert run(capsys, "models")[0] == 130


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["catalog"], ["complete", "hi"], ["models", "--mode", "image"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("pepperpy ")


def test_base_urls_never_show_user_info_or_query() -> None:
    assert cli._safe_url("https://user:pw@proxy.example.com/v1?key=abc") == "https://***@proxy.example.com/v1"
    assert cli._safe_url("http://localhost:8000/v1") == "http://localhost:8000/v1"
