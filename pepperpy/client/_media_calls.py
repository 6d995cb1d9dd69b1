"""The media calls of a Client, ``MediaCalls``: ``generate_image``, ``synthesize`` / ``synthesize_stream`` and
``transcribe`` / ``transcribe_stream`` (the Client's methods of those names hand their arguments here).

Each takes the road ``complete`` takes. The model and its fallbacks (a fallback of another mode is skipped)
are resolved, and the call is checked against the catalog before anything is sent or uploaded: the mode, the
voices, sizes, formats and qualities a model fixes, the params' ranges, the file (missing, unreadable,
empty, over the provider's upload limit). The dialect builds the request; then the pipeline: the response
cache (identical image and speech requests; uploads are never cached), rate limiter, breaker, retries (an
upload is resent whole), ``total_timeout``, fallbacks and one audit record with sizes, never bytes. The budget
holds each call's worst case in its own unit (``pepperpy.observe.pricing``: images by size and quality,
characters spoken, seconds of audio), and the ledger books the result.

A chat parameter given to a media call (``max_tokens`` to ``generate_image``) is a ValidationError naming the
parameters the call takes: it would be sent to an endpoint that does not take it, and a budget would advise a
knob that does nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any, cast

import requests

from .. import errors
from ..catalog.validation import check_choice, check_count, check_params, check_text
from ..dialects._media import MIME_TYPES, MediaCall
from ..dialects.base import Dialect
from ..http._upload import Upload, UploadSource, sniff_type
from ..media import AudioStream, Images, Speech, Transcription, TranscriptionStream
from ..observe import pricing
from ..pipeline._blocking import Pipeline, Prepared
from ..resilience.retry import RetryPolicy
from ..types import Usage
from ._prepare import Preparer

__all__ = ["MAX_IMAGE_DOWNLOAD", "MediaCalls"]

MAX_IMAGE_DOWNLOAD = 50_000_000  # bytes of one image fetched from a URL the provider answered with

# Each method's own arguments and the parameters the providers' media endpoints take (OpenAI images, speech and
# transcriptions; Gemini's image and speech options), beside the dialect's chat params: they pass as they are,
# and a name one typo away from one of them is refused with the suggestion (``voic`` -> ``voice``)
_KNOWN = {
    "image": frozenset({"n", "size", "quality", "image", "mask", "background", "output_format", "output_compression",
                        "moderation", "style", "response_format", "user", "input_fidelity", "partial_images",
                        "aspect_ratio", "aspectRatio", "negative_prompt"}),
    "speech": frozenset({"voice", "format", "speed", "instructions", "stream_format", "response_format", "speakers",
                         "language"}),
    "transcription": frozenset({"audio", "language", "prompt", "response_format", "timestamp_granularities",
                                "include", "chunking_strategy", "known_speaker_names", "known_speaker_references"}),
}


# Parameters of chat calls that no media endpoint takes: given to a media call, they are refused (not sent)
CHAT_PARAMS = frozenset({"max_tokens", "max_completion_tokens", "max_output_tokens", "temperature", "top_p", "top_k",
                         "stop", "tools", "tool_choice", "parallel_tool_calls", "messages", "system",
                         "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "reasoning_effort",
                         "thinking"})
_ARGUMENTS = {"image": ("n", "size", "quality", "image", "mask", "fallbacks", "cache"),
              "speech": ("voice", "format", "fallbacks", "cache"),
              "transcription": ("language", "prompt", "fallbacks")}
_WHY = {"image": "images are billed per image or per image token, not up to a max_tokens",
        "speech": "speech is billed for the text spoken", "transcription": "a transcript is as long as the audio"}


def refuse_chat_params(method: str, mode: str, params: Mapping[str, Any], dialect: Dialect) -> frozenset[str]:
    """The names a media call of ``mode`` knows on ``dialect``'s wire; ValidationError, listing them, for a chat
    parameter its endpoint does not take."""
    known = _KNOWN[mode] | dialect.media_params.get(mode, frozenset())
    for name, value in params.items():
        if name in CHAT_PARAMS and name not in known and value is not None:
            takes = sorted({*_ARGUMENTS[mode], *_KNOWN[mode], *dialect.media_params.get(mode, ())} - {"audio"})
            raise errors.ValidationError(
                f"{method}() does not take {name}, a chat parameter ({_WHY[mode]}); it takes {', '.join(takes)}, "
                f"and parameters of the provider's own", param=name, value=value)
    return known


class MediaCalls:
    """Images, speech and transcription for one Client: each call's checks, request and parsing, handed to the
    Client's pipeline (see the module docstring)."""

    def __init__(self, preparer: Preparer, pipeline: Pipeline) -> None:
        self.preparer = preparer
        self.pipeline = pipeline

    # ------------------------------------------------------------------ images

    def generate_image(self, prompt: str, *, model: str | None = None, n: int = 1, size: str | None = None,
                       quality: str | None = None, image: UploadSource | Sequence[UploadSource] | None = None,
                       mask: UploadSource | None = None, fallbacks: Sequence[str] | None = None,
                       cache: bool | None = None, **params: Any) -> Images:
        """``Client.generate_image``: see its docstring."""
        check_text(prompt, "prompt")
        check_count(n)
        sources: list[UploadSource] = ([] if image is None else list(image) if isinstance(image, (list, tuple))
                                       else [cast(UploadSource, image)])
        calls: dict[str, MediaCall] = {}
        uploads = _Uploads()

        def prepare(name: str) -> Prepared:
            provider, spec, runtime = self.preparer.media_model(name, "image", "generate_image")
            check_choice(spec, "size", size, spec.sizes)
            check_choice(spec, "quality", quality, spec.qualities)
            known = refuse_chat_params("generate_image", "image", params, runtime.dialect)
            checked = check_params(spec, {"n": n if n != 1 else None, "size": size, "quality": quality, **params},
                                   known)
            limit = spec.max_upload_bytes or runtime.dialect.upload_limit
            images = [uploads.get(index, source, "image", limit, provider.name)
                      for index, source in enumerate(sources)]
            masked = uploads.get("mask", mask, "mask", limit, provider.name) if mask else None
            request = runtime.dialect.build_image(provider, spec, prompt, checked, images=images, mask=masked)
            calls[spec.name] = MediaCall(params=checked)
            sizes = [upload.size for upload in images]
            return Prepared(runtime, spec, request, input_bytes=sum(sizes) + (masked.size if masked else 0),
                            estimate=len(prompt) // 4, content={"prompt": prompt, "image_bytes": sizes},
                            worst=partial(pricing.image_worst, prompt=prompt, n=n, size=size, quality=quality))

        def parse(p: Prepared, response: requests.Response) -> Images:
            call = calls[p.model.name]
            result = p.runtime.read(p.model, response,
                                    lambda body, kind: p.runtime.dialect.parse_image(body, kind, p.model, call))
            return _fetch_urls(p, result, self.pipeline.policy)

        return self.pipeline.call("generate_image", self.preparer.hops(model, fallbacks, "image"), prepare,
                                  parse, cache is not False and not sources)

    # ------------------------------------------------------------------ speech

    def synthesize(self, text: str, *, model: str | None = None, voice: str | None = None, format: str | None = None,
                   fallbacks: Sequence[str] | None = None, cache: bool | None = None, **params: Any) -> Speech:
        """``Client.synthesize``: see its docstring."""
        calls: dict[str, MediaCall] = {}

        def parse(p: Prepared, response: requests.Response) -> Speech:
            call = calls[p.model.name]
            return p.runtime.read(p.model, response,
                                  lambda body, kind: p.runtime.dialect.parse_speech(body, kind, p.model, call))

        return self.pipeline.call(
            "synthesize", self.preparer.hops(model, fallbacks, "speech"),
            lambda name: self.speech_request(name, text, voice, format, params, calls, stream=False), parse,
            cache is not False)

    def synthesize_stream(self, text: str, *, model: str | None = None, voice: str | None = None,
                          format: str | None = None, fallbacks: Sequence[str] | None = None,
                          **params: Any) -> AudioStream:
        """``Client.synthesize_stream``: see its docstring."""
        calls: dict[str, MediaCall] = {}
        opened = self.pipeline.open(
            "synthesize_stream", self.preparer.hops(model, fallbacks, "speech"),
            lambda name: self.speech_request(name, text, voice, format, params, calls, stream=True))
        p, response = opened.prepared, opened.response
        call = calls[p.model.name]
        parser = p.runtime.dialect.speech_stream_parser(p.model, call)
        pieces = (p.runtime.audio_pieces(p.model, response) if parser is None
                  else cast(Iterator[bytes], p.runtime.media_events(p.model, response, parser)))
        fmt = call.format or p.runtime.dialect.speech_formats[0]
        mime = "audio/wav" if fmt == "wav" else MIME_TYPES.get(fmt, "application/octet-stream")

        def ended(data: bytes, finished: bool, error: BaseException | None) -> Speech | None:
            usage = getattr(parser, "usage", None)  # reported at the end, when the wire does
            request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
            speech = Speech(data, mime, fmt, p.model.id, p.model.provider, usage or Usage(), voice=call.voice,
                            request_id=request_id, characters=call.characters) if finished else None
            booked: Speech | None = opened.ended(speech, error)
            return booked

        return AudioStream(pieces, model=p.model.id, provider=p.model.provider, format=fmt, mime_type=mime,
                           close=response.close, on_end=ended)

    def speech_request(self, name: str, text: str, voice: str | None, format: str | None, params: dict[str, Any],
                        calls: dict[str, MediaCall], *, stream: bool) -> Prepared:
        check_text(text, "text")
        method = "synthesize_stream" if stream else "synthesize"
        provider, spec, runtime = self.preparer.media_model(name, "speech", method)
        extra = dict(params)
        fmt = format if format is not None else extra.pop("response_format", None)
        check_choice(spec, "format", fmt, spec.formats or runtime.dialect.speech_formats)
        check_choice(spec, "voice", voice, spec.voices)
        known = refuse_chat_params(method, "speech", extra, runtime.dialect)
        call = MediaCall(params=check_params(spec, extra, known), characters=len(text), format=fmt,
                         voice=voice if voice is not None else (spec.voices[0] if spec.voices else None))
        calls[spec.name] = call
        request = runtime.dialect.build_speech(provider, spec, text, call.params, call, stream=stream)
        return Prepared(runtime, spec, request, estimate=len(text) // 4, content={"text": text, "voice": call.voice},
                        worst=partial(pricing.speech_worst, text=text, speed=call.params.get("speed"),
                                      max_tokens=call.params.get("max_tokens")))

    # ------------------------------------------------------------------ transcription

    def transcribe(self, audio: UploadSource, *, model: str | None = None, language: str | None = None,
                   prompt: str | None = None, fallbacks: Sequence[str] | None = None, **params: Any) -> Transcription:
        """``Client.transcribe``: see its docstring."""
        calls: dict[str, MediaCall] = {}
        uploads = _Uploads()

        def parse(p: Prepared, response: requests.Response) -> Transcription:
            call = calls[p.model.name]
            return p.runtime.read(p.model, response, lambda body, kind: p.runtime.dialect.parse_transcription(
                body, kind, p.model, call))

        return self.pipeline.call(
            "transcribe", self.preparer.hops(model, fallbacks, "transcription"),
            lambda name: self.transcription_request(name, audio, language, prompt, params, calls, uploads,
                                                     stream=False),
            parse, False)

    def transcribe_stream(self, audio: UploadSource, *, model: str | None = None, language: str | None = None,
                          prompt: str | None = None, fallbacks: Sequence[str] | None = None,
                          **params: Any) -> TranscriptionStream:
        """``Client.transcribe_stream``: see its docstring."""
        calls: dict[str, MediaCall] = {}
        uploads = _Uploads()
        opened = self.pipeline.open(
            "transcribe_stream", self.preparer.hops(model, fallbacks, "transcription"),
            lambda name: self.transcription_request(name, audio, language, prompt, params, calls, uploads,
                                                     stream=True))
        p, response = opened.prepared, opened.response
        parser = p.runtime.dialect.transcription_stream_parser(p.model, calls[p.model.name])
        events = cast(Iterator["str | Transcription"], p.runtime.media_events(p.model, response, parser))
        return TranscriptionStream(events, model=p.model.id, provider=p.model.provider, close=response.close,
                                   on_end=opened.ended)

    def transcription_request(self, name: str, audio: UploadSource, language: str | None, prompt: str | None,
                               params: dict[str, Any], calls: dict[str, MediaCall], uploads: _Uploads, *,
                               stream: bool) -> Prepared:
        method = "transcribe_stream" if stream else "transcribe"
        provider, spec, runtime = self.preparer.media_model(name, "transcription", method)
        if stream and "streaming" not in spec.capabilities and not spec.open:
            streaming = [m.name for m in self.preparer.catalog.models(provider=provider.name, mode="transcription")
                         if "streaming" in m.capabilities]
            instead = f", or a model that streams such as {streaming[0]!r}" if streaming else ""
            raise errors.ValidationError(f"{spec.name} does not stream transcripts; use transcribe(){instead}",
                                         param="model", value=name)
        if prompt is not None:
            check_text(prompt, "prompt")
        known = refuse_chat_params(method, "transcription", params, runtime.dialect)
        checked = check_params(spec, {"language": language, "prompt": prompt, **params}, known)
        upload = uploads.get("audio", audio, "audio", spec.max_upload_bytes or runtime.dialect.upload_limit,
                             provider.name)
        call = MediaCall(params=checked, filename=upload.name, upload_bytes=upload.size)
        calls[spec.name] = call
        request = runtime.dialect.build_transcription(provider, spec, upload, checked, stream=stream)
        seconds, exact = audio_seconds(upload)
        return Prepared(runtime, spec, request, input_bytes=upload.size, estimate=len(prompt or "") // 4,
                        content={"audio": upload.name, "audio_bytes": upload.size, "prompt": prompt},
                        worst=partial(pricing.transcription_worst, seconds=seconds, exact=exact, prompt=prompt,
                                      max_tokens=checked.get("max_tokens")))


