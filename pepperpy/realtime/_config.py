"""A session's settings, checked once when it opens, and the pieces both providers' wire modules share."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..tools import ToolSet

__all__ = ["AUDIO_CHUNK_BYTES", "OUTPUTS", "SessionConfig", "b64", "split_base_url", "unb64"]

OUTPUTS = ("text", "audio")
AUDIO_CHUNK_BYTES = 48_000  # PCM sent per append: 1 s at 24 kHz, 1.5 s at 16 kHz (OpenAI takes 15 MiB per event)


def _empty() -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class SessionConfig:
    """What ``client.realtime(...)`` asked for, once checked: the model's wire name and rates, the answer's kind
    (``output``), voice, tools, turn detection (None: pepperpy drives the turns), the session's output cap and the
    other settings the provider's session takes (``params``, passed as given)."""

    model: str
    output: str = "text"
    instructions: str | None = None
    voice: str | None = None
    tools: ToolSet | None = None
    turn_detection: Any = None
    max_output_tokens: int | None = None
    input_rate: int = 24000
    output_rate: int = 24000
    params: Mapping[str, Any] = field(default_factory=_empty)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any) -> bytes:
    """Base64 from the provider; b"" for what is not (a damaged delta must not end the session)."""
    try:
        return base64.b64decode(text) if isinstance(text, str) else b""
    except ValueError:
        return b""


def split_base_url(base_url: str) -> tuple[str, str, str]:
    """``(ws scheme, host[:port], path)`` of a provider's base URL: http becomes ws and https wss, so a local
    server or a proxy base URL works as it does for HTTP calls."""
    parts = urllib.parse.urlsplit(base_url)
    scheme = "ws" if parts.scheme.lower() == "http" else "wss"
    return scheme, parts.netloc, parts.path.rstrip("/")
