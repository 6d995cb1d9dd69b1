"""Images, speech and transcription, as the fakes answer them (OpenAI endpoints and Gemini generateContent).

Deterministic and small: an image is a real 16x16 PNG coloured from its prompt; speech is silence whose
length follows the text (frames of ``AUDIO_FRAME`` bytes, streamed); a transcript is the text of a queued
Reply, else ``"fake transcript of <file> (<n> bytes)"``. Usage is counted so a test can check costs. Image
URLs (dall-e-style answers) point at the fake itself, under another host name (``localhost`` for
``127.0.0.1``), so the client's download goes to a host that must not get the API key. Only stdlib.
"""

from __future__ import annotations

import base64
import hashlib
import math
import socket
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pepperpy.testing._script import RecordedRequest, Reply, count_words
from pepperpy.testing._wire import BadRequestError, dumps, sse, text_of

AUDIO_FRAME = 4096           # bytes per streamed audio frame
BYTES_PER_SECOND = 16_000    # how long the fake thinks an uploaded audio file is: its size / this
PCM_PER_WORD = 4_800         # Gemini TTS: 0.1 s of 24 kHz 16-bit mono per word spoken
IMAGE_OUTPUT_TOKENS = 272    # gpt-image-1, low quality, 1024x1024
SPEECH_TOKENS_PER_WORD = 25  # audio output tokens per word spoken (OpenAI's stream_format="sse" reports them)
GEMINI_IMAGE_TOKENS = 1290
_SPEECH_TYPES = {"mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac",
                 "wav": "audio/wav", "pcm": "audio/pcm"}
_MAGIC = {"mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00", "opus": b"OggS\x00\x02", "aac": b"\xff\xf1\x50\x80",
          "flac": b"fLaC\x00\x00\x00\x22", "pcm": b""}


@dataclass(frozen=True)
class MediaAnswer:
    """What a media request gets: a body (or frames when ``stream``), its type, and its frames' pace."""

    content_type: str
    frames: tuple[bytes, ...]
    stream: bool = False
    status: int = 200


def media_kind(endpoint: str, body: Any) -> str | None:
    """``image``, ``speech``, ``transcription`` or None (chat) for a request to ``endpoint``."""
    if endpoint in ("image", "image_edit", "speech", "transcription"):
        return "image" if endpoint == "image_edit" else endpoint
    if endpoint != "chat" or not isinstance(body, Mapping) or "contents" not in body:
        return None
    config = body.get("generationConfig") or {}
    modalities = {str(m).upper() for m in config.get("responseModalities") or ()} if isinstance(config, Mapping) \
        else set()
    if "IMAGE" in modalities:
        return "image"
    if "AUDIO" in modalities:
        return "speech"
    if _audio_parts(body):
        return "transcription"
    return None


def png(seed: str, size: int = 16) -> bytes:
    """A real PNG of one colour picked by ``seed``.

    >>> png("kite")[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    red, green, blue = hashlib.sha256(seed.encode()).digest()[:3]
    row = b"\x00" + bytes((red, green, blue)) * size
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * size))
            + chunk(b"IEND", b""))


def _wav(pcm: bytes, rate: int = 24000) -> bytes:
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1, rate, rate * 2, 2,
                       16, b"data", len(pcm)) + pcm


def speech_audio(text: str, fmt: str) -> bytes:
    """The fake's audio for ``text``: a format header, then silence, ``AUDIO_FRAME`` bytes per word."""
    silence = bytes(AUDIO_FRAME * max(1, count_words(text)))
    return _wav(silence) if fmt == "wav" else _MAGIC.get(fmt, b"") + silence


def frames(data: bytes, size: int = AUDIO_FRAME) -> tuple[bytes, ...]:
    return tuple(data[i:i + size] for i in range(0, len(data), size)) or (b"",)


def _default_transcript(name: str, size: int) -> str:
    return f"fake transcript of {name} ({size:,} bytes)"


# --------------------------------------------------------------------------- OpenAI

