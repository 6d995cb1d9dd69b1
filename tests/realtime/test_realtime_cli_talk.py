"""``pepperpy talk`` in-process, against FakeProviderServer (which hands the WebSocket to its realtime fake)."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from realtime_helpers import pcm

from pepperpy import cli
from pepperpy.testing import FakeProviderServer, server_environ


@pytest.fixture
def fake(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    for name, value in server_environ(server).items():
        monkeypatch.setenv(name, value)
    return server


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write_wav(path: str, frames: bytes, rate: int, channels: int = 1) -> None:
    with wave.open(path, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)


def test_a_text_question(fake: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    fake.realtime.reply("Hello from the fake.")
    code, out, err = run(capsys, "talk", "-m", "gpt-realtime-2", "-p", "max_output_tokens", "64", "Say", "hello")
    assert (code, out, err) == (0, "Hello from the fake.\n", "")
    (session,) = fake.realtime.sessions
    assert session.messages[0]["session"]["max_output_tokens"] == 64
    assert session.messages[1]["item"]["content"] == [{"type": "input_text", "text": "Say hello"}]


def test_a_spoken_question_and_answer(fake: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    answer = pcm(0.3, tone=330.0)
    fake.realtime.reply(audio=answer, transcript="It is noon.")
    write_wav("question.wav", pcm(1.0), 24000)
    code, out, err = run(capsys, "-v", "talk", "-m", "gpt-realtime-2", "-i", "question.wav", "-o", "answer.wav")
    assert (code, out) == (0, "It is noon.\n")
    assert err.startswith("[openai/gpt-realtime-2 · 0.3 s of audio → answer.wav · ")
    with wave.open("answer.wav", "rb") as saved:
        assert (saved.getframerate(), saved.getnchannels(), saved.getsampwidth()) == (24000, 1, 2)
        assert saved.readframes(saved.getnframes()) == answer
    messages = fake.realtime.sessions[0].messages
    assert messages[0]["session"]["output_modalities"] == ["audio"]
    assert [m["type"] for m in messages[1:]] == ["input_audio_buffer.append", "input_audio_buffer.commit",
                                                 "response.create"]


def test_gemini_takes_16_khz_and_answers_in_audio(fake: FakeProviderServer,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    write_wav("question.wav", pcm(0.5, rate=16000), 16000)
    code, out, _ = run(capsys, "talk", "-m", "gemini-3.8-live", "-i", "question.wav")
    assert (code, out) == (0, "echo: (audio)\n")  # the transcript: Gemini's Live models speak
    assert fake.realtime.sessions[0].messages[1] == {"realtimeInput": {"activityStart": {}}}


@pytest.mark.parametrize(("rate", "channels", "found"), [(44100, 1, "44100 Hz, 1 channel(s), 16-bit"),
                                                         (24000, 2, "24000 Hz, 2 channel(s), 16-bit")])
def test_a_wav_at_another_rate_or_format_names_the_rate_to_use(fake: FakeProviderServer,
                                                               capsys: pytest.CaptureFixture[str], rate: int,
                                                               channels: int, found: str) -> None:
    write_wav("question.wav", pcm(0.2, rate=rate) * channels, rate, channels)
    code, out, err = run(capsys, "talk", "-m", "gpt-realtime-2", "-i", "question.wav", "-o", "answer.wav")
    assert (code, out) == (1, "")
    assert err == (f"error: question.wav is {found}; openai/gpt-realtime-2 takes 16-bit mono PCM at 24000 Hz: "
                   f"convert it, e.g. ffmpeg -i question.wav -ac 1 -ar 24000 -sample_fmt s16 out.wav\n")
    assert not Path("answer.wav").exists() and fake.realtime.sessions == []  # nothing sent


def test_a_file_that_is_no_wav(fake: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    Path("question.mp3").write_bytes(b"ID3\x03\x00not a wav")
    code, _, err = run(capsys, "talk", "-m", "gemini-3.8-live", "-i", "question.mp3")
    assert code == 1 and "question.mp3 is not a PCM WAV file" in err and "at 16000 Hz" in err
