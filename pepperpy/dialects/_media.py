"""What the media halves of the dialects share: the call's description, form fields, and the cost rules.

Cost is computed, never guessed: token prices when the provider reported token usage and the catalog has
token prices; else the model's own unit (per image by size and quality, per 1M characters, per minute of
audio); else None.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..media import EXTENSIONS
from ..types import ModelSpec, Usage

__all__ = ["MIME_TYPES", "MediaCall", "b64decode", "form_fields", "image_cost", "speech_cost",
           "transcription_cost"]

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


def _token_cost(model: ModelSpec, usage: Usage | None) -> float | None:
    pricing = model.pricing
    if pricing is not None and usage is not None and usage.total_tokens and pricing.per_token:
        return pricing.cost(usage)
    return None


def image_cost(model: ModelSpec, usage: Usage | None, count: int, size: str | None,
               quality: str | None) -> float | None:
    """Token prices for reported token usage, else ``per_image`` for the size and quality, else None."""
    cost = _token_cost(model, usage)
    if cost is not None or model.pricing is None:
        return cost
    price = model.pricing.image_price(size, quality)
    return None if price is None else round(price * count, 10)


def speech_cost(model: ModelSpec, usage: Usage | None, characters: int) -> float | None:
    """Token prices for reported token usage, else ``per_million_characters`` of the text, else None."""
    cost = _token_cost(model, usage)
    if cost is not None or model.pricing is None or model.pricing.per_million_characters is None:
        return cost
    return round(characters * model.pricing.per_million_characters / 1_000_000, 10)


def transcription_cost(model: ModelSpec, usage: Usage | None, seconds: float | None) -> float | None:
    """Token prices for reported token usage, else ``per_minute`` of the audio's length, else None."""
    cost = _token_cost(model, usage)
    if cost is not None or model.pricing is None or model.pricing.per_minute is None or seconds is None:
        return cost
    return round(seconds / 60.0 * model.pricing.per_minute, 10)