def audio_seconds(upload: Upload) -> tuple[float, bool]:
    """(seconds, exact) of an audio file before it is sent: a WAV file's from its header, any other's at most
    its size at ``pricing.SLOWEST_AUDIO_BITRATE`` (compressed speech is rarely smaller)."""
    if upload.mime_type in ("audio/wav", "audio/x-wav", "audio/wave"):
        try:
            with upload.open() as reader:
                head = reader.read(44)
        except (OSError, errors.ValidationError):
            head = b""
        if len(head) >= 44 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            rate = int.from_bytes(head[28:32], "little")  # bytes per second, from the fmt chunk
            if rate > 0:
                return max(upload.size - 44, 0) / rate, True
    return upload.size * 8 / pricing.SLOWEST_AUDIO_BITRATE, False


class _Uploads:
    """The caller's files of one call as Uploads, made on the first hop that needs them and reused by the
    fallbacks: a file object is read from where the caller left it (a pipe is read once), so every hop sends
    the same content; each hop checks the size against its own provider's limit."""

    def __init__(self) -> None:
        self._made: dict[object, Upload] = {}

    def get(self, key: object, source: UploadSource, param: str, limit: int | None, whose: str) -> Upload:
        upload = self._made.get(key)
        if upload is None:
            upload = self._made[key] = Upload.of(source, param=param, max_bytes=limit, limit_name=whose)
        return upload.within(limit, param=param, limit_name=whose)


def _fetch_urls(p: Prepared, result: Images, policy: RetryPolicy) -> Images:
    """Download the images the provider answered with as URLs (bounded; the key only goes to its own host),
    each retried as the Client's policy says: the image is made and billed already, so a passing failure of
    its download must not hand the call to a fallback model that would draw (and bill) another."""
    if all(image.data for image in result.images):
        return result
    transport = p.runtime.transport
    images = []
    for image in result.images:
        if not image.data and image.url:
            url = image.url

            def fetch(timeout: Any, url: str = url) -> bytes | int:
                return transport.download(url, max_bytes=MAX_IMAGE_DOWNLOAD, model=p.model.id, timeout=timeout)

            data = policy.call(fetch, transport.timeout, _Attempts())
            assert isinstance(data, bytes)
            sniffed = sniff_type(data[:16])
            image = dataclasses.replace(image, data=data, mime_type=sniffed[1] if sniffed else image.mime_type)
        images.append(image)
    return dataclasses.replace(result, images=images)


class _Attempts:
    """The attempt counter RetryPolicy.call keeps (the call's own trace counts the request that drew)."""

    attempts = 0
