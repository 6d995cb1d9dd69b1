"""Custom providers written with coroutines, served through both faces.

The seed documents write a custom provider's methods as coroutines (``async def initialize/complete/embed/
cleanup``). ``create_provider`` hands such a provider out behind a ``BridgedProvider``: its blocking face, each of
whose calls runs the provider's coroutine on an event loop of the provider's own (an ``AsyncBridge``, in a thread
of its own), so that what ``initialize`` made on that loop (an aiohttp session, a connection pool) serves every
later call on the same loop, blocking or awaited. The async twin (``await provider``) awaits the same coroutines
on the same loop, without a thread per call (``pepperpy.providers.aio``). Plain methods are called as they are.

>>> class Shout(Provider):                                                        # doctest: +SKIP
...     async def complete(self, prompt, **kwargs):
...         return prompt.upper()
>>> ProviderEngine.register_provider("shout", Shout)                              # doctest: +SKIP
>>> create_provider("shout").complete("hi")                 # blocking: 'HI'      # doctest: +SKIP
>>> await (await create_provider("shout")).complete("hi")   # async: 'HI'        # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ..pipeline._async_bridge import AsyncBridge
from .aio import next_piece, written_async
from .base import DONE, Provider

__all__ = ["METHODS", "BridgedPieces", "BridgedProvider", "uses_coroutines"]

METHODS = ("initialize", "complete", "embed", "cleanup")


def uses_coroutines(provider: Provider) -> bool:
    """Whether any of the seed API's methods of ``provider`` is written with ``async def``."""
    return any(written_async(provider, method) for method in METHODS)


class BridgedProvider(Provider):
    """The blocking face of a custom provider written with coroutines (see the module docstring): ``inner`` is the
    provider itself (its other attributes are reachable through the face), ``bridge`` its loop."""

    def __init__(self, inner: Provider) -> None:
        super().__init__(inner.config)
        self.inner = inner
        self.bridge = AsyncBridge(name=f"pepperpy-{inner.provider_type}")

    def initialize(self) -> Any:
        self.result_of(self.inner.initialize())
        return super().initialize()

    def complete(self, prompt: str, **kwargs: Any) -> Any:  # only the arguments given: the provider's defaults hold
        value = self.result_of(self.inner.complete(prompt, **kwargs))
        return BridgedPieces(value, self.bridge) if hasattr(value, "__anext__") else value

    def embed(self, text: Any, **kwargs: Any) -> Any:
        return self.result_of(self.inner.embed(text, **kwargs))

    def cleanup(self) -> Any:
        try:
            self.result_of(self.inner.cleanup())
        finally:
            super().cleanup()
            self.bridge.close()
        return DONE

    def _coroutine_face(self) -> tuple[Provider, AsyncBridge]:
        return self.inner, self.bridge

    def result_of(self, value: Any) -> Any:
        """``value``, awaited on the provider's loop when it is awaitable."""
        return self.bridge.run(value) if inspect.isawaitable(value) else value

    def __getattr__(self, name: str) -> Any:  # the provider's own attributes (only called for names not found here)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"<{type(self.inner).__name__} {self.provider_type} model={self.config.model!r}>"


class BridgedPieces(Iterator[Any]):
    """A provider's async iterator of text pieces, read from blocking code through its loop."""

    def __init__(self, pieces: AsyncIterator[Any], bridge: AsyncBridge) -> None:
        self.pieces = pieces
        self.bridge = bridge

    def __iter__(self) -> BridgedPieces:
        return self

    def __next__(self) -> Any:
        more, item = self.bridge.run(next_piece(self.pieces))
        if not more:
            raise StopIteration
        return item

    def close(self) -> None:
        """Close the provider's iterator (its ``aclose``, on its loop)."""
        aclose = getattr(self.pieces, "aclose", None)
        if aclose is not None:
            self.bridge.run(aclose())
