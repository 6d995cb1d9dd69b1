"""The seed-compatible provider API.

>>> from pepperpy.providers import create_provider, ProviderConfig, ProviderEngine   # doctest: +SKIP
"""

from .base import CatalogProvider, Provider, ProviderConfig, create_provider
from .engine import ProviderEngine

__all__ = ["CatalogProvider", "Provider", "ProviderConfig", "ProviderEngine", "create_provider"]
