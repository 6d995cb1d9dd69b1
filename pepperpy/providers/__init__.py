"""The seed-compatible provider API.

>>> from pepperpy.providers import create_provider, ProviderConfig, ProviderEngine   # doctest: +SKIP

The names load on first use (the blocking ones build a Client, which imports requests), so that
``pepperpy.aio.create_provider`` is reachable from a bare ``import pepperpy`` at no cost.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy

if TYPE_CHECKING:
    from .aio import AsyncProvider
    from .base import Provider, ProviderConfig
    from .catalog import CatalogProvider, create_provider
    from .engine import ProviderEngine

__all__ = ["AsyncProvider", "CatalogProvider", "Provider", "ProviderConfig", "ProviderEngine", "create_provider"]

__getattr__, __dir__ = lazy(__name__, {"AsyncProvider": "aio", "CatalogProvider": "catalog", "Provider": "base",
                                      "ProviderConfig": "base", "ProviderEngine": "engine",
                                      "create_provider": "catalog"})
