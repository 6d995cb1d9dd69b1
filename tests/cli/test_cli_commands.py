"""The ``pepperpy`` command in-process (``cli.main``): options, outputs and error paths, quickly."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from pepperpy import cli, errors
from pepperpy._redact import safe_url
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
    assert out.splitlines() == [f"{tmp_path / 'missing'}: no such catalog file or folder",
                                f"{orphan}:1: base_url: a new provider needs 'base_url' (where its API lives, e.g. http://localhost:8000/v1)"]
    code, out, _ = run(capsys, "catalog", "validate", str(orphan))
    assert (code, out) == (1, f"{orphan}:1: base_url: a new provider needs 'base_url' (where its API lives, e.g. http://localhost:8000/v1)\n")


def test_verbose_shows_the_traceback_and_unexpected_errors_stay_one_line(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(capsys, "complete", "-m", "no-such-model", "hi", "--verbose")
    assert code == 1 and "Traceback" in err and err.splitlines()[-1].startswith("error: unknown model")

    def broken(args: object) -> int:
        raise RuntimeError(f"bug with {SECRET}")

    monkeypatch.setattr(cli, "list_models", broken)
    code, _, err = run(capsys, "models")
    assert code == 1 and err == "error: unexpected RuntimeError: bug with *** (run with --verbose for the traceback)\n"

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "list_models", interrupted)
    assert run(capsys, "models")[0] == 130


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["catalog"], ["complete", "hi"], ["models", "--mode", "painting"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("pepperpy ")


def test_base_urls_never_show_user_info_or_query() -> None:
    assert safe_url("https://user:pw@proxy.example.com/v1?key=abc") == "https://***@proxy.example.com/v1"
    assert safe_url("http://localhost:8000/v1") == "http://localhost:8000/v1"


# --------------------------------------------------------------------------- new-user review regressions

HOUSE = """\
provider: house
dialect: openai
base_url: http://localhost:8000/v1
requires_api_key: false
models:
  - id: qwen2.5-7b
    aliases: [house-qwen]
    mode: chat
    context_window: 32768
    max_output_tokens: 8192
    source: https://huggingface.co/Qwen/Qwen2.5-7B-Instruct
