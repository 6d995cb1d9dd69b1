"""The Client, the one face of every call: it resolves a model name, checks the call against the catalog, builds
the request with the model's dialect and hands it to the pipeline; its media, async and job methods too.

Uses every area below it (``jobs``, ``realtime``, ``pipeline`` and down); nothing imports it but the faces
(``api``, ``aio``, ``providers``, ``testing``, ``cli``, ``web``, ``demo``).
"""

from typing import TYPE_CHECKING

from .._lazy import lazy

if TYPE_CHECKING:
    from ._client import CatalogPaths, Client

__all__ = ["CatalogPaths", "Client"]

# loaded on first use: ``pepperpy.aio`` reaches this package's async half without building a Client
__getattr__, __dir__ = lazy(__name__, dict.fromkeys(__all__, "_client"))
