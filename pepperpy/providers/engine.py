"""The registry of custom Provider classes (the seed API's ``ProviderEngine``).

Catalog providers need no registration; register a class only for a provider that is not an HTTP dialect
of the catalog (a local library, a test double):

>>> ProviderEngine.register_provider("custom", CustomProvider)   # doctest: +SKIP
>>> "custom" in ProviderEngine.list_providers()                   # doctest: +SKIP
True
"""

from __future__ import annotations

import threading
from typing import ClassVar

from ..errors import ConfigurationError
from .base import Provider

__all__ = ["ProviderEngine"]


class ProviderEngine:
    """Name -> Provider class, for ``create_provider``. Class-level by the seed API's design."""

    _registry: ClassVar[dict[str, type[Provider]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def register_provider(cls, name: str, provider_class: type[Provider]) -> None:
        """Make ``create_provider(name, ...)`` build ``provider_class(config)``."""
        if not (isinstance(provider_class, type) and issubclass(provider_class, Provider)):
            raise ConfigurationError(f"register_provider({name!r}, ...) needs a subclass of "
                                     f"pepperpy.providers.Provider, not {provider_class!r}")
        with cls._lock:
            cls._registry[name] = provider_class

    @classmethod
    def unregister_provider(cls, name: str) -> None:
        with cls._lock:
            cls._registry.pop(name, None)

    @classmethod
    def get(cls, name: str) -> type[Provider] | None:
        return cls._registry.get(name)

    @classmethod
    def list_providers(cls) -> list[str]:
        """Every name ``create_provider`` accepts: the catalog's providers and the registered classes."""
        from ..catalog._registry import Catalog

        names = set(Catalog.load().providers) | set(cls._registry)
        return sorted(names)
