"""Async use of the blocking core, without blocking the event loop.

``await client.acomplete(...)``, ``async for chunk in client.astream(...)`` and ``await client.aembed(...)``
call the Client's public blocking methods in worker threads from a pool the Client owns (``client.workers``,
as many workers as its ``pool_maxsize``, so each can hold its own pooled connection; ``close()`` shuts the
pool down). The loop only awaits: concurrent awaits run concurrently, and retries, breakers and caching
behave exactly as in the blocking calls. ``AsyncBridge`` goes the other way: it runs a coroutine to completion
from blocking code, even inside a running loop (Jupyter), on a loop of its own. The seed's async provider API is
here too (``AsyncProvider`` lives in ``pepperpy.providers.aio``; ``await pepperpy.providers.create_provider(...)``
gives the same):

>>> async with await pepperpy.aio.create_provider("openai", api_key="...", model="gpt-4o") as p:  # doctest: +SKIP
...     print(await p.complete("Explain quantum computing", temperature=0.7, max_tokens=200))
...     async for chunk in await p.complete("Tell me a story", stream=True):
...         print(chunk, end="")
...     vector = await p.embed("Text to embed")
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from .client._async import AsyncMethods, WorkerPool
from .errors import ConfigurationError
from .pipeline._async_bridge import AsyncBridge, BridgeStats
from .pipeline._bridge import AsyncStream
from .providers.aio import AsyncProvider

__all__ = ["AsyncBridge", "AsyncClientMixin", "AsyncMethods", "AsyncProvider", "AsyncStream", "BridgeStats",
           "WorkerPool", "create_provider", "run"]

AsyncClientMixin = AsyncMethods  # its name before round 3, kept for the programs that import it

T = TypeVar("T")


async def create_provider(provider_type: str, api_key: str | None = None, model: str | None = None,
                          timeout: float | None = None, max_retries: int | None = None,
                          extra_config: dict[str, Any] | None = None, **kwargs: Any) -> AsyncProvider:
    """The seed's ``await create_provider(...)``, built in a worker thread: the provider's async twin
    (``pepperpy.providers.catalog.create_provider_async``).

    >>> async with await pepperpy.aio.create_provider("openai", api_key="...", model="gpt-4o") as p:  # doctest: +SKIP
    ...     print(await p.complete("Hello!"))
    """
    from .providers.catalog import create_provider_async  # builds a Client: requests loads here, not at import

    return await create_provider_async(provider_type, api_key, model, timeout, max_retries, extra_config, **kwargs)


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from blocking code (a script, a sync view, a worker thread).

    Inside a running event loop (Jupyter, an async view, a coroutine) it raises ConfigurationError at once
    instead of stalling that loop: ``await`` the coroutine there, call the blocking method, or run it with
    ``AsyncBridge().run(coro)``, which runs it on a loop of its own.

    >>> completion = pepperpy.aio.run(client.acomplete("Say hi", model="gpt-4o-mini"))   # doctest: +SKIP
    """
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main)
    main.close()  # never started; closing it avoids a "was never awaited" warning
    raise ConfigurationError(
        "pepperpy.aio.run() was called inside a running event loop (Jupyter, an async view, a coroutine), "
        "where waiting for the answer would stall that loop. Use `await client.acomplete(...)` there, the "
        "blocking `client.complete(...)`, or pepperpy.aio.AsyncBridge().run(coro), which runs the coroutine on an "
        "event loop of its own in another thread; the last two work anywhere but hold up this loop while they "
        "wait.")
