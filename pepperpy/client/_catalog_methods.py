"""The catalog side of a :class:`pepperpy.Client`: a model's entry (``model``), the models it lists
(``models``, ``offered_models``), whether a provider's credentials are there (``has_credentials``,
``check_credentials``), and how the catalog compares with a provider's own listing (``sync_catalog``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..types import ModelSpec
from ._catalog_sync import CatalogDiff, require_listing, sync_catalog

if TYPE_CHECKING:
    from ..catalog._registry import Catalog
    from ..config import Settings
    from ..pipeline._runtimes import Runtimes

__all__ = ["CatalogClientMixin"]


class CatalogClientMixin:
    """Catalog entries and credentials for :class:`pepperpy.Client` (see the module docstring)."""

    if TYPE_CHECKING:
        catalog: Catalog
        settings: Settings
        _runtimes: Runtimes

    # ------------------------------------------------------------------ catalog

    def model(self, name: str) -> ModelSpec:
        """The catalog entry for a model name, alias or ``"<provider>/<id>"``."""
        return self.catalog.resolve(name)[1]

    def models(self, provider: str | None = None, mode: str | None = None, capability: str | None = None,
               available: bool | None = None) -> list[ModelSpec]:
        """Catalog models, filtered; ``available=True`` keeps those whose provider has credentials."""
        found = self.catalog.models(provider, mode, capability)
        if available is None:
            return found
        ok = {p.name for p in self.catalog.providers.values() if self.settings.has_credentials(p)}
        return [m for m in found if (m.provider in ok) == available]

    def has_credentials(self, provider: str) -> bool:
        """Whether a call to ``provider`` would find its credentials (or needs none)."""
        return self.settings.has_credentials(self.catalog.provider(provider))

    def check_credentials(self, provider: str) -> None:
        """Raise ConfigurationError now, naming what to set, when ``provider``'s credentials are missing
        (it also opens the provider's connection pool, which later calls reuse)."""
        self._runtimes.get(self.catalog.provider(provider))

    def offered_models(self) -> list[ModelSpec]:
        """The models named in ``PEPPERPY_MODELS`` whose providers have credentials, in that order."""
        result = []
        for name in self.settings.offered_models():
            provider, spec = self.catalog.resolve(name)
            if self.settings.has_credentials(provider):
                result.append(spec)
        return result

    def sync_catalog(self, provider: str) -> CatalogDiff:
        """Ask the provider's own model-listing API what it offers (every page) and compare it with this
        Client's catalog: ``added`` (the catalog lacks them), ``removed`` (no longer listed), ``changed`` (limits
        and prices the listing reports differently). ``diff.write(folder)`` writes the new models as a catalog
        file. ValidationError for a provider without a listing API (StackSpot).

        >>> diff = client.sync_catalog("anthropic")             # doctest: +SKIP
        >>> print("\n".join(diff.lines()))                      # doctest: +SKIP
        """
        spec = self.catalog.provider(provider)
        require_listing(spec)  # before credentials: StackSpot has nothing to list, whatever its keys
        return sync_catalog(self._runtimes.get(spec), self.catalog)
