"""The media dialects as pure functions, on the wire samples of openai-python's API reference and python-genai
(see /work/notes/media-wire.md): requests built, answers parsed, usage and costs read."""

from __future__ import annotations

import base64
import json

import pytest

from pepperpy import errors
from pepperpy.dialects._media import MediaCall, b64decode, form_fields
from pepperpy.dialects.base import get_dialect
from pepperpy.http._upload import Upload
from pepperpy.observe.pricing import charge  # dialects price nothing: the ledger does
from pepperpy.types import ModelSpec, Pricing, ProviderSpec

OPENAI = get_dialect("openai")
GEMINI = get_dialect("gemini")
PROVIDER = ProviderSpec("openai", "openai", "https://api.openai.com/v1")
GOOGLE = ProviderSpec("gemini", "gemini", "https://generativelanguage.googleapis.com/v1beta")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(8)


def model(id: str, mode: str, provider: str = "openai", **pricing: object) -> ModelSpec:
    return ModelSpec(id=id, provider=provider, mode=mode, pricing=Pricing(**pricing) if pricing else None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- OpenAI images

IMAGES_ANSWER = {  # the API reference's example (ImagesResponse), with a decodable payload
    "created": 1713833628, "data": [{"b64_json": base64.b64encode(PNG).decode()}], "background": "transparent",
    "output_format": "png", "size": "1024x1024", "quality": "high",
    "usage": {"total_tokens": 100, "input_tokens": 50, "output_tokens": 50,
              "input_tokens_details": {"text_tokens": 10, "image_tokens": 40}},
}


def test_openai_image_request_and_answer() -> None:
    spec = model("gpt-image-1.5", "image", input=5.0, image_input=10.0, output=40.0)
    request = OPENAI.build_image(PROVIDER, spec, "A cute baby sea otter", {"n": 1, "size": "1024x1024"})
    assert (request.method, request.path, request.upload) == ("POST", "/images/generations", None)
    assert request.json == {"model": "gpt-image-1.5", "prompt": "A cute baby sea otter", "n": 1, "size": "1024x1024"}
    result = OPENAI.parse_image(json.dumps(IMAGES_ANSWER).encode(), "application/json", spec, MediaCall())
    assert result.images[0].data == PNG and result.images[0].mime_type == "image/png"
    usage = result.usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens, usage.input_image_tokens) == (50, 50, 100, 40)
    assert result.cost is None and charge(spec, result) == pytest.approx((10 * 5.0 + 40 * 10.0 + 50 * 40.0) / 1e6)


def test_openai_url_answers_keep_the_url_for_the_download() -> None:
    answer = {"created": 1589478378, "data": [{"url": "https://example.invalid/img.png", "revised_prompt": "A photo"}]}
    spec = model("dall-e-3", "image", per_image={"standard": {"1024x1024": 0.04}})
    result = OPENAI.parse_image(json.dumps(answer).encode(), "application/json", spec,
                                MediaCall(params={"quality": "standard", "size": "1024x1024"}))
    (image,) = result.images
    assert (image.data, image.url, image.revised_prompt) == (b"", "https://example.invalid/img.png", "A photo")
    assert charge(spec, result) == pytest.approx(0.04)  # no usage: the per-image price of that size and quality


def test_openai_edit_multipart_names_follow_the_sdk() -> None:
    spec = model("gpt-image-1.5", "image")
    one = OPENAI.build_image(PROVIDER, spec, "p", {"n": 2, "stream": False}, images=[Upload.of(PNG, name="a")],
                             mask=Upload.of(PNG, name="m"))
    assert one.path == "/images/edits" and one.json is None
    assert one.upload.fields == (("model", "gpt-image-1.5"), ("prompt", "p"), ("n", "2"), ("stream", "false"))
    assert [(name, upload.name) for name, upload in one.upload.files] == [("image", "a.png"), ("mask", "m.png")]
    two = OPENAI.build_image(PROVIDER, spec, "p", {}, images=[Upload.of(PNG), Upload.of(PNG)])
    assert [name for name, _ in two.upload.files] == ["image[]", "image[]"]


