"""The Gemini Developer API for media, all through ``models/{model}:generateContent`` (wire facts from
python-genai's converters; fixtures in tests/dialects/test_gemini_media.py):

- Images: the image-output models answer ``inlineData`` parts (``responseModalities: ["TEXT", "IMAGE"]``);
  ``imageConfig`` takes only ``aspectRatio`` and ``imageSize`` (``1K``/``2K``/``4K``) on this API. Imagen's
  ``:predict`` is not used: python-genai removed it for the Developer API.
- Speech: the TTS models answer base64 PCM (``audio/L16;codec=pcm;rate=24000``, 16-bit mono): handed back as
  a playable WAV unless ``format="pcm"`` asks for the raw samples. ``streamGenerateContent`` streams it.
- Transcription: the audio goes as an ``inlineData`` part next to an instruction, to a chat model that
  hears audio; the answer is text. The whole request must stay under 20 MB, so an inline upload is limited
  to 15 MB of audio (base64 grows it by a third).

Sampling parameters (``temperature``, ``max_tokens``, ``seed``...) go in ``generationConfig``, as for chat
(``_gemini_config``): the API refuses them at the top level of the body.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import errors
from ..http.transport import Request
from ..types import ModelSpec, ProviderSpec, Usage
from ._gemini_config import generation_field, model_path
from .base import Dialect, MediaParser, normalize_finish, raise_error_event

if TYPE_CHECKING:
    from ..http._upload import Upload
    from ..media import Image, Images, Speech, Transcription
    from ._media import MediaCall

__all__ = [
    "INLINE_UPLOAD_LIMIT",
    "SPEECH_FORMATS",
    "GeminiMedia",
    "SpeechParser",
    "TranscriptParser",
    "build_image",
    "build_speech",
    "build_transcription",
    "parse_image",
    "parse_speech",
    "parse_transcription",
    "parse_usage",
]

INLINE_UPLOAD_LIMIT = 15_000_000  # bytes of audio that fit a 20 MB request once base64-encoded
SPEECH_FORMATS = ("wav", "pcm")
TRANSCRIBE_INSTRUCTION = "Transcribe the speech in this audio verbatim. Answer with the transcript only."
_IMAGE_CONFIG = {"aspect_ratio": "aspectRatio", "aspectRatio": "aspectRatio", "size": "imageSize"}


def _inline(upload: Upload) -> dict[str, Any]:
    return {"inlineData": {"mimeType": upload.mime_type, "data": base64.b64encode(upload.read()).decode()}}


def parse_usage(raw: Mapping[str, Any] | None) -> Usage | None:
    """usageMetadata with the audio and image part of the prompt (``promptTokensDetails``)."""
    if not raw:
        return None
    by_kind = {str(d.get("modality")).upper(): d.get("tokenCount") or 0 for d in raw.get("promptTokensDetails") or ()}
    prompt = raw.get("promptTokenCount") or 0
    thoughts = raw.get("thoughtsTokenCount") or 0
    output = (raw.get("candidatesTokenCount") or 0) + thoughts
    return Usage(prompt, output, raw.get("totalTokenCount") or -1, raw.get("cachedContentTokenCount") or 0,
                 thoughts, input_audio_tokens=by_kind.get("AUDIO", 0), input_image_tokens=by_kind.get("IMAGE", 0))


def _place(params: Mapping[str, Any], config: dict[str, Any], body: dict[str, Any], *, skip: set[str]) -> None:
    """Put each call parameter where Gemini takes it: sampling parameters (``temperature``, ``max_tokens``...)
    in ``generationConfig`` under their camelCase names, a ``generationConfig`` given whole merged into it, and
    Gemini's own top-level fields (``safetySettings``, ``cachedContent``...) at the top; ``skip`` are the ones
    the caller placed already."""
    for key, value in params.items():
        if key in skip:
            continue
        field = generation_field(key, value)
        if field is not None:
            config[field[0]] = field[1]
        elif key in ("generationConfig", "generation_config") and isinstance(value, Mapping):
            config.update(value)
        else:
            body[key] = value


def _parts(payload: Mapping[str, Any], model: ModelSpec) -> tuple[list[Mapping[str, Any]], Any]:
    """The first candidate's answer parts (thought parts skipped) and its finishReason."""
    if payload.get("error"):
        raise_error_event(payload, model)
    candidates = payload.get("candidates") or []
    feedback = payload.get("promptFeedback") or {}
    if not candidates and feedback.get("blockReason"):
        raise errors.InvalidRequestError(f"Gemini blocked the prompt ({feedback['blockReason']}); rephrase it",
                                         provider=model.provider, model=model.id, details=payload)
    candidate = candidates[0] if candidates else {}
    parts = [p for p in (candidate.get("content") or {}).get("parts") or () if not p.get("thought")]
    return parts, candidate.get("finishReason")


def _refused(what: str, reason: Any, model: ModelSpec, payload: Any) -> errors.ProviderAPIError:
    kind = normalize_finish(reason)
    cls = errors.InvalidRequestError if kind == "content_filter" else errors.ProviderAPIError
    return cls(f"Gemini answered without {what} (finishReason {reason or 'none'})"
               + ("; the prompt or its result was filtered: rephrase it" if kind == "content_filter" else ""),
               provider=model.provider, model=model.id, details=payload)


