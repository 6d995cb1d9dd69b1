"""``BreakerStats``: what ``client.breaker_stats(provider)`` answers (``pepperpy.resilience.breaker`` hands it out,
made when first asked for)."""

from __future__ import annotations

from ..types._value import Value

__all__ = ["BreakerStats"]


class BreakerStats(Value):
    """``client.breaker_stats(provider)``: what its circuit breaker has seen.

    ``failures`` are the consecutive failures counted now; ``last_failure`` is the last server-side failure
    reported (``"ProviderUnavailableError: ..."``), ``last_failure_at`` and ``opened_at`` are Unix times
    (None: never), ``times_opened`` counts the openings since the Client was made. With ``shared_state`` the
    figures are those of every worker on the Redis namespace, the same fields filled the same way.
    """

    provider: str
    state: str
    failures: int = 0
    last_failure: str | None = None
    last_failure_at: float | None = None
    opened_at: float | None = None
    times_opened: int = 0
