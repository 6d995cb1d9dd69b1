"""The road one call takes once it is prepared: hop by hop along its fallbacks, each through the response cache,
rate limiter, circuit breaker and retries, then parsed, observed and audited; blocking (``_blocking``) and on
the event loop (``_async``), with every decision written once (``_fallbacks``, ``_call``).

Uses ``shared``, ``observe``, ``resilience``, ``catalog``, ``config``, ``dialects``, ``http`` and the values below;
never ``client`` or anything above it.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy

if TYPE_CHECKING:
    from ._blocking import FALLBACK_ERRORS, Opened, Pipeline, Prepared

__all__ = ["FALLBACK_ERRORS", "Opened", "Pipeline", "Prepared"]

# loaded on first use: the event loop's helpers (``_bridge``) live here too, and must not pull in requests
__getattr__, __dir__ = lazy(__name__, dict.fromkeys(__all__, "_blocking"))
