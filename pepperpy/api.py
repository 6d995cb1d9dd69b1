"""Module-level ``complete`` / ``stream`` / ``embed`` (and ``generate_image`` / ``synthesize`` / ``transcribe``) over
a default Client built on first use.

>>> import pepperpy
>>> pepperpy.complete("Explain X", model="gemini-pro", temperature=0.7, max_tokens=200)   # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .client._client import Client

if TYPE_CHECKING:
    from .http._upload import UploadSource
    from .media import Images, Speech, Transcription
    from .types import Completion, Embeddings, Stream

__all__ = ["complete", "default_client", "embed", "generate_image", "reset_default_client", "stream", "synthesize",
           "transcribe"]


class _DefaultClient:
    """Holds the one default Client; built under a lock so two threads never build two."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: Client | None = None

    def get(self) -> Client:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = Client()
                client = self._client
        return client

    def reset(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


_default = _DefaultClient()


def default_client() -> Client:
    """The Client behind ``pepperpy.complete`` and friends (reads the environment and ``.env`` once)."""
    return _default.get()


def reset_default_client() -> None:
    """Close the default Client; the next module-level call builds a new one (after env changes, in tests)."""
    _default.reset()


def complete(prompt: str | None = None, *, model: str | None = None, **kwargs: Any) -> Completion:
    """``Client.complete`` on the default Client."""
    return _default.get().complete(prompt, model=model, **kwargs)


def stream(prompt: str | None = None, *, model: str | None = None, **kwargs: Any) -> Stream:
    """``Client.stream`` on the default Client."""
    return _default.get().stream(prompt, model=model, **kwargs)


def embed(input: str | Sequence[str], *, model: str | None = None, **kwargs: Any) -> Embeddings:
    """``Client.embed`` on the default Client."""
    return _default.get().embed(input, model=model, **kwargs)


def generate_image(prompt: str, *, model: str | None = None, **kwargs: Any) -> Images:
    """``Client.generate_image`` on the default Client."""
    return _default.get().generate_image(prompt, model=model, **kwargs)


def synthesize(text: str, *, model: str | None = None, **kwargs: Any) -> Speech:
    """``Client.synthesize`` on the default Client."""
    return _default.get().synthesize(text, model=model, **kwargs)


def transcribe(audio: UploadSource, *, model: str | None = None, **kwargs: Any) -> Transcription:
    """``Client.transcribe`` on the default Client."""
    return _default.get().transcribe(audio, model=model, **kwargs)
