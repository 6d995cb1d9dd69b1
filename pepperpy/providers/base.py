"""The seed-compatible provider classes: ``Provider`` (subclass it for a custom provider) and ``ProviderConfig``.

>>> class EchoProvider(Provider):                               # doctest: +SKIP
...     def complete(self, prompt, **kwargs): return f"echo: {prompt}"
>>> ProviderEngine.register_provider("echo", EchoProvider)       # doctest: +SKIP
>>> create_provider("echo").complete("hi")                       # doctest: +SKIP
'echo: hi'

The catalog's providers are ``CatalogProvider`` (``pepperpy.providers.catalog``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any

from ..errors import ConfigurationError
from ..types import Stream

__all__ = ["Provider", "ProviderConfig", "TextPieces"]


@dataclass
class ProviderConfig:
    """The settings of one provider instance. ``to_dict()`` (alias ``dict()``) feeds ``create_provider(**...)``."""

    provider_type: str
    api_key: str | None = None
    model: str | None = None
    timeout: float | None = None    # None: the Client's default (the catalog's timeout, else 60 s)
    max_retries: int | None = None  # None: the Client's default (2)
    extra_config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    dict = to_dict  # the seed documents use config.dict()

    def __repr__(self) -> str:
        key = "'***'" if self.api_key else "None"
        return (f"ProviderConfig(provider_type={self.provider_type!r}, api_key={key}, model={self.model!r}, "
                f"timeout={self.timeout!r}, max_retries={self.max_retries!r}, "
                f"extra_config={sorted(self.extra_config)!r})")


class TextPieces(Iterator[str]):
    """The text pieces of a :class:`~pepperpy.Stream`, as the seed's ``complete(stream=True)`` yields them.

    A plain iterator of str that keeps the Stream's ``close()`` and ``abort()``, so that cancelling an async
    consumer (``pepperpy.aio``) interrupts a read stalled in a worker thread instead of waiting for the
    next chunk; a generator expression would hide both.
    """

    def __init__(self, stream: Stream) -> None:
        self.stream = stream

    def __iter__(self) -> TextPieces:
        return self

    def __next__(self) -> str:
        while True:
            text = next(self.stream).text  # StopIteration at the end
            if text:
                return text

    def close(self) -> None:
        """Stop reading and release the HTTP connection. Safe to call twice."""
        self.stream.close()

    def abort(self) -> None:
        """Stop a read under way in another thread (thread-safe); see ``Stream.abort``."""
        self.stream.abort()

    def __repr__(self) -> str:
        return f"<TextPieces of {self.stream!r}>"


class Provider:
    """One provider with a default model; blocking. Subclass it for a custom provider and register it with
    ``ProviderEngine.register_provider``; the built-in providers come from the catalog."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._initialized = False

    @property
    def provider_type(self) -> str:
        return self.config.provider_type

    def initialize(self) -> None:
        """Acquire resources; ``create_provider`` calls it."""
        self._initialized = True

    def _check_initialized(self) -> None:
        if not self._initialized:
            raise ConfigurationError(f"provider {self.provider_type!r} is not initialized (or was cleaned up); "
                                     f"build it with create_provider()")

    def complete(self, prompt: str, *, temperature: float | None = None, max_tokens: int | None = None,
                 stream: bool = False, **kwargs: Any) -> str | Iterator[str]:
        """The answer text, or an iterator of text pieces when ``stream=True``."""
        raise NotImplementedError

    def embed(self, text: str, **kwargs: Any) -> list[float]:
        """The vector of one text."""
        raise NotImplementedError

    def cleanup(self) -> None:
        """Release resources; the provider cannot be used afterwards."""
        self._initialized = False

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider_type} model={self.config.model!r}>"
