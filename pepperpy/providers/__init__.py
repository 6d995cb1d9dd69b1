"""The seed-compatible provider API.

>>> from pepperpy.providers import create_provider, ProviderConfig, ProviderEngine   # doctest: +SKIP

The names load on first use (the blocking ones build a Client, which imports requests), so that
``pepperpy.aio.create_provider`` is reachable from a bare ``import pepperpy`` at no cost.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .aio import AsyncProvider
    from .base import Provider, ProviderConfig
    from .catalog import CatalogProvider, create_provider
    from .engine import ProviderEngine

_LAZY = {"AsyncProvider": "aio", "CatalogProvider": "catalog", "Provider": "base", "ProviderConfig": "base",
         "ProviderEngine": "engine", "create_provider": "catalog"}

__all__ = ["AsyncProvider", "CatalogProvider", "Provider", "ProviderConfig", "ProviderEngine", "create_provider"]


def __getattr__(name: str) -> Any:
    import importlib

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pepperpy.providers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pepperpy.providers.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