# --------------------------------------------------------------------------- images

def build_image(model: ModelSpec, prompt: str, params: Mapping[str, Any], images: Sequence[Upload]) -> Request:
    config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
    image_config = {_IMAGE_CONFIG[key]: value for key, value in params.items() if key in _IMAGE_CONFIG}
    if image_config:
        config["imageConfig"] = image_config
    body: dict[str, Any] = {"contents": [{"role": "user",
                                          "parts": [{"text": prompt}, *(_inline(image) for image in images)]}]}
    _place(params, config, body, skip={*_IMAGE_CONFIG, "n"})
    body["generationConfig"] = config
    return Request("POST", f"/{model_path(model)}:generateContent", json=body)


def parse_image(body: bytes, model: ModelSpec, call: MediaCall) -> Images:
    from ..http._upload import sniff_type
    from ..media import Image, Images
    from ._media import b64decode
    payload = json.loads(body)
    parts, reason = _parts(payload, model)
    images: list[Image] = []
    kept: list[Any] = []
    for part in parts:
        blob = part.get("inlineData") or {}
        if str(blob.get("mimeType", "")).startswith("image/"):
            data = b64decode(blob.get("data") or "")
            sniffed = sniff_type(data[:16])
            images.append(Image(data, blob.get("mimeType") or (sniffed[1] if sniffed else "image/png")))
            kept.append({"inlineData": {"mimeType": blob.get("mimeType"),
                                        "data": f"<{len(data)} bytes in images[{len(images) - 1}].data>"}})
        else:
            kept.append(part)
    if not images:
        raise _refused("an image", reason, model, payload)
    usage = parse_usage(payload.get("usageMetadata"))
    raw = {**payload, "candidates": [{**payload["candidates"][0], "content": {"role": "model", "parts": kept}}]}
    return Images(images, model.id, model.provider, usage or Usage(), raw=raw, request_id=payload.get("responseId"),
                  size=call.params.get("size"))


# --------------------------------------------------------------------------- speech

def build_speech(model: ModelSpec, text: str, params: Mapping[str, Any], call: MediaCall, *,
                 stream: bool) -> Request:
    speech: dict[str, Any] = {}
    speakers = params.get("speakers")
    if isinstance(speakers, Mapping):  # {"Alice": "Leda", "Bob": "Kore"}: names as the text uses them
        speech["multiSpeakerVoiceConfig"] = {"speakerVoiceConfigs": [
            {"speaker": name, "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": voice}}}
            for name, voice in speakers.items()]}
    elif call.voice is not None:
        speech["voiceConfig"] = {"prebuiltVoiceConfig": {"voiceName": call.voice}}
    if params.get("language"):
        speech["languageCode"] = params["language"]
    config: dict[str, Any] = {"responseModalities": ["AUDIO"]}
    if speech:
        config["speechConfig"] = speech
    body: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": text}]}], "generationConfig": config}
    _place(params, config, body, skip={"speakers", "language"})
    method = "streamGenerateContent" if stream else "generateContent"
    return Request("POST", f"/{model_path(model)}:{method}", json=body, params={"alt": "sse"} if stream else None,
                   stream=stream)


def _audio(parts: Sequence[Mapping[str, Any]]) -> tuple[bytes, str]:
    from ._media import b64decode
    pieces, mime = [], ""
    for part in parts:
        blob = part.get("inlineData") or {}
        if str(blob.get("mimeType", "")).startswith("audio/"):
            pieces.append(b64decode(blob.get("data") or ""))
            mime = mime or str(blob["mimeType"])
    return b"".join(pieces), mime


def _playable(audio: bytes, mime: str, fmt: str) -> tuple[bytes, str]:
    """(bytes, MIME type) in the format asked: raw PCM as a WAV file unless ``pcm`` was asked for."""
    from ..media import pcm_rate, wav_from_pcm

    is_pcm = "l16" in mime.lower() or "pcm" in mime.lower()
    if is_pcm and fmt == "wav":
        return wav_from_pcm(audio, pcm_rate(mime)), "audio/wav"
    return audio, mime or "application/octet-stream"


def parse_speech(body: bytes, model: ModelSpec, call: MediaCall) -> Speech:
    from ..media import Speech
    from ._media import without_audio
    payload = json.loads(body)
    parts, reason = _parts(payload, model)
    audio, mime = _audio(parts)
    if not audio:
        raise _refused("audio", reason, model, payload)
    fmt = call.format or SPEECH_FORMATS[0]
    data, mime = _playable(audio, mime, fmt)
    usage = parse_usage(payload.get("usageMetadata"))
    return Speech(data, mime, fmt, model.id, model.provider, usage or Usage(), voice=call.voice,
                  request_id=payload.get("responseId"), raw=without_audio(payload), characters=call.characters)


