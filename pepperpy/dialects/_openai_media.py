"""The OpenAI wire format for media: ``/images/generations`` and ``/images/edits``, ``/audio/speech`` and
``/audio/transcriptions`` (fixtures in tests/dialects/test_openai_media.py, from openai-python's sources).

- Images: GPT image models always answer base64 (``b64_json``) with token usage; dall-e-style and other
  compatible servers (xAI) may answer ``url``s, which the client downloads. Edits are multipart: one input
  image is the part ``image``, several are ``image[]`` each, the mask is ``mask``.
- Speech: JSON in, the audio's bytes out (``response_format``, mp3 by default); with ``stream_format="sse"``
  (not on tts-1) SSE events instead: ``speech.audio.delta`` (base64 audio) and ``speech.audio.done`` (token usage).
- Transcription: multipart (``file`` plus the fields); JSON answers (``json``, ``verbose_json``,
  ``diarized_json``) or plain text (``text``, ``srt``, ``vtt``); ``stream=true`` answers SSE events
  ``transcript.text.delta`` / ``transcript.text.done``. Usage is tokens or ``{"type": "duration", "seconds"}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..http.transport import Request, iter_sse
from ..types import ModelSpec, ProviderSpec, Usage
from .base import Dialect, MediaParser, raise_error_event

if TYPE_CHECKING:
    from ..http._upload import Upload
    from ..media import Image, Images, Speech, Transcription
    from ._media import MediaCall

__all__ = ["SPEECH_FORMATS", "OpenAIMedia", "SpeechEvents", "TranscriptParser", "build_image", "build_speech",
           "build_transcription", "parse_image", "parse_speech", "parse_transcription", "transcription_usage"]

SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
_TEXT_FORMATS = ("text", "srt", "vtt")


def build_image(model: ModelSpec, prompt: str, params: Mapping[str, Any], images: Sequence[Upload],
                mask: Upload | None) -> Request:
    from ..http._multipart import Multipart
    from ._media import form_fields
    body = {"model": model.wire_name, "prompt": prompt, **params}
    if not images:
        return Request("POST", "/images/generations", json=body)
    name = "image" if len(images) == 1 else "image[]"  # as the SDK names one file, or a list of them
    files = [(name, image) for image in images] + ([("mask", mask)] if mask is not None else [])
    return Request("POST", "/images/edits", upload=Multipart(list(form_fields(body)), files))


def parse_image(body: bytes, model: ModelSpec, call: MediaCall) -> Images:
    from ..http._upload import sniff_type
    from ..media import Image, Images
    from ._media import MIME_TYPES, b64decode
    payload = json.loads(body)
    if payload.get("error"):
        raise_error_event(payload, model)
    usage_raw = payload.get("usage")
    usage = _image_usage(usage_raw)
    default = MIME_TYPES.get(str(payload.get("output_format") or call.params.get("output_format") or ""))
    images: list[Image] = []
    raw_items: list[Any] = []
    for item in payload["data"]:
        b64 = item.get("b64_json")
        data = b64decode(b64) if b64 else b""
        sniffed = sniff_type(data[:16]) if data else None
        mime = item.get("mime_type") or (sniffed[1] if sniffed else None) or default or "image/png"
        images.append(Image(data, mime, item.get("url"), item.get("revised_prompt")))
        raw_items.append({**item, "b64_json": f"<{len(data)} bytes in images[{len(raw_items)}].data>"} if b64
                         else item)
    if not images:
        raise ValueError("an images answer without images")
    size = call.params.get("size") or payload.get("size")
    quality = call.params.get("quality") or payload.get("quality")
    return Images(images, model.id, model.provider, usage or Usage(), raw={**payload, "data": raw_items},
                  size=size, quality=quality)


def _image_usage(raw: Mapping[str, Any] | None) -> Usage | None:
    """Images usage: ``input_tokens_details`` (plural "tokens", unlike transcription's) splits text/image input."""
    if not raw:
        return None
    details = raw.get("input_tokens_details") or {}
    return Usage(raw.get("input_tokens") or 0, raw.get("output_tokens") or 0, raw.get("total_tokens") or -1,
                 input_image_tokens=details.get("image_tokens") or 0)


def build_speech(model: ModelSpec, text: str, params: Mapping[str, Any], call: MediaCall, *,
                 stream: bool) -> Request:
    body: dict[str, Any] = {"model": model.wire_name, "input": text}
    if call.voice is not None:
        body["voice"] = call.voice
    if call.format is not None:
        body["response_format"] = call.format
    body.update(params)
    return Request("POST", "/audio/speech", json=body, headers={"Accept": "application/octet-stream"},
                   stream=stream)


def parse_speech(body: bytes, content_type: str, model: ModelSpec, call: MediaCall) -> Speech:
    from ..media import Speech
    from ._media import MIME_TYPES
    if content_type.startswith("application/json"):  # a 200 answer that is an error object, not audio
        raise_error_event(json.loads(body), model)
    usage = None
    if content_type.startswith("text/event-stream"):  # stream_format="sse": the audio is in the events
        parser = SpeechEvents(model)
        body = b"".join(piece for event, data in iter_sse((body,)) if (piece := parser.feed(event, data)))
        usage = parser.usage
    fmt = call.format or SPEECH_FORMATS[0]
    return Speech(body, MIME_TYPES.get(fmt, "application/octet-stream"), fmt, model.id, model.provider,
                  usage or Usage(), voice=call.voice, characters=call.characters)


class _Events(MediaParser):
    """The SSE events of OpenAI's audio streams: ``[DONE]`` ends them, an ``error`` event raises its error."""

    def __init__(self, model: ModelSpec) -> None:
        self.done = False
        self.model = model

    def _event(self, data: bytes) -> dict[str, Any] | None:
        """The event's object; None at ``[DONE]``."""
        if data == b"[DONE]":
            self.done = True
            return None
        obj: dict[str, Any] = json.loads(data)
        if obj.get("error"):
            raise_error_event(obj, self.model)
        return obj


class SpeechEvents(_Events):
    """``stream_format="sse"``: each ``speech.audio.delta`` event's audio bytes; ``speech.audio.done`` ends the
    stream with the token usage (kept in ``usage``)."""

    def feed(self, event: str, data: bytes) -> bytes | None:
        from ._media import b64decode
        obj = self._event(data)
        if obj is None:
            return None
        kind = obj.get("type")
        if kind == "speech.audio.delta":
            return b64decode(str(obj.get("audio") or "")) or None
        if kind == "speech.audio.done":
            self.done = True
            raw = obj.get("usage") or {}
            self.usage = Usage(raw.get("input_tokens") or 0, raw.get("output_tokens") or 0,
                               raw.get("total_tokens") or -1)
        return None


def build_transcription(model: ModelSpec, audio: Upload, params: Mapping[str, Any], *, stream: bool) -> Request:
    from ..http._multipart import Multipart
    from ._media import form_fields
    fields = [("model", model.wire_name), *form_fields(params)]
    if stream:
        fields.append(("stream", "true"))
    return Request("POST", "/audio/transcriptions", upload=Multipart(fields, [("file", audio)]), stream=stream)


def transcription_usage(raw: Mapping[str, Any] | None) -> tuple[Usage | None, float | None]:
    """(token usage, seconds of audio): ``{"type": "tokens", ...}`` or ``{"type": "duration", "seconds"}``
    (the stream's done event may omit ``type``). ``input_token_details`` is singular here."""
    if not raw:
        return None, None
    if raw.get("type") == "duration" or ("seconds" in raw and "input_tokens" not in raw):
        return None, float(raw.get("seconds") or 0.0)
    details = raw.get("input_token_details") or {}
    return Usage(raw.get("input_tokens") or 0, raw.get("output_tokens") or 0, raw.get("total_tokens") or -1,
                 input_audio_tokens=details.get("audio_tokens") or 0), None


def parse_transcription(body: bytes, content_type: str, model: ModelSpec, call: MediaCall) -> Transcription:
    from ..media import Transcription
    asked = str(call.params.get("response_format") or "json")
    if asked in _TEXT_FORMATS or not (content_type.startswith("application/json") or body.lstrip()[:1] == b"{"):
        text = body.decode("utf-8", "replace")  # subtitles (srt, vtt) as they came; plain text without its newline
        return Transcription(text.strip() if asked == "text" else text, model.id, model.provider, raw=text)
    payload = json.loads(body)
    if payload.get("error"):
        raise_error_event(payload, model)
    return _transcription(payload, model)


def _transcription(payload: Mapping[str, Any], model: ModelSpec) -> Transcription:
    from ..media import Segment, Transcription
    usage, seconds = transcription_usage(payload.get("usage"))
    duration = payload.get("duration")
    duration = float(duration) if isinstance(duration, (int, float)) else seconds
    language = payload.get("language")
    if language is None and payload.get("languages"):  # gpt-transcribe: the detected codes
        language = ",".join(str(item.get("code")) for item in payload["languages"])
    segments = tuple(Segment(float(s.get("start") or 0.0), float(s.get("end") or 0.0), str(s.get("text", "")),
                             s.get("speaker")) for s in payload.get("segments") or ())
    return Transcription(str(payload["text"]), model.id, model.provider, language, duration, segments,
                         usage or Usage(), raw=payload, billed_seconds=seconds)  # the seconds it bills, if it says


class TranscriptParser(_Events):
    """``transcript.text.delta`` pieces, then the ``transcript.text.done`` event as the whole Transcription."""

    def feed(self, event: str, data: bytes) -> str | Transcription | None:
        obj = self._event(data)
        if obj is None:
            return None
        kind = obj.get("type")
        if kind == "transcript.text.delta":
            return str(obj.get("delta") or "") or None
        if kind == "transcript.text.done":
            self.done = True
            return _transcription(obj, self.model)
        return None  # transcript.text.segment (diarization) and future events


class OpenAIMedia(Dialect):
    """The media methods of the OpenAI dialect (``OpenAIDialect`` inherits them)."""

    speech_formats = SPEECH_FORMATS

    def build_image(self, provider: ProviderSpec, model: ModelSpec, prompt: str, params: Mapping[str, Any], *,
                    images: Sequence[Upload] = (), mask: Upload | None = None) -> Request:
        return build_image(model, prompt, params, images, mask)

    def parse_image(self, body: bytes, content_type: str, model: ModelSpec, call: MediaCall) -> Images:
        return parse_image(body, model, call)

    def build_speech(self, provider: ProviderSpec, model: ModelSpec, text: str, params: Mapping[str, Any],
                     call: MediaCall, *, stream: bool) -> Request:
        return build_speech(model, text, params, call, stream=stream)

    def parse_speech(self, body: bytes, content_type: str, model: ModelSpec, call: MediaCall) -> Speech:
        return parse_speech(body, content_type, model, call)

    def speech_stream_parser(self, model: ModelSpec, call: MediaCall) -> MediaParser | None:
        return SpeechEvents(model) if call.params.get("stream_format") == "sse" else None

    def build_transcription(self, provider: ProviderSpec, model: ModelSpec, audio: Upload,
                            params: Mapping[str, Any], *, stream: bool) -> Request:
        return build_transcription(model, audio, params, stream=stream)

    def parse_transcription(self, body: bytes, content_type: str, model: ModelSpec,
                            call: MediaCall) -> Transcription:
        return parse_transcription(body, content_type, model, call)

    def transcription_stream_parser(self, model: ModelSpec, call: MediaCall) -> MediaParser:
        return TranscriptParser(model)