"""


def test_catalog_and_verbose_work_before_and_after_the_command(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    house = tmp_path / "my-catalog"
    house.mkdir()
    (house / "house.yaml").write_text(HOUSE, encoding="utf-8")
    for argv in (["--catalog", str(house), "models", "--provider", "house"],
                 ["models", "--provider", "house", "--catalog", str(house)]):
        code, out, err = run(capsys, *argv)
        assert (code, err) == (0, ""), argv
        assert out.splitlines()[1].startswith("qwen2.5-7b "), argv
    lab = tmp_path / "lab.yaml"
    lab.write_text(HOUSE.replace("house", "lab"), encoding="utf-8")
    code, out, _ = run(capsys, "--catalog", str(house), "models", "--catalog", str(lab), "--mode", "chat")
    assert code == 0 and {"house", "lab"} <= {line.split()[1] for line in out.splitlines()[1:]}
    for argv in (["-v", "complete", "-m", "gpt-4o-mino", "hi"], ["complete", "-m", "gpt-4o-mino", "hi", "-v"],
                 ["--verbose", "--catalog", str(tmp_path / "missing"), "providers"]):
        code, _, err = run(capsys, *argv)
        assert code == 1 and "Traceback" in err, argv
        assert err.splitlines()[-1].startswith("error: "), argv
    args = cli.parse_args(["models"])
    assert (args.verbose, args.catalog) == (False, None)


def test_validate_lists_every_problem_of_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a catalog", encoding="utf-8")
    broken = tmp_path / "house.yaml"  # one schema problem and two semantic ones: all are listed
    broken.write_text(HOUSE.replace("requires_api_key: false", "requires_api_key: maybe")
                      + "    params: {temperature: {min: 2, max: 1}}\n"
                      + "  - id: house-qwen\n    mode: chat\n    context_window: 100\n"
                      + "    source: https://example.com\n", encoding="utf-8")
    no_dialect = tmp_path / "a-no-dialect.yaml"  # fine: a new provider's dialect defaults to openai
    no_dialect.write_text("provider: newcomer\nbase_url: https://newcomer.example/v1\nmodels: []\n",
                          encoding="utf-8")
    no_url = tmp_path / "b-no-url.yaml"  # fine alone, fails only when merged: a new provider needs base_url
    no_url.write_text("provider: other\ndialect: openai\nmodels: []\n", encoding="utf-8")
    code, out, err = run(capsys, "catalog", "validate", str(empty), str(broken), str(no_dialect), str(no_url))
    assert code == 1
    assert out.splitlines() == [
        f"{empty}: no .yaml files (catalog files in a folder end in .yaml or .yml)",
        f"{broken}:4: requires_api_key: 'maybe' is not of type 'boolean'",
        f"{broken}:12: models[0].params.temperature: min is larger than max",
        f"{broken}:13: models[1].id: 'house-qwen' is listed twice in this file",
        f"{no_url}:1: base_url: a new provider needs 'base_url' (where its API lives, e.g. http://localhost:8000/v1)",
    ]
    assert err == "5 problems in 2 of 3 files, 1 path with no catalog file\n"  # issue 11: counted right
    code, out, err = run(capsys, "--catalog", str(empty), "models")  # a Client refuses the empty folder too
    assert (code, out) == (1, "") and err.startswith(f"error: {empty}: no .yaml files")


def test_validate_says_what_a_url_or_a_name_must_look_like(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "house.yaml"
    path.write_text(HOUSE.replace("provider: house", "provider: My House")
                    .replace("http://localhost:8000/v1", "localhost:8000/v1")
                    .replace("https://huggingface.co/Qwen/Qwen2.5-7B-Instruct", "huggingface.co/Qwen")
                    + "docs: http://docs.example.com\n", encoding="utf-8")
    code, out, _ = run(capsys, "catalog", "validate", str(path))
    assert code == 1
    assert out.splitlines() == [
        f"{path}:1: provider: 'My House' is not a valid provider name: use only lowercase letters a-z, "
        "digits 0-9, '_' and '-'",
        f"{path}:3: base_url: 'localhost:8000/v1' is not an http(s) URL, e.g. https://api.example.com/v1",
        f"{path}:11: models[0].source: 'huggingface.co/Qwen' is not an http(s) URL, e.g. https://example.com/pricing",
        f"{path}:12: docs: 'http://docs.example.com' is not an https URL, e.g. https://docs.example.com",
    ]
    assert "does not match" not in out


def test_errors_are_one_line_and_cut_after_300_characters(openai_on_loopback: FakeProviderServer,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    page = "<html>\n<head><title>400 Bad Request</title></head>\n<body>\n" + "<p>proxy says no</p>\n" * 60
    openai_on_loopback.fail(400, body=page + "</body>\n</html>\n", headers={"content-type": "text/html"})
    code, out, err = run(capsys, "complete", "-m", "gpt-4o-mini", "--no-stream", "hi")
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("error: openai returned 400: <html> <head><title>400 Bad Request</title></head> <body>")
    message = line.removeprefix("error: ").removesuffix(" (--verbose shows all of it)")
    assert len(message) == cli.ERROR_LINE_LIMIT and message.endswith("…") and message != line
    openai_on_loopback.fail(400, body=page, headers={"content-type": "text/html"})
    code, _, err = run(capsys, "-v", "complete", "-m", "gpt-4o-mini", "--no-stream", "hi")
    assert code == 1 and "Traceback" in err and "<p>proxy says no</p>" in err  # the full text
    last = err.splitlines()[-1]
    assert last.startswith("error: openai returned 400") and len(last) > 400 and "…" not in last


def test_error_line_collapses_whitespace_and_keeps_short_messages() -> None:
    assert cli.error_line(pepperpy_error("bad\n\n  thing\there")) == "error: bad thing here"
    long = pepperpy_error("x" * 1000)
    assert cli.error_line(long) == "error: " + "x" * 299 + "… (--verbose shows all of it)"
    assert cli.error_line(long, verbose=True) == "error: " + "x" * 1000
    assert cli.error_line(ValueError("a\nb" + "c" * 500)).endswith("… (run with --verbose for the traceback)")


def pepperpy_error(message: str) -> Exception:

    return errors.ConfigurationError(message)


@pytest.mark.parametrize("model", ["house-qwn-zzz", "no-provider/no-such-model-zzz", "qqqqqqqq"])
def test_unknown_model_hints_are_punctuated(model: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "complete", "-m", model, "hi")
    assert code == 1
    assert err.startswith(f"error: unknown model {model!r}")
    assert not re.search(r"'\s+[A-Z`]", err), err  # "unknown model 'x' Run ..." had no separator
    assert "pepperpy models" in err or "catalog YAML" in err


def test_complete_passes_options_as_call_params(openai_on_loopback: FakeProviderServer,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "complete", "-m", "gpt-4o-mini", "--no-stream", "-p", "top_p", "0.9",
                       "-p", "seed", "42", "--param", "response_format", '{"type": "json_object"}',
                       "-p", "user", "alice", "-p", "stop", '["END"]', "hi")
    assert (code, err) == (0, "")
    body = openai_on_loopback.requests[-1].json
    assert body["top_p"] == 0.9 and body["seed"] == 42 and body["user"] == "alice"
    assert body["response_format"] == {"type": "json_object"} and body["stop"] == ["END"]
    assert cli.option_value("true") is True and cli.option_value("not json") == "not json"
    code, _, err = run(capsys, "complete", "-m", "gpt-4o-mini", "-t", "0.2", "-p", "temperature", "0.5", "hi")
    assert (code, err) == (1, "error: temperature is given twice (by -t/--temperature and -p temperature); "
                              "keep one\n")
    code, _, err = run(capsys, "complete", "-m", "gpt-4o-mini", "-p", "model", "gpt-4o", "hi")
    assert (code, err) == (1, "error: -p model: use -m/--model\n")
    code, _, err = run(capsys, "complete", "-m", "gpt-4o-mini", "-p", "top_p", '"high"', "hi")
    assert code == 1 and "top_p" in err  # still checked against the catalog like client.complete(top_p=...)
    assert len(openai_on_loopback.requests) == 1