class SpeechParser(MediaParser):
    """``alt=sse`` events of a speech stream: each one's PCM, after a streaming WAV header unless ``pcm``."""

    def __init__(self, model: ModelSpec, call: MediaCall) -> None:
        self.done = False
        self.model = model
        self.usage: Usage | None = None
        self._wav = (call.format or SPEECH_FORMATS[0]) == "wav"
        self._started = False

    def feed(self, event: str, data: bytes) -> bytes | None:
        from ..media import pcm_rate, wav_from_pcm
        payload = json.loads(data)
        if payload.get("usageMetadata"):  # every event may carry the totals so far; the last one's are the call's
            self.usage = parse_usage(payload["usageMetadata"])
        parts, reason = _parts(payload, self.model)
        if reason:
            self.done = True
        audio, mime = _audio(parts)
        if not audio:
            return None
        if self._wav and not self._started:
            audio = wav_from_pcm(b"", pcm_rate(mime), streaming=True) + audio
        self._started = True
        return audio


# --------------------------------------------------------------------------- transcription

def _instruction(params: Mapping[str, Any]) -> str:
    text = TRANSCRIBE_INSTRUCTION
    if params.get("language"):
        text += f" The speech is in {params['language']}."
    if params.get("prompt"):
        text += f" Context (names and words it may contain): {params['prompt']}"
    return text


def build_transcription(model: ModelSpec, audio: Upload, params: Mapping[str, Any], *, stream: bool) -> Request:
    body: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": _instruction(params)}, _inline(audio)]}]}
    config: dict[str, Any] = {}
    _place(params, config, body, skip={"language", "prompt"})
    if config:
        body["generationConfig"] = config
    method = "streamGenerateContent" if stream else "generateContent"
    return Request("POST", f"/{model_path(model)}:{method}", json=body, params={"alt": "sse"} if stream else None,
                   stream=stream)


def _transcription(text: str, payload: Mapping[str, Any], model: ModelSpec, call: MediaCall) -> Transcription:
    from ..media import Transcription
    usage = parse_usage(payload.get("usageMetadata"))
    language = call.params.get("language")
    return Transcription(text.strip(), model.id, model.provider, str(language) if language else None,
                         usage=usage or Usage(), raw=payload, request_id=payload.get("responseId"))


def parse_transcription(body: bytes, model: ModelSpec, call: MediaCall) -> Transcription:
    payload = json.loads(body)
    parts, reason = _parts(payload, model)
    text = "".join(str(part.get("text") or "") for part in parts)
    if not text and normalize_finish(reason) not in (None, "stop"):
        raise _refused("a transcript", reason, model, payload)
    return _transcription(text, payload, model, call)


class TranscriptParser(MediaParser):
    """``alt=sse`` events: text pieces, and with the finishReason the whole Transcription."""

    def __init__(self, model: ModelSpec, call: MediaCall) -> None:
        self.done = False
        self.model = model
        self.call = call
        self._parts: list[str] = []

    def feed(self, event: str, data: bytes) -> str | Transcription | None:
        payload = json.loads(data)
        parts, reason = _parts(payload, self.model)
        text = "".join(str(part.get("text") or "") for part in parts)
        if text and not self._parts:
            text = text.lstrip()
        if text:
            self._parts.append(text)
        if not reason:
            return text or None
        self.done = True  # a last piece that came with the end reaches the caller through the Transcription
        return _transcription("".join(self._parts), payload, self.model, self.call)


class GeminiMedia(Dialect):
    """The media methods of the Gemini dialect (``GeminiDialect`` inherits them)."""

    upload_limit = INLINE_UPLOAD_LIMIT
    speech_formats = SPEECH_FORMATS
    transcribes_with_chat = True  # a chat model that hears audio transcribes it

    def build_image(self, provider: ProviderSpec, model: ModelSpec, prompt: str, params: Mapping[str, Any], *,
                    images: Sequence[Upload] = (), mask: Upload | None = None) -> Request:
        if mask is not None:
            raise errors.ValidationError("Gemini image models take no mask; describe the change in the prompt",
                                         param="mask", value="mask")
        return build_image(model, prompt, params, images)

    def parse_image(self, body: bytes, content_type: str, model: ModelSpec, call: MediaCall) -> Images:
        return parse_image(body, model, call)

    def build_speech(self, provider: ProviderSpec, model: ModelSpec, text: str, params: Mapping[str, Any],
                     call: MediaCall, *, stream: bool) -> Request:
        return build_speech(model, text, params, call, stream=stream)

    def parse_speech(self, body: bytes, content_type: str, model: ModelSpec, call: MediaCall) -> Speech:
        return parse_speech(body, model, call)

    def speech_stream_parser(self, model: ModelSpec, call: MediaCall) -> MediaParser | None:
        return SpeechParser(model, call)

    def build_transcription(self, provider: ProviderSpec, model: ModelSpec, audio: Upload,
                            params: Mapping[str, Any], *, stream: bool) -> Request:
        return build_transcription(model, audio, params, stream=stream)

    def parse_transcription(self, body: bytes, content_type: str, model: ModelSpec,
                            call: MediaCall) -> Transcription:
        return parse_transcription(body, model, call)

    def transcription_stream_parser(self, model: ModelSpec, call: MediaCall) -> MediaParser:
        return TranscriptParser(model, call)
