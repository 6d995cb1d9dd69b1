"""Every media method against the loopback fake for OpenAI: the exact request (path, headers, JSON or multipart
fields) and the parsed result."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from pepperpy.testing._media import IMAGE_OUTPUT_TOKENS, SPEECH_TOKENS_PER_WORD, png, speech_audio
from tests.media.conftest import KEY, retiring


def test_generate_image_sends_json_and_decodes_base64(media: pepperpy.Client, server: FakeProviderServer) -> None:
    result = media.generate_image("a red kite", model="gpt-image-2.6-flare", n=2, size="1024x1536", quality="high",
                                  background="transparent")
    sent = server.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/images/generations")
    assert sent.headers["authorization"] == f"Bearer {KEY}" and sent.headers["content-type"] == "application/json"
    assert sent.json == {"model": "gpt-image-2.6-flare", "prompt": "a red kite", "n": 2, "size": "1024x1536",
                         "quality": "high", "background": "transparent"}
    assert [image.data for image in result] == [png("a red kite/0"), png("a red kite/1")]
    assert all(image.mime_type == "image/png" and image.url is None for image in result)
    assert (result.model, result.provider, result.request_id) == ("gpt-image-2.6-flare", "openai", "req_1")  # header
    assert (result.usage.input_tokens, result.usage.output_tokens) == (3, 2 * IMAGE_OUTPUT_TOKENS)
    assert result.cost == pytest.approx((3 * 5.0 + 2 * IMAGE_OUTPUT_TOKENS * 30.0) / 1e6)
    # raw keeps the answer without its base64 payload (the bytes are in images[i].data)
    assert result.raw["data"][0]["b64_json"] == f"<{len(png('a red kite/0'))} bytes in images[0].data>"


def test_edits_are_multipart_with_image_or_image_brackets(media: pepperpy.Client, server: FakeProviderServer,
                                                         tmp_path: Path) -> None:
    first, second = tmp_path / "lotion.png", tmp_path / "bomb.png"
    first.write_bytes(png("lotion"))
    second.write_bytes(png("bomb"))
    one = media.generate_image("make it blue", model="gpt-image-2.6-flare", image=first, mask=png("mask"))
    sent = server.requests[-1]
    assert sent.path == "/v1/images/edits" and sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert sent.form == {"model": "gpt-image-2.6-flare", "prompt": "make it blue"}
    assert [(p.name, p.filename, p.content_type, p.data) for p in sent.parts if p.filename] == [
        ("image", "lotion.png", "image/png", png("lotion")), ("mask", "mask.png", "image/png", png("mask"))]
    assert len(one) == 1 and one.usage.input_image_tokens == 65

    two = media.generate_image("a gift basket", model="gpt-image-2.6-flare", image=[first, second.open("rb")])
    sent = server.requests[-1]
    assert [p.filename for p in sent.files("image[]")] == ["lotion.png", "bomb.png"]
    assert two.usage.input_image_tokens == 130  # image input tokens are priced apart (image_input)
    assert two.cost == pytest.approx((3 * 5.0 + 130 * 8.0 + IMAGE_OUTPUT_TOKENS * 30.0) / 1e6)


def test_per_image_prices_when_no_token_usage_comes_back(media: pepperpy.Client, server: FakeProviderServer) -> None:
    answer = {"created": 1, "data": [{"b64_json": base64.b64encode(png("x")).decode()}], "size": "1024x1536",
              "quality": "medium"}
    server.fail(200, body=answer)  # a scripted 200: an answer without usage, as older servers send
    result = retiring(lambda: media.generate_image("x", model="gpt-image-1-mini"))
    assert result.usage.total_tokens == 0 and result.cost == pytest.approx(0.015)  # medium 1024x1536


def test_synthesize_sends_json_and_keeps_the_audio_bytes(media: pepperpy.Client, server: FakeProviderServer) -> None:
    speech = retiring(lambda: media.synthesize("Hello there!", model="tts-1", voice="nova", format="opus", speed=1.25))
    sent = server.requests[-1]
    assert sent.path == "/v1/audio/speech" and sent.headers["accept"] == "application/octet-stream"
    assert sent.json == {"model": "tts-1", "input": "Hello there!", "voice": "nova", "response_format": "opus",
                         "speed": 1.25}
    assert speech.audio == speech_audio("Hello there!", "opus")
    assert (speech.format, speech.mime_type, speech.voice, speech.model) == ("opus", "audio/ogg", "nova", "tts-1")
    assert speech.cost == pytest.approx(len("Hello there!") * 15.0 / 1e6)  # per 1M characters


def test_synthesize_defaults_to_the_first_voice_and_mp3(media: pepperpy.Client, server: FakeProviderServer) -> None:
    speech = retiring(lambda: media.synthesize("Hi", model="gpt-4o-mini-tts", instructions="cheerful"))
    assert server.requests[-1].json == {"model": "gpt-4o-mini-tts", "input": "Hi", "voice": "alloy",
                                        "instructions": "cheerful"}
    assert (speech.format, speech.mime_type) == ("mp3", "audio/mpeg") and speech.audio.startswith(b"ID3")
    assert speech.cost is None  # billed per token, and /audio/speech reports none: never guessed


def test_synthesize_stream_yields_the_audio_as_it_comes(media: pepperpy.Client, server: FakeProviderServer) -> None:
    text = "one two three four five"
    with retiring(lambda: media.synthesize_stream(text, model="tts-1-hd", voice="echo", format="wav")) as audio:
        pieces = list(audio)
    assert len(pieces) > 1 and b"".join(pieces) == speech_audio(text, "wav")
    assert audio.bytes_received == sum(map(len, pieces)) and (audio.format, audio.mime_type) == ("wav", "audio/wav")
    assert server.requests[-1].json["response_format"] == "wav"


def test_stream_format_sse_answers_are_decoded_into_the_audio(media: pepperpy.Client,
                                                               server: FakeProviderServer) -> None:
    text = "one two three four"
    speech = retiring(lambda: media.synthesize(text, model="gpt-4o-mini-tts", voice="coral", stream_format="sse"))
    assert server.requests[-1].json == {"model": "gpt-4o-mini-tts", "input": text, "voice": "coral",
                                        "stream_format": "sse"}
    assert speech.audio == speech_audio(text, "mp3")  # the audio itself, never the event stream's text
    assert (speech.usage.input_tokens, speech.usage.output_tokens) == (4, 4 * SPEECH_TOKENS_PER_WORD)
    assert speech.cost == pytest.approx((4 * 0.6 + 4 * SPEECH_TOKENS_PER_WORD * 12.0) / 1e6)  # tokens reported
    with retiring(lambda: media.synthesize_stream(text, model="gpt-4o-mini-tts", format="wav",
                                                  stream_format="sse")) as audio:
        pieces = list(audio)
    assert len(pieces) > 1 and b"".join(pieces) == speech_audio(text, "wav") and audio.format == "wav"
    with pytest.raises(pepperpy.ValidationError, match="tts-1 does not accept stream_format"):
        retiring(lambda: media.synthesize(text, model="tts-1", stream_format="sse"))  # OpenAI: not on tts-1


def test_transcribe_uploads_the_file_as_multipart(media: pepperpy.Client, server: FakeProviderServer,
                                                  audio_file: Path) -> None:
    result = media.transcribe(audio_file, model="gpt-transcribe", language="en", prompt="Names: Ana, Bo")
    sent = server.requests[-1]
    assert sent.path == "/v1/audio/transcriptions" and sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert int(sent.headers["content-length"]) == len(sent.body)  # sized up front, not chunked
    assert sent.form == {"model": "gpt-transcribe", "language": "en", "prompt": "Names: Ana, Bo"}
    (file,) = sent.files("file")
    assert (file.filename, file.content_type, file.data) == ("note.mp3", "audio/mpeg", audio_file.read_bytes())
    assert result.text == "fake transcript of note.mp3 (32,010 bytes)" and str(result) == result.text
    # usage {"type": "duration", "seconds": 3} (whole seconds): the duration, and the cost per minute of audio
    assert result.duration == 3.0 and result.cost == pytest.approx(3.0 / 60 * 0.0045)


def test_whisper_verbose_json_gives_segments_and_language(media: pepperpy.Client, server: FakeProviderServer,
                                                          audio_file: Path) -> None:
    result = retiring(lambda: media.transcribe(audio_file.open("rb"), model="whisper-1",
                                               response_format="verbose_json", timestamp_granularities=["segment"]))
    form = server.requests[-1].parts
    assert [(p.name, p.text) for p in form if p.filename is None] == [
        ("model", "whisper-1"), ("response_format", "verbose_json"), ("timestamp_granularities[]", "segment")]
    assert result.language == "english" and result.duration == 2.001
    assert [(s.start, s.end) for s in result.segments] == [(0.0, 2.001)]
    assert result.cost == pytest.approx(3 / 60 * 0.006)  # usage says 3 whole seconds


def test_plain_text_and_token_usage_answers(media: pepperpy.Client, server: FakeProviderServer,
                                            audio_file: Path) -> None:
    text = retiring(lambda: media.transcribe(audio_file, model="whisper-1", response_format="text"))
    assert text.text == "fake transcript of note.mp3 (32,010 bytes)" and text.cost is None  # no usage in text
    server.reply("hello world")  # a Reply gives the next transcript its text
    tokens = retiring(lambda: media.transcribe(audio_file, model="gpt-4o-mini-transcribe"))
    assert tokens.text == "hello world" and tokens.usage.input_audio_tokens == 20
    assert tokens.cost == pytest.approx((20 * 1.25 + 2 * 5.0) / 1e6)


def test_transcribe_stream_sends_stream_true(media: pepperpy.Client, server: FakeProviderServer,
                                             audio_file: Path) -> None:
    server.reply("I see skies of blue")
    with media.transcribe_stream(audio_file, model="gpt-transcribe") as pieces:
        received = list(pieces)
    assert server.requests[-1].form["stream"] == "true"
    assert received == ["I ", "see ", "skies ", "of ", "blue"]
    assert pieces.transcription.text == "I see skies of blue" and pieces.transcription.duration == 3.0


def test_an_error_answer_is_the_usual_typed_error(media: pepperpy.Client, server: FakeProviderServer,
                                                 audio_file: Path) -> None:
    server.fail(400, message="Invalid file format.")
    with pytest.raises(pepperpy.InvalidRequestError, match="Invalid file format") as info:
        media.transcribe(audio_file, model="gpt-transcribe")
    assert info.value.status_code == 400 and KEY not in str(info.value)
    server.fail(200, body=json.dumps({"error": {"message": "model overloaded", "type": "server_error"}}))
    with pytest.raises(pepperpy.ProviderError, match="overloaded"):
        media.generate_image("x", model="gpt-image-2.6-flare")