def test_form_fields_and_base64() -> None:
    assert list(form_fields({"timestamp_granularities": ["word", "segment"], "temperature": 0.0, "x": None})) == [
        ("timestamp_granularities[]", "word"), ("timestamp_granularities[]", "segment"), ("temperature", "0.0")]
    assert b64decode("aGk") == b"hi" and b64decode("-_8=") == b"\xfb\xff"
    with pytest.raises(ValueError, match="not base64"):
        b64decode("not base64!")


# --------------------------------------------------------------------------- OpenAI speech and transcription

def test_openai_speech_request_and_binary_answer() -> None:
    spec = model("gpt-4o-mini-tts", "speech")
    call = MediaCall(voice="alloy", format="pcm", characters=44)
    request = OPENAI.build_speech(PROVIDER, spec, "The quick brown fox jumped over the lazy dog.", {}, call,
                                  stream=True)
    assert request.json == {"model": "gpt-4o-mini-tts", "input": "The quick brown fox jumped over the lazy dog.",
                            "voice": "alloy", "response_format": "pcm"}
    assert request.stream and request.headers == {"Accept": "application/octet-stream"}
    speech = OPENAI.parse_speech(b"\x00\x01" * 10, "application/octet-stream", spec, call)
    assert (speech.audio, speech.mime_type, speech.format) == (b"\x00\x01" * 10, "audio/L16;rate=24000", "pcm")
    with pytest.raises(errors.ProviderError, match="bad voice"):
        OPENAI.parse_speech(b'{"error": {"message": "bad voice", "type": "invalid_request_error"}}',
                            "application/json", spec, call)


TOKENS = {"text": "Imagine the wildest idea that you've ever had", "usage": {
    "type": "tokens", "input_tokens": 14, "input_token_details": {"text_tokens": 0, "audio_tokens": 14},
    "output_tokens": 45, "total_tokens": 59}}
VERBOSE = {"task": "transcribe", "language": "english", "duration": 8.470000267028809,
           "text": "The beach was a popular spot on a hot summer day.",
           "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": 3.319999933242798,
                         "text": " The beach was a popular spot on a hot summer day.", "tokens": [50364, 440],
                         "temperature": 0.0, "avg_logprob": -0.286, "compression_ratio": 1.236,
                         "no_speech_prob": 0.0098}],
           "usage": {"type": "duration", "seconds": 9}}


def test_openai_transcription_answers_json_verbose_and_text() -> None:
    priced = model("gpt-4o-transcribe", "transcription", input=2.5, output=10.0)
    result = OPENAI.parse_transcription(json.dumps(TOKENS).encode(), "application/json", priced, MediaCall())
    assert result.usage.input_audio_tokens == 14
    assert charge(priced, result) == pytest.approx((14 * 2.5 + 45 * 10.0) / 1e6)
    whisper = model("whisper-1", "transcription", per_minute=0.006)
    verbose = OPENAI.parse_transcription(json.dumps(VERBOSE).encode(), "application/json", whisper,
                                         MediaCall(params={"response_format": "verbose_json"}))
    assert (verbose.language, verbose.duration, verbose.segments[0].end) == ("english", 8.470000267028809,
                                                                             3.319999933242798)
    assert verbose.billed_seconds == 9 and charge(whisper, verbose) == pytest.approx(9 / 60 * 0.006)  # usage.seconds
    srt = OPENAI.parse_transcription(b"1\n00:00:00,000 --> 00:00:01,000\nHi\n", "text/plain", whisper,
                                     MediaCall(params={"response_format": "srt"}))
    assert srt.text.startswith("1\n00:00:00,000") and charge(whisper, srt) is None


def test_openai_transcription_stream_events() -> None:
    parser = OPENAI.transcription_stream_parser(model("gpt-4o-transcribe", "transcription"), MediaCall())
    events = [b'{"type":"transcript.text.delta","delta":"I","logprobs":[]}',
              b'{"type":"transcript.text.delta","delta":" see"}',
              b'{"type":"transcript.text.segment","id":"s1","start":0,"end":1,"text":"I see","speaker":"A"}',
              b'{"type":"transcript.text.done","text":"I see","usage":{"input_tokens":14,"output_tokens":45,'
              b'"total_tokens":59}}']  # the reference's done event carries usage without "type"
    out = [parser.feed("message", data) for data in events]
    assert out[:3] == ["I", " see", None] and parser.done
    assert out[3].text == "I see" and out[3].usage.total_tokens == 59


