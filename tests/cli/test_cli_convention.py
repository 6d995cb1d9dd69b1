"""Issue 24 items 8 and 11: one CLI convention. ``-p/--param KEY VALUE`` sends parameters and ``-o/--output FILE``
says where a command writes, on every command; the old ``-o KEY VALUE`` is refused with its ``-p`` form; an
unknown flag suggests the one meant; messages name commands and flags, never Python; and the CLI streams for a
model with unknown capabilities as Python does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pepperpy import cli
from pepperpy.testing import FakeProviderServer, server_environ
from tests.conftest import write_provider


@pytest.fixture
def fake(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    for name, value in server_environ(server).items():
        monkeypatch.setenv(name, value)
    server.jobs.polls = 1
    return server


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(args))
    except SystemExit as exit:  # a usage error
        code = int(exit.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


PYTHON = re.compile(r"\w\(\)|client\.|Client\(|Budget\(|\bjob\.\w|\w=\s|\w=$|\w=\.")  # Python in a message


def test_every_command_that_sends_takes_p_and_every_command_that_writes_takes_o() -> None:
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    sends = {"complete", "map", "embed", "image", "speak", "transcribe", "video", "talk"}
    writes = {"complete", "map", "embed", "image", "speak", "transcribe", "video", "talk"}
    for name in sends | writes:
        flags = commands[name]._option_string_actions
        if name in sends:
            assert {"-p", "--param"} <= set(flags), name
        if name in writes:
            assert {"-o", "--output"} <= set(flags), name
            assert flags["-o"].dest == "output" and flags["-o"].nargs is None, name
    batch = commands["batch"]._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"-p", "-o"} <= set(batch["submit"]._option_string_actions)
    assert "-o" in batch["results"]._option_string_actions


def test_complete_takes_p_and_writes_its_text_with_o(fake: FakeProviderServer, capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    code, out, err = run(capsys, "complete", "-m", "gpt-4o-mini", "-p", "seed", "42", "-o", str(tmp_path / "a.txt"),
                         "hi")
    assert (code, out, err) == (0, f"{tmp_path / 'a.txt'}\n", "")
    assert (tmp_path / "a.txt").read_text() == "echo: hi\n" and fake.requests[-1].json["seed"] == 42


@pytest.mark.parametrize("command", [
    ["complete", "-m", "gpt-4o-mini"], ["map", "-m", "gpt-4o-mini"], ["batch", "submit", "-m", "gpt-4o-mini"]])
def test_the_old_o_key_value_form_is_refused_with_its_p_form(fake: FakeProviderServer, command: list[str],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    Path("prompts.txt").write_text('"hi"\n')
    tail = ["42", "hi"] if command[0] == "complete" else ["prompts.txt"]
    code, _, err = run(capsys, *command, "-o", "seed", *tail)
    name = " ".join(command[:2] if command[0] == "batch" else command[:1])
    assert code == 2 and f"pass it with -p: pepperpy {name} -m gpt-4o-mini -p seed VALUE" in err
    assert not Path("seed").exists() and fake.requests == []  # no file named seed, nothing sent as "42 hi"


def test_an_unknown_flag_suggests_the_one_meant(capsys: pytest.CaptureFixture[str]) -> None:
    for args, meant in ((["complete", "-m", "gpt-4o-mini", "--option", "seed", "42", "hi"], "-p/--param"),
                        (["image", "kite", "-m", "gpt-image-2.6-flare", "--qualty", "low"], "--quality"),
                        (["speak", "hi", "-m", "tts-1", "--max_tokens", "5"], "--max-tokens"),
                        (["map", "-m", "gpt-4o-mini", "--budjet", "1", "f.txt"], "--budget")):
        code, _, err = run(capsys, *args)
        assert code == 2 and f"did you mean {meant}?" in err, (args, err)


def test_messages_name_commands_and_flags_never_python(fake: FakeProviderServer,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        ["image", "a kite", "-m", "gpt-4o-mini", "-o", "kite.png"],              # a chat model for an image
        ["transcribe", "nofile.wav", "-m", "gpt-4o-mini"],                          # a chat model, a missing file
        ["speak", "hi", "-m", "gpt-4o-mini", "-o", "hi.mp3"],
        ["embed", "-m", "gpt-4o-mini", "text"],
        ["complete", "-m", "text-embedding-3-small", "hi"],
        ["image", "kite", "-m", "gpt-image-2.6-flare", "-p", "max_tokens", "100"],  # a chat param for an image
        ["image", "kite", "-m", "gpt-image-2.6-flare", "--budget", "0.01"],         # over the budget
        ["video", "cat", "-m", "veo-3.1-fast-generate-preview", "--seconds", "8", "--budget", "0.01", "-o", "c.mp4"],
        ["batch", "submit", "-", "--text", "-m", "gpt-4o-mini", "--max-tokens", "16000", "--budget", "0.0001"],
    ]
    for args in cases:
        code, _, err = run(capsys, *args, "--verbose")
        line = err.strip().splitlines()[-1]
        assert code == 1 and line.startswith("error: "), (args, err)
        assert not PYTHON.search(line), (args, line)
    assert fake.requests == []
    code, _, err = run(capsys, "image", "a kite", "-m", "gpt-4o-mini", "-o", "kite.png")
    assert "`pepperpy image` needs an image model" in err
    code, _, err = run(capsys, "image", "kite", "-m", "gpt-image-2.6-flare", "--budget", "0.01", "--verbose")
    assert "To fit: lower -n, --quality or --size; or raise --budget" in err


def test_a_video_job_the_cli_cannot_finish_is_resumed_with_the_command(fake: FakeProviderServer,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    fake.jobs.outcome("failed")
    code, _, err = run(capsys, "video", "cat", "-m", "veo-3.1-fast-generate-preview", "--seconds", "4", "-o", "c.mp4")
    assert code == 1 and not PYTHON.search(err.splitlines()[-1]), err
    code, _, err = run(capsys, "video", "--job", "batch:gemini:eyJ2IjoxfQ", "-o", "c.mp4")
    assert code == 1 and "`pepperpy batch status ID`" in err and "client." not in err


# --------------------------------------------------------------------------- item 11

def test_the_cli_streams_a_model_with_unknown_capabilities_as_python_does(server: FakeProviderServer,
                                                                          tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_provider(tmp_path / "cat", "house", "openai", server.base_url("openai"),
                            models="- id: bare-model\n- id: no-stream\n  capabilities: [tools]\n")
    server.reply(chunks=["Hel", "lo"])
    assert run(capsys, "complete", "--catalog", str(folder), "-m", "bare-model", "hi")[:2] == (0, "Hello\n")
    assert server.requests[-1].json.get("stream") is True  # a listed model that says nothing: the provider decides
    server.reply("Plain")
    assert run(capsys, "complete", "--catalog", str(folder), "-m", "no-stream", "hi")[:2] == (0, "Plain\n")
    assert server.requests[-1].json.get("stream") in (None, False)  # one that lists capabilities without streaming


def test_map_writes_its_answers_with_o(fake: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    Path("prompts.txt").write_text("one\ntwo\n")
    code, out, _ = run(capsys, "map", "-m", "gpt-4o-mini", "-p", "seed", "7", "-o", "answers.jsonl", "prompts.txt")
    assert (code, out) == (0, "answers.jsonl\n")
    lines = [json.loads(line) for line in Path("answers.jsonl").read_text().splitlines()]
    assert [line["text"] for line in lines] == ["echo: one", "echo: two"]
    assert all(request.json["seed"] == 7 for request in fake.requests)
