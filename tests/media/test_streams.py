"""Media streams over real sockets: a transcript read piece by piece as the provider sends it, and a speech
stream left early that closes its connection."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer, Fault, Reply
from tests.aio.aio_helpers import established_to, linux_only
from tests.conftest import wait_until
from tests.media.conftest import retiring


def test_a_transcription_stream_is_read_piece_by_piece(media: pepperpy.Client, server: FakeProviderServer,
                                                      audio_file: Path) -> None:
    server.reply(Reply(chunks=["The ", "beach ", "was ", "busy."], chunk_delay=0.3))
    arrivals: list[tuple[float, str, str]] = []
    with media.transcribe_stream(audio_file, model="gpt-transcribe") as pieces:
        start = time.monotonic()
        for piece in pieces:
            arrivals.append((time.monotonic() - start, piece, pieces.text))
    assert [piece for _, piece, _ in arrivals] == ["The ", "beach ", "was ", "busy."]
    assert [text for _, _, text in arrivals] == ["The ", "The beach ", "The beach was ", "The beach was busy."]
    # each piece was handed over when it arrived, not after the whole answer (about 1.2 s of pauses later)
    assert arrivals[-1][0] - arrivals[0][0] >= 0.6, arrivals
    assert pieces.transcription.text == "The beach was busy." and repr(pieces).endswith("done>")


@linux_only
def test_a_speech_stream_left_early_closes_its_connection(media: pepperpy.Client,
                                                         server: FakeProviderServer) -> None:
    server.reply(Reply(chunk_delay=0.02))  # paces the audio frames: 300 words are 300 frames, 6 s in all
    text = " ".join(["word"] * 300)
    with retiring(lambda: media.synthesize_stream(text, model="tts-1", voice="alloy")) as audio:
        first = next(audio)
        assert first.startswith(b"ID3") and established_to(server.port) == 1
    assert repr(audio).endswith("closed>") and list(audio) == []
    assert wait_until(lambda: established_to(server.port) == 0, 2.0)
    assert audio.bytes_received < 300 * 4096  # most of the audio was never read
    again = retiring(lambda: media.synthesize("again", model="tts-1", voice="alloy"))  # the pool still works
    assert again.audio.startswith(b"ID3")


def test_a_transcription_stream_left_early_is_closed(media: pepperpy.Client, server: FakeProviderServer,
                                                     audio_file: Path) -> None:
    server.reply(Reply(chunks=[f"w{i} " for i in range(100)], chunk_delay=0.005))
    with media.transcribe_stream(audio_file, model="gpt-transcribe") as pieces:
        assert next(pieces) == "w0 "
    with pytest.raises(pepperpy.StreamError, match="closed before it finished"):
        _ = pieces.transcription
    assert media.transcribe(audio_file, model="gpt-transcribe").text.startswith("fake transcript")


def test_a_cut_stream_is_a_stream_error(media: pepperpy.Client, server: FakeProviderServer, audio_file: Path) -> None:
    server.fault(Fault.cut_stream(2))
    with pytest.raises(pepperpy.StreamError), media.transcribe_stream(audio_file, model="gpt-transcribe") as pieces:
        list(pieces)
    server.fault(Fault.cut_stream(1, clean=True))  # the body ends properly, without transcript.text.done
    with pytest.raises(pepperpy.StreamError, match="terminator"):
        list(media.transcribe_stream(audio_file, model="gpt-transcribe"))
    server.fault(Fault.stream_error(1, message="upstream failed"))
    with pytest.raises(pepperpy.ProviderError, match="upstream failed"):
        list(media.transcribe_stream(audio_file, model="gpt-transcribe"))


def test_streams_need_a_model_that_streams(media: pepperpy.Client, server: FakeProviderServer,
                                           audio_file: Path) -> None:
    with pytest.raises(pepperpy.ValidationError, match=r"does not stream transcripts.*'openai/gpt-transcribe'"):
        retiring(lambda: media.transcribe_stream(audio_file, model="whisper-1"))
    assert server.requests == []


def test_a_speech_stream_cut_midway_leaves_no_file_behind(media: pepperpy.Client, server: FakeProviderServer,
                                                           tmp_path: Path) -> None:
    server.fault(Fault.cut_stream(2))  # two frames of audio, then the connection drops
    target = tmp_path / "answer.wav"
    with media.synthesize_stream("a longer answer read aloud", model="gemini-3.8-flash-tts") as audio, \
            pytest.raises(pepperpy.StreamError):
        audio.save(target)
    assert audio.bytes_received > 0  # some audio had arrived: it must not stand as the whole answer
    assert list(tmp_path.iterdir()) == []  # neither a truncated answer.wav nor a partial file left behind
    with media.synthesize_stream("a short answer", model="gemini-3.8-flash-tts") as audio:
        saved = audio.save(target)
    assert saved == target and target.read_bytes()[:4] == b"RIFF" and list(tmp_path.iterdir()) == [target]