def openai_media(endpoint: str, request: RecordedRequest, reply: Reply | None, serial: int,
                 created: int, store: Any) -> MediaAnswer:
    """``/images/generations``, ``/images/edits``, ``/audio/speech`` or ``/audio/transcriptions``."""
    if endpoint == "speech":
        return _openai_speech(request.json)
    form: Mapping[str, Any] = request.json if endpoint == "image" else request.form
    if not isinstance(form, Mapping):
        raise BadRequestError("We could not parse the JSON body of your request.")
    if endpoint == "transcription":
        return _openai_transcription(request, form, reply)
    return _openai_images(endpoint, request, form, serial, created, store)


def _openai_images(endpoint: str, request: RecordedRequest, form: Mapping[str, Any], serial: int, created: int,
                   store: Any) -> MediaAnswer:
    prompt, model = form.get("prompt"), str(form.get("model") or "dall-e-2")
    if not prompt:
        raise BadRequestError("Missing required parameter: 'prompt'.")
    inputs = request.files("image") + request.files("image[]")
    if endpoint == "image_edit" and not inputs:
        raise BadRequestError("Missing required parameter: 'image'.")
    count = int(form.get("n") or 1)
    gpt = model.startswith(("gpt-image", "chatgpt-image"))
    as_url = form.get("response_format") == "url" or (not gpt and form.get("response_format") != "b64_json")
    items = []
    for index in range(count):
        image = png(f"{prompt}/{index}")
        if as_url:
            name = f"img_{serial}_{index}.png"
            store(name, image)
            url = f"{_other_host(request)}/fake-files/{name}"
            items.append({"url": url, "revised_prompt": f"A picture of {prompt}"})
        else:
            items.append({"b64_json": base64.b64encode(image).decode()})
    answer: dict[str, Any] = {"created": created, "data": items}
    if gpt:
        image_tokens = 65 * len(inputs)
        text_tokens = count_words(str(prompt))
        output = IMAGE_OUTPUT_TOKENS * count
        answer.update({"background": "opaque", "output_format": "png", "size": form.get("size") or "1024x1024",
                       "quality": form.get("quality") or "low",
                       "usage": {"input_tokens": text_tokens + image_tokens, "output_tokens": output,
                                 "total_tokens": text_tokens + image_tokens + output,
                                 "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens}}})
    return MediaAnswer("application/json", (dumps(answer).encode(),))


def _other_host(request: RecordedRequest) -> str:
    """A base URL for the fake's files under another host name than the request's (so no key goes there):
    ``localhost`` for the loopback server when it resolves to 127.0.0.1 (else the same address), a made-up
    host for FakeAdapter, which answers every host."""
    host = request.headers.get("host", "")
    name, _, port = host.partition(":")
    if name == "127.0.0.1":
        return f"http://{'localhost' if _localhost_is_loopback() else name}:{port}"
    if name == "localhost":
        return f"http://127.0.0.1:{port}"
    return "https://files.fake-provider.invalid"


def _localhost_is_loopback() -> bool:
    try:
        return "127.0.0.1" in {info[4][0] for info in socket.getaddrinfo("localhost", None, socket.AF_INET)}
    except OSError:
        return False


def _openai_speech(body: Any) -> MediaAnswer:
    if not isinstance(body, Mapping):
        raise BadRequestError("We could not parse the JSON body of your request.")
    for name in ("model", "input", "voice"):
        if not body.get(name):
            raise BadRequestError(f"Missing required parameter: '{name}'.")
    fmt = str(body.get("response_format") or "mp3")
    if fmt not in _SPEECH_TYPES:
        raise BadRequestError(f"Invalid value: '{fmt}'. Supported values are: {', '.join(_SPEECH_TYPES)}.")
    text = str(body["input"])
    audio = frames(speech_audio(text, fmt))
    mode = str(body.get("stream_format") or "audio")
    if mode == "audio":
        return MediaAnswer(_SPEECH_TYPES[fmt], audio, stream=True)
    if mode != "sse":
        raise BadRequestError(f"Invalid value: '{mode}'. Supported values are: 'sse' and 'audio'.")
    if str(body["model"]).startswith("tts-1"):
        raise BadRequestError("stream_format 'sse' is not supported for tts-1 or tts-1-hd.")
    words = count_words(text)
    events = [sse({"type": "speech.audio.delta", "audio": base64.b64encode(frame).decode()}) for frame in audio]
    events.append(sse({"type": "speech.audio.done", "usage": {
        "input_tokens": words, "output_tokens": words * SPEECH_TOKENS_PER_WORD,
        "total_tokens": words + words * SPEECH_TOKENS_PER_WORD}}))
    return MediaAnswer("text/event-stream", tuple(events), stream=True)


def transcription_usage(model: str, seconds: float, prompt: str, text: str) -> dict[str, Any]:
    """Token usage for the gpt-4o transcribe models, the audio's duration for the others (whisper, gpt-transcribe)."""
    if not model.startswith("gpt-4o"):
        return {"type": "duration", "seconds": math.ceil(seconds)}
    audio, words, output = max(1, int(seconds * 10)), count_words(prompt), count_words(text)
    return {"type": "tokens", "input_tokens": audio + words, "input_token_details": {"text_tokens": words,
            "audio_tokens": audio}, "output_tokens": output, "total_tokens": audio + words + output}


def _openai_transcription(request: RecordedRequest, form: Mapping[str, Any], reply: Reply | None) -> MediaAnswer:
    files = request.files("file")
    if not files:
        raise BadRequestError("Missing required parameter: 'file'.")
    if not form.get("model"):
        raise BadRequestError("Missing required parameter: 'model'.")
    upload, model = files[0], str(form["model"])
    text = reply.text if reply is not None else _default_transcript(upload.filename or "file", len(upload.data))
    seconds = round(len(upload.data) / BYTES_PER_SECOND, 3)
    usage = transcription_usage(model, seconds, str(form.get("prompt") or ""), text)
    if form.get("stream") == "true":
        pieces = reply.chunks if reply is not None and reply.chunks else tuple(_words(text))
        events = [sse({"type": "transcript.text.delta", "delta": piece}) for piece in pieces]
        usage.pop("type", None)  # as in the API reference's stream example
        events.append(sse({"type": "transcript.text.done", "text": text, "usage": usage}))
        return MediaAnswer("text/event-stream", tuple(events), stream=True)
    fmt = str(form.get("response_format") or "json")
    if fmt == "text":
        return MediaAnswer("text/plain; charset=utf-8", (f"{text}\n".encode(),))
    if fmt in ("srt", "vtt"):
        stamp = _stamp(seconds, "," if fmt == "srt" else ".")
        head = "1\n" if fmt == "srt" else "WEBVTT\n\n"
        start = _stamp(0.0, "," if fmt == "srt" else ".")
        return MediaAnswer("text/plain; charset=utf-8", (f"{head}{start} --> {stamp}\n{text}\n\n".encode(),))
    answer: dict[str, Any] = {"text": text, "usage": usage}
    if fmt == "verbose_json":
        answer = {"task": "transcribe", "language": "english", "duration": seconds, "text": text,
                  "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": seconds, "text": f" {text}", "tokens": [],
                                "temperature": 0.0, "avg_logprob": -0.25, "compression_ratio": 1.2,
                                "no_speech_prob": 0.01}], "usage": usage}
    return MediaAnswer("application/json", (dumps(answer).encode(),))


def _stamp(seconds: float, mark: str) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}{mark}{int(seconds % 1 * 1000):03d}"


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [word + (" " if i < len(words) - 1 else "") for i, word in enumerate(words)]