def test_openai_transcription_request_is_multipart() -> None:
    request = OPENAI.build_transcription(PROVIDER, model("gpt-4o-transcribe", "transcription"),
                                         Upload.of(b"ID3...", name="a.mp3"), {"include": ["logprobs"]}, stream=True)
    assert request.path == "/audio/transcriptions" and request.stream
    assert request.upload.fields == (("model", "gpt-4o-transcribe"), ("include[]", "logprobs"), ("stream", "true"))


# --------------------------------------------------------------------------- Gemini

GEMINI_TTS = {"candidates": [{"content": {"role": "model", "parts": [{"inlineData": {
    "mimeType": "audio/L16;codec=pcm;rate=24000", "data": "AAAAAAAAAAA="}}]}, "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 40, "totalTokenCount": 48,
                      "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": 40}]}}
GEMINI_IMAGE = {"candidates": [{"content": {"role": "model", "parts": [
    {"text": "Here is your apple."},
    {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}}]},
    "finishReason": "STOP", "index": 0}],
    "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 1290, "totalTokenCount": 1299,
                      "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 9}],
                      "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}]},
    "modelVersion": "gemini-2.5-flash-image", "responseId": "abc123"}


def test_gemini_tts_answer_becomes_a_wav() -> None:
    spec = model("gemini-2.5-flash-preview-tts", "speech", "gemini", input=0.5, output=10.0)
    request = GEMINI.build_speech(GOOGLE, spec, "Say cheerfully: Have a wonderful day!", {}, MediaCall(voice="Kore"),
                                  stream=False)
    assert request.path == "/models/gemini-2.5-flash-preview-tts:generateContent"
    assert request.json["generationConfig"] == {"responseModalities": ["AUDIO"], "speechConfig": {
        "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}}
    speech = GEMINI.parse_speech(json.dumps(GEMINI_TTS).encode(), "application/json", spec, MediaCall(characters=37))
    assert speech.audio == _wav(bytes(8)) and speech.mime_type == "audio/wav"
    assert charge(spec, speech) == pytest.approx((8 * 0.5 + 40 * 10.0) / 1e6)


def _wav(pcm: bytes) -> bytes:
    import struct
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1, 24000, 48000, 2, 16,
                       b"data", len(pcm)) + pcm


def test_gemini_image_answer_and_refusals() -> None:
    spec = model("gemini-2.5-flash-image", "image", "gemini", input=0.3, output=30.0)
    result = GEMINI.parse_image(json.dumps(GEMINI_IMAGE).encode(), "application/json", spec, MediaCall())
    assert result.images[0].data == PNG and result.request_id == "abc123"
    assert charge(spec, result) == pytest.approx((9 * 0.3 + 1290 * 30.0) / 1e6)  # about $0.039 an image
    assert result.raw["candidates"][0]["content"]["parts"][0] == {"text": "Here is your apple."}
    filtered = {"candidates": [{"content": {"parts": []}, "finishReason": "IMAGE_SAFETY"}]}
    with pytest.raises(errors.InvalidRequestError, match=r"IMAGE_SAFETY.*filtered"):
        GEMINI.parse_image(json.dumps(filtered).encode(), "application/json", spec, MediaCall())
    blocked = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}
    with pytest.raises(errors.InvalidRequestError, match="blocked the prompt"):
        GEMINI.parse_image(json.dumps(blocked).encode(), "application/json", spec, MediaCall())


def test_gemini_transcription_reads_audio_tokens() -> None:
    spec = model("gemini-3.8-flash", "chat", "gemini", input=0.3, audio_input=1.0, output=2.5)
    answer = {"candidates": [{"content": {"parts": [{"text": " Hello there. \n"}]}, "finishReason": "STOP"}],
              "usageMetadata": {"promptTokenCount": 74, "candidatesTokenCount": 3, "totalTokenCount": 77,
                                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10},
                                                        {"modality": "AUDIO", "tokenCount": 64}]}}
    result = GEMINI.parse_transcription(json.dumps(answer).encode(), "application/json", spec, MediaCall())
    assert result.text == "Hello there." and result.usage.input_audio_tokens == 64
    assert charge(spec, result) == pytest.approx((10 * 0.3 + 64 * 1.0 + 3 * 2.5) / 1e6)  # audio input priced apart
