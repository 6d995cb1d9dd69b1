"""What the media halves of the dialects share: the call's description, form fields, base64.

Dialects price nothing: a result says what the provider made and reported (tokens, images and their size,
characters spoken, seconds billed) and ``pepperpy.observe.pricing`` prices it, in one place.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..media import EXTENSIONS

__all__ = ["MIME_TYPES", "MediaCall", "b64decode", "form_fields", "without_audio"]

# speech formats -> MIME type of the audio they produce
MIME_TYPES = {
    "mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac", "wav": "audio/wav",
    "pcm": "audio/L16;rate=24000", "ogg": "audio/ogg", "mulaw": "audio/mulaw",
    "png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp",
}
assert all(mime.split(";")[0] in EXTENSIONS or mime.startswith("audio/L16") for mime in MIME_TYPES.values())


@dataclass(frozen=True)
class MediaCall:
    """What the caller asked for, as the parse and cost steps need it (the request itself is on the wire)."""

    params: Mapping[str, Any] = field(default_factory=dict)  # the checked call parameters, provider names
    characters: int = 0        # speech: the length of the text to speak
    format: str | None = None  # speech: the audio format asked for (None: the provider's default)
    voice: str | None = None
    filename: str = ""         # transcription: the uploaded file's name
    upload_bytes: int = 0


def b64decode(data: str) -> bytes:
    """Base64 (standard or URL-safe, padding optional) as bytes; ValueError when it is not base64."""
    text = data.strip()
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"media data that is not base64 ({exc})") from None


def form_fields(params: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Call parameters as multipart form fields, named as the OpenAI SDK names them: lists repeat ``key[]``,
    nested mappings become ``key[sub]``, booleans ``true``/``false``, None is left out.

    >>> list(form_fields({"include": ["logprobs"], "stream": True, "chunking_strategy": {"type": "server_vad"}}))
    [('include[]', 'logprobs'), ('stream', 'true'), ('chunking_strategy[type]', 'server_vad')]
    """
    for key, value in params.items():
        yield from _field(key, value)


def _field(key: str, value: Any) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, bool):
        yield key, "true" if value else "false"
    elif isinstance(value, Mapping):
        for sub, item in value.items():
            yield from _field(f"{key}[{sub}]", item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _field(f"{key}[]", item)
    else:
        yield key, str(value)


def without_audio(payload: Mapping[str, Any]) -> Any:
    """A Gemini answer as a result's ``raw``: the base64 audio it carried replaced by its length (the bytes are the
    result's ``data``)."""
    candidates = payload.get("candidates")
    if not isinstance(candidates, list):
        return payload
    return {**payload, "candidates": [_slim(candidate) for candidate in candidates]}


def _slim(candidate: Any) -> Any:
    content = candidate.get("content") if isinstance(candidate, Mapping) else None
    parts = content.get("parts") if isinstance(content, Mapping) else None
    if content is None or not isinstance(parts, list):
        return candidate
    slim = []
    for part in parts:
        blob = part.get("inlineData") if isinstance(part, Mapping) else None
        if isinstance(blob, Mapping):
            part = {"inlineData": {**blob, "data": f"<{len(str(blob.get('data') or ''))} base64 characters>"}}
        slim.append(part)
    return {**candidate, "content": {**content, "parts": slim}}