# --------------------------------------------------------------------------- Gemini

# The fields of a GenerateContentRequest body (proto JSON takes either spelling); any other is a 400.
_GEMINI_FIELDS = frozenset({
    "contents", "tools", "toolConfig", "tool_config", "safetySettings", "safety_settings", "systemInstruction",
    "system_instruction", "generationConfig", "generation_config", "cachedContent", "cached_content", "model"})


def _audio_parts(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = []
    for content in body.get("contents") or ():
        for part in (content.get("parts") or ()) if isinstance(content, Mapping) else ():
            blob = part.get("inlineData") if isinstance(part, Mapping) else None
            if isinstance(blob, Mapping) and str(blob.get("mimeType", "")).startswith("audio/"):
                found.append(blob)
    return found


def _b64_size(data: str) -> int:
    return len(data) * 3 // 4 - data.endswith("=") - data.endswith("==")


def _gemini_usage(prompt_words: int, output: int, modality: str,
                  inputs: Sequence[tuple[str, int]] = ()) -> dict[str, Any]:
    details = [{"modality": "TEXT", "tokenCount": prompt_words}, *({"modality": m, "tokenCount": n} for m, n in inputs)]
    prompt = prompt_words + sum(n for _, n in inputs)
    return {"promptTokenCount": prompt, "candidatesTokenCount": output, "totalTokenCount": prompt + output,
            "promptTokensDetails": details, "candidatesTokensDetails": [{"modality": modality, "tokenCount": output}]}


def _gemini_response(model: str, serial: int, parts: list[Any], usage: dict[str, Any] | None,
                     finish: str | None = "STOP") -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    answer: dict[str, Any] = {"candidates": [candidate], "modelVersion": model, "responseId": f"resp_{serial}"}
    if usage is not None:
        answer["usageMetadata"] = usage
    return answer


def gemini_media(kind: str, body: Mapping[str, Any], model: str, stream: bool, sse_mode: bool, reply: Reply | None,
                 serial: int) -> MediaAnswer:
    """generateContent (or streamGenerateContent with ``alt=sse``) of an image, TTS or transcription request."""
    unknown = [key for key in body if key not in _GEMINI_FIELDS]
    if unknown:  # as the API says it: a sampling parameter belongs in generationConfig
        raise BadRequestError(f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.')
    prompt = text_of(body.get("contents"))
    words = count_words(prompt)
    if kind == "image":
        inputs = [b for c in body.get("contents") or () for p in c.get("parts") or ()
                  if isinstance(b := p.get("inlineData"), Mapping) and str(b.get("mimeType", "")).startswith("image/")]
        image = base64.b64encode(png(prompt)).decode()
        parts = [{"text": "Here is your image."}, {"inlineData": {"mimeType": "image/png", "data": image}}]
        usage = _gemini_usage(words, GEMINI_IMAGE_TOKENS, "IMAGE", [("IMAGE", 258)] * len(inputs))
        return _gemini_answer(_gemini_response(model, serial, parts, usage), stream, sse_mode)
    if kind == "speech":
        pcm = bytes(PCM_PER_WORD * max(1, words))
        mime = "audio/L16;codec=pcm;rate=24000"
        usage = _gemini_usage(words, max(1, words) * 25, "AUDIO")
        if not stream:
            part = {"inlineData": {"mimeType": mime, "data": base64.b64encode(pcm).decode()}}
            return _gemini_answer(_gemini_response(model, serial, [part], usage), False, sse_mode)
        chunks = frames(pcm, PCM_PER_WORD)
        last = len(chunks) - 1
        events = [_gemini_response(model, serial,
                                   [{"inlineData": {"mimeType": mime, "data": base64.b64encode(p).decode()}}],
                                   usage if i == last else None, "STOP" if i == last else None)
                  for i, p in enumerate(chunks)]
        return _gemini_events(events, sse_mode)
    audio = _audio_parts(body)
    size = sum(_b64_size(str(blob.get("data", ""))) for blob in audio)
    text = reply.text if reply is not None else _default_transcript(str(audio[0].get("mimeType")), size)
    seconds = size / BYTES_PER_SECOND
    usage = _gemini_usage(words, count_words(text), "TEXT", [("AUDIO", max(1, int(seconds * 32)))])
    if not stream:
        return _gemini_answer(_gemini_response(model, serial, [{"text": text}], usage), False, sse_mode)
    pieces = list(reply.chunks or ()) if reply is not None else _words(text)
    events = [_gemini_response(model, serial, [{"text": piece}], usage if i == len(pieces) - 1 else None,
                               "STOP" if i == len(pieces) - 1 else None) for i, piece in enumerate(pieces)]
    return _gemini_events(events, sse_mode)


def _gemini_answer(answer: dict[str, Any], stream: bool, sse_mode: bool) -> MediaAnswer:
    if stream:
        return _gemini_events([answer], sse_mode)
    return MediaAnswer("application/json", (dumps(answer).encode(),))


def _gemini_events(events: Sequence[dict[str, Any]], sse_mode: bool) -> MediaAnswer:
    if sse_mode:
        return MediaAnswer("text/event-stream", tuple(sse(event, end="\r\n\r\n") for event in events), stream=True)
    body = "[" + ",\r\n".join(dumps(event) for event in events) + "]"
    return MediaAnswer("application/json", (body.encode(),), stream=True)
