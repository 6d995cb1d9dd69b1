"""Every media method against the loopback fake for Gemini (generateContent), and the OpenAI-compatible
providers declared by YAML alone (Groq transcription, xAI images): exact requests and parsed results."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from pepperpy.testing._media import GEMINI_IMAGE_TOKENS, PCM_PER_WORD, png
from tests.media.conftest import KEY


def test_gemini_image_through_generate_content(media: pepperpy.Client, server: FakeProviderServer) -> None:
    result = media.generate_image("a red kite", model="gemini-nano-banana-2.1", size="2K", aspect_ratio="16:9")
    sent = server.requests[-1]
    assert sent.path == "/v1beta/models/gemini-nano-banana-2.1:generateContent"
    assert sent.headers["x-goog-api-key"] == KEY and "key" not in sent.query  # never in the URL
    assert sent.json == {"contents": [{"role": "user", "parts": [{"text": "a red kite"}]}],
                         "generationConfig": {"responseModalities": ["TEXT", "IMAGE"],
                                              "imageConfig": {"imageSize": "2K", "aspectRatio": "16:9"}}}
    (image,) = result.images
    assert (image.data, image.mime_type) == (png("a red kite"), "image/png")
    assert result.usage.output_tokens == GEMINI_IMAGE_TOKENS and result.request_id.startswith("resp_")
    assert result.cost == pytest.approx((3 * 1.5 + GEMINI_IMAGE_TOKENS * 30.0) / 1e6)


def test_gemini_image_edit_sends_the_input_inline(media: pepperpy.Client, server: FakeProviderServer) -> None:
    media.generate_image("make it night", model="gemini-3-pro-image", image=png("day"))
    parts = server.requests[-1].json["contents"][0]["parts"]
    assert parts == [{"text": "make it night"},
                     {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png("day")).decode()}}]
    with pytest.raises(pepperpy.ValidationError, match="no mask"):
        media.generate_image("x", model="gemini-3-pro-image", image=png("day"), mask=png("m"))


def test_gemini_speech_is_a_playable_wav_unless_pcm_is_asked(media: pepperpy.Client,
                                                             server: FakeProviderServer) -> None:
    speech = media.synthesize("Have a wonderful day", model="gemini-3.8-flash-tts", voice="Puck")
    sent = server.requests[-1]
    assert sent.path == "/v1beta/models/gemini-3.8-flash-tts:generateContent"
    assert sent.json == {"contents": [{"role": "user", "parts": [{"text": "Have a wonderful day"}]}],
                         "generationConfig": {"responseModalities": ["AUDIO"], "speechConfig": {
                             "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}}}}
    pcm = bytes(PCM_PER_WORD * 4)
    assert (speech.format, speech.mime_type) == ("wav", "audio/wav")
    assert speech.audio[:4] == b"RIFF" and speech.audio[8:12] == b"WAVE" and speech.audio[44:] == pcm
    assert int.from_bytes(speech.audio[24:28], "little") == 24000  # the rate from audio/L16;...;rate=24000
    assert speech.cost == pytest.approx((4 * 0.5 + 100 * 9.0) / 1e6)

    raw = media.synthesize("Have a wonderful day", model="gemini-3.8-flash-tts", format="pcm")
    assert raw.audio == pcm and raw.mime_type.startswith("audio/L16") and raw.voice == "Kore"  # first voice


def test_gemini_two_speakers_and_a_language(media: pepperpy.Client, server: FakeProviderServer) -> None:
    media.synthesize("Alice: Hi. Bob: Hello.", model="gemini-3.8-flash-lite-tts",
                     speakers={"Alice": "Leda", "Bob": "Kore"}, language="en-US")
    config = server.requests[-1].json["generationConfig"]["speechConfig"]
    assert config == {"multiSpeakerVoiceConfig": {"speakerVoiceConfigs": [
        {"speaker": "Alice", "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Leda"}}},
        {"speaker": "Bob", "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}]}, "languageCode": "en-US"}


def test_gemini_speech_stream_starts_with_a_streaming_wav_header(media: pepperpy.Client,
                                                                 server: FakeProviderServer) -> None:
    with media.synthesize_stream("one two three", model="gemini-3.8-flash-tts") as audio:
        pieces = list(audio)
    sent = server.requests[-1]
    assert sent.path.endswith(":streamGenerateContent") and sent.query == {"alt": "sse"}
    assert len(pieces) == 3 and pieces[0][:4] == b"RIFF" and pieces[0][4:8] == b"\xff\xff\xff\xff"
    assert b"".join(pieces)[44:] == bytes(PCM_PER_WORD * 3)


def test_gemini_transcribes_with_a_chat_model_that_hears_audio(media: pepperpy.Client, server: FakeProviderServer,
                                                               audio_file: Path) -> None:
    result = media.transcribe(audio_file, model="gemini-3.8-flash", language="Portuguese", prompt="Names: Ana")
    sent = server.requests[-1]
    assert sent.path == "/v1beta/models/gemini-3.8-flash:generateContent"
    instruction, audio = sent.json["contents"][0]["parts"]
    assert "verbatim" in instruction["text"] and "Portuguese" in instruction["text"] and "Ana" in instruction["text"]
    assert audio == {"inlineData": {"mimeType": "audio/mpeg",
                                    "data": base64.b64encode(audio_file.read_bytes()).decode()}}
    assert result.text == "fake transcript of audio/mpeg (32,010 bytes)" and result.language == "Portuguese"
    assert result.usage.input_audio_tokens == 64 and result.cost is not None


def test_gemini_transcription_stream(media: pepperpy.Client, server: FakeProviderServer, audio_file: Path) -> None:
    server.reply("hello from gemini")
    with media.transcribe_stream(audio_file, model="gemini-3.8-flash") as pieces:
        received = list(pieces)
    assert received == ["hello ", "from ", "gemini"] and pieces.transcription.text == "hello from gemini"
    assert server.requests[-1].path.endswith(":streamGenerateContent")


# --------------------------------------------------------------------------- OpenAI-compatible by YAML alone


def test_groq_transcription_speaks_the_openai_wire(media: pepperpy.Client, server: FakeProviderServer,
                                                   audio_file: Path) -> None:
    result = media.transcribe(audio_file, model="whisper-large-v3-turbo", response_format="verbose_json")
    sent = server.requests[-1]
    assert sent.path == "/v1/audio/transcriptions"  # server_environ moved Groq's base URL to the fake
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.form == {"model": "whisper-large-v3-turbo", "response_format": "verbose_json"}
    assert sent.files("file")[0].data == audio_file.read_bytes()
    assert (result.provider, result.language, len(result.segments)) == ("groq", "english", 1)
    assert result.cost == pytest.approx(3 / 60 * 0.000667)


def test_xai_answers_a_url_that_is_downloaded_without_the_key(media: pepperpy.Client,
                                                              server: FakeProviderServer) -> None:
    result = media.generate_image("a red kite", model="grok-imagine-image", aspect_ratio="16:9")
    generate, download = server.requests[-2:]
    assert generate.json == {"model": "grok-imagine-image", "prompt": "a red kite", "aspect_ratio": "16:9"}
    assert download.method == "GET" and download.path.startswith("/fake-files/")
    (image,) = result.images
    assert image.data == png("a red kite/0") and image.url
    if image.url.startswith("http://localhost:"):  # another host than the API's (when localhost resolves here)
        assert "authorization" not in download.headers  # so the key stays home
    assert image.revised_prompt == "A picture of a red kite" and result.cost == pytest.approx(0.02)


def test_gemini_sampling_params_go_into_generation_config(media: pepperpy.Client, server: FakeProviderServer,
                                                          audio_file: Path) -> None:
    # Gemini refuses unknown top-level fields ("Unknown name \"temperature\""), as the fake now does too
    media.transcribe(audio_file, model="gemini-3.8-flash", temperature=0, max_tokens=100)
    sent = server.requests[-1].json
    assert set(sent) == {"contents", "generationConfig"}
    assert sent["generationConfig"] == {"temperature": 0, "maxOutputTokens": 100}
    media.synthesize("hi", model="gemini-3.8-flash-tts", voice="Puck", temperature=0.5,
                     safetySettings=[{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}])
    sent = server.requests[-1].json
    assert set(sent) == {"contents", "generationConfig", "safetySettings"}  # Gemini's own fields stay on top
    assert sent["generationConfig"]["temperature"] == 0.5 and sent["generationConfig"]["responseModalities"] == [
        "AUDIO"]
    media.generate_image("a kite", model="gemini-nano-banana-2.1", seed=7, top_p=0.9)
    config = server.requests[-1].json["generationConfig"]
    assert (config["seed"], config["topP"], config["responseModalities"]) == (7, 0.9, ["TEXT", "IMAGE"])


def test_the_fake_refuses_unknown_top_level_fields_as_gemini_does(server: FakeProviderServer) -> None:
    import requests

    answer = requests.post(f"{server.base_url('gemini')}/models/gemini-3.8-flash-tts:generateContent",
                           json={"contents": [{"parts": [{"text": "hi"}]}], "temperature": 0,
                                 "generationConfig": {"responseModalities": ["AUDIO"]}}, timeout=5)
    assert answer.status_code == 400 and 'Unknown name "temperature"' in answer.json()["error"]["message"]
