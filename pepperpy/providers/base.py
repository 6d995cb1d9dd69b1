"""The seed-compatible provider classes: ``Provider`` (subclass it for a custom provider) and ``ProviderConfig``.

>>> class EchoProvider(Provider):                               # doctest: +SKIP
...     def complete(self, prompt, **kwargs): return f"echo: {prompt}"
>>> ProviderEngine.register_provider("echo", EchoProvider)       # doctest: +SKIP
>>> create_provider("echo").complete("hi")                       # doctest: +SKIP
'echo: hi'

A custom provider's methods may be plain functions or coroutines (``async def complete``, the seed documents'
form): ``create_provider`` serves both through both faces (``pepperpy.providers._faces``). Every Provider is
awaitable: ``await provider`` is its async twin (``pepperpy.providers.aio.AsyncProvider``), so
``provider = await create_provider(...)`` works in async code. The catalog's providers are ``CatalogProvider``
(``pepperpy.providers.catalog``).
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..types import Stream
from ._config import ProviderConfig

if TYPE_CHECKING:
    from ..pipeline._async_bridge import AsyncBridge
    from ..pipeline._bridge import Submit
    from .aio import AsyncProvider

__all__ = ["Done", "Provider", "ProviderConfig", "TextPieces"]


class Done:
    """What ``Provider.initialize()`` and ``cleanup()`` return: nothing to wait for, yet awaitable, so a
    subclass may call them plainly (``super().initialize()``) or, written with coroutines as the seed documents
    write it, ``await super().initialize()``."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator function: awaiting it finishes at once

    def __repr__(self) -> str:
        return "<Done>"


DONE = Done()
_TWIN_LOCK = threading.Lock()  # makes each provider's async twin once, whichever threads ask at the same time


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
    """One provider with a default model; blocking, and awaitable (``await provider`` is its async twin). Subclass
    it for a custom provider and register it with ``ProviderEngine.register_provider``; the built-in providers
    come from the catalog. A subclass may write its methods as coroutines (``async def complete(...)``)."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._initialized = False
        self._twin: AsyncProvider | None = None

    @property
    def provider_type(self) -> str:
        return self.config.provider_type

    # Any, not Done: an override may return None (plain) or a coroutine (async def), and both stay type-correct
    def initialize(self) -> Any:
        """Acquire resources; ``create_provider`` calls it. Returns an already finished awaitable (``Done``)."""
        self._initialized = True
        return DONE

    def _check_initialized(self) -> None:
        if not self._initialized:
            raise ConfigurationError(f"provider {self.provider_type!r} is not initialized (or was cleaned up); "
                                     f"build it with create_provider()")

    def complete(self, prompt: str, *, temperature: float | None = None, max_tokens: int | None = None,
                 stream: bool = False, **kwargs: Any) -> Any:
        """The answer text, or an iterator of text pieces when ``stream=True``."""
        raise NotImplementedError

    def embed(self, text: str | Sequence[str], **kwargs: Any) -> Any:
        """The vector of one text, or the list of vectors of a list of texts (one per text, in order)."""
        raise NotImplementedError

    def cleanup(self) -> Any:
        """Release resources; the provider cannot be used afterwards. Returns an already finished awaitable."""
        self._initialized = False
        return DONE

    def _worker_submit(self) -> Submit | None:
        """Where the async twin runs this provider's blocking calls: None for a pool of its own (a catalog
        provider answers its Client's workers)."""
        return None

    def _coroutine_face(self) -> tuple[Provider, AsyncBridge] | None:
        """(the provider, its loop) when this is the blocking face of a provider written with coroutines
        (``_faces.BridgedProvider``), whose twin then awaits them on that loop; None otherwise."""
        return None

    @property
    def aio(self) -> AsyncProvider:
        """The async twin: the same provider, with ``await``-able methods (``await provider`` returns it too)."""
        twin: AsyncProvider | None = getattr(self, "_twin", None)  # a subclass may skip super().__init__
        if twin is None:
            from .aio import AsyncProvider

            with _TWIN_LOCK:
                twin = getattr(self, "_twin", None)
                if twin is None:
                    twin = self._twin = AsyncProvider(self)
        return twin

    def __await__(self) -> Generator[Any, None, AsyncProvider]:
        """``provider = await create_provider(...)``: the async twin. ``create_provider`` itself is blocking (it
        reads the catalog and checks the credentials, with no request sent), so the seed's form works as it is."""
        return self._as_twin().__await__()

    async def _as_twin(self) -> AsyncProvider:
        return self.aio

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider_type} model={self.config.model!r}>"
