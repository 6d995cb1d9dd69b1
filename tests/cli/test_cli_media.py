"""``pepperpy image``, ``speak`` and ``transcribe`` in-process, against the loopback fake."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from pepperpy import cli
from pepperpy.testing import FakeProviderServer, server_environ
from pepperpy.testing._media import png, speech_audio


@pytest.fixture
def fake(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    for name, value in server_environ(server).items():
        monkeypatch.setenv(name, value)
    return server


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_image_saves_and_prints_the_paths(fake: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "image", "a red kite", "-m", "gpt-image-2.6-flare", "-o", "kite.png") == (0, "kite.png\n", "")
    assert Path("kite.png").read_bytes() == png("a red kite/0")
    code, out, err = run(capsys, "-v", "image", "a", "kite", "-m", "gpt-image-2.6-flare", "-n", "2", "--size",
                         "1024x1024", "-p", "background", "transparent", "-o", "pair.png")
    assert (code, out.split()) == (0, ["pair-1.png", "pair-2.png"])
    assert err.startswith("[openai/gpt-image-2.6-flare · 2 images · $")
    assert fake.requests[-1].json == {"model": "gpt-image-2.6-flare", "prompt": "a kite", "n": 2, "size": "1024x1024",
                                      "background": "transparent"}
    Path("in.png").write_bytes(png("in"))
    assert run(capsys, "image", "bluer", "-m", "gemini-nano-banana-2.1", "--image", "in.png")[1] == "image.png\n"
    assert fake.requests[-1].json["contents"][0]["parts"][1]["inlineData"]["mimeType"] == "image/png"


def test_speak_saves_the_audio_or_streams_it_to_stdout(fake: FakeProviderServer, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, "speak", "hello", "there", "-m", "gemini-3.8-flash-tts", "--voice", "Puck") == (
        0, "speech.wav\n", "")
    assert Path("speech.wav").read_bytes()[:4] == b"RIFF"
    sink = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", SimpleNamespace(buffer=sink, write=lambda s: None, flush=lambda: None))
    assert cli.main(["speak", "one two", "-m", "gemini-3.8-flash-tts", "--format", "pcm", "-o", "-"]) == 0
    assert sink.getvalue() == bytes(4800 * 2) and fake.requests[-1].path.endswith(":streamGenerateContent")


@pytest.mark.filterwarnings("default::FutureWarning")  # shown as outside the suite: the CLI prints it as one line
def test_speak_with_an_openai_voice_and_format(fake: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "speak", "hello", "-m", "tts-1", "--voice", "nova", "--format", "wav", "-o", "hi")
    assert "warning: openai/tts-1 is deprecated" in err
    assert (code, out) == (0, "hi.wav\n") and Path("hi.wav").read_bytes() == speech_audio("hello", "wav")
    assert fake.requests[-1].json == {"model": "tts-1", "input": "hello", "voice": "nova", "response_format": "wav"}


def test_transcribe_prints_text_json_or_pieces(fake: FakeProviderServer, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    Path("note.m4a").write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(16000))
    code, out, _ = run(capsys, "transcribe", "note.m4a", "-m", "gpt-transcribe", "--language", "en")
    assert (code, out) == (0, "fake transcript of note.m4a (16,012 bytes)\n")
    assert fake.requests[-1].form == {"model": "gpt-transcribe", "language": "en"}
    assert fake.requests[-1].files("file")[0].content_type == "audio/mp4"
    code, out, _ = run(capsys, "transcribe", "note.m4a", "-m", "whisper-large-v3-turbo", "--json", "-p",
                       "response_format", "verbose_json")
    answer = json.loads(out)
    assert answer["provider"] == "groq" and answer["language"] == "english" and answer["segments"][0]["end"] == 1.001
    fake.reply("streamed words here")
    assert run(capsys, "transcribe", "note.m4a", "-m", "gpt-transcribe", "--stream")[1] == "streamed words here\n"
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(b"ID3" + bytes(100))))
    assert run(capsys, "transcribe", "-", "-m", "gpt-transcribe")[1] == "fake transcript of audio.mp3 (103 bytes)\n"


def test_media_mistakes_are_one_line_errors(fake: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "image", "x", "-m", "gemini-3.8-flash-tts")
    assert code == 1 and out == "" and err.startswith("error: gemini/gemini-3.8-flash-tts is a speech model;")
    code, _, err = run(capsys, "transcribe", "missing.mp3", "-m", "gpt-transcribe")
    assert code == 1 and err == "error: audio 'missing.mp3': no such file\n"
    code, _, err = run(capsys, "image", "x", "-m", "gpt-image-2.6-flare", "-p", "model", "other")
    assert code == 1 and "use -m/--model" in err
    assert fake.requests == []


@pytest.mark.parametrize("args", [
    ("image", "a red kite", "-m", "gpt-image-2.6-flare"),
    ("speak", "hello there", "-m", "gemini-3.8-flash-tts"),
])
def test_an_output_that_cannot_be_written_fails_before_the_paid_call(args: tuple[str, ...], fake: FakeProviderServer,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *args, "-o", "missing/out.png")
    assert (code, out) == (1, "") and "the folder missing does not exist" in err and "unexpected" not in err
    Path("taken.png").mkdir()
    code, out, err = run(capsys, *args, "-o", "taken.png")
    assert (code, out) == (1, "") and "taken.png is a folder" in err
    assert fake.requests == []  # nothing generated (and billed) only to be lost
