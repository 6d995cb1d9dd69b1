"""What a :class:`pepperpy.Client` tells about its calls: usage totals (``usage``), hooks (``on`` / ``off``),
the circuit breakers' statistics and state, the response cache's counters; and the Observer it builds once
(``_observer``: the budget keeper and the OpenTelemetry instruments, the latter imported only when enabled).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..observe._observer import Observer
from ..observe.budget import Budget
from ..observe.events import EventName
from ..observe.usage import UsageReport
from ..resilience.breaker import BreakerStats
from ..resilience.cache import CacheInfo

if TYPE_CHECKING:
    from ..catalog._registry import Catalog
    from ..config import Settings
    from ..pipeline._blocking import Pipeline

__all__ = ["ObservationClientMixin"]


class ObservationClientMixin:
    """Usage, hooks, breaker and cache state for :class:`pepperpy.Client` (see the module docstring)."""

    if TYPE_CHECKING:
        catalog: Catalog
        settings: Settings
        _pipeline: Pipeline

    # ------------------------------------------------------------------ observability

    def usage(self, *, reset: bool = False) -> UsageReport:
        """Totals of this Client's calls by ``"provider/model"``: calls, errors, tokens, cost, cache hits.

        ``reset=True`` returns them and starts again from zero. Thread-safe.

        >>> report = client.usage()                         # doctest: +SKIP
        >>> report.total.cost, report["openai/gpt-4o-mini"].calls   # doctest: +SKIP
        """
        return self._pipeline.observer.ledger.report(reset)

    def on(self, event: EventName, fn: Any) -> Any:
        """Call ``fn(event_object)`` on ``event``: ``"request"``, ``"response"``, ``"retry"``, ``"fallback"``,
        ``"breaker"`` or ``"cache_hit"`` (see ``pepperpy.events``). Returns ``fn``, so it works as a decorator
        factory's target too. A hook that raises is logged and never breaks the call.

        >>> client.on("response", lambda e: print(e.model, e.status, e.cost))   # doctest: +SKIP
        """
        self._pipeline.observer.hooks.add(event, fn)
        return fn

    def off(self, event: EventName, fn: Any) -> bool:
        """Remove a hook added with ``on``; False when it was not there."""
        return self._pipeline.observer.hooks.remove(event, fn)

    def breaker_stats(self, provider: str) -> BreakerStats:
        """``BreakerStats(provider, state, failures, last_failure, last_failure_at, opened_at, times_opened)``
        of ``provider``'s circuit breaker.

        >>> client.breaker_stats("openai").times_opened   # doctest: +SKIP
        """
        return self._pipeline.breaker_stats(self.catalog.provider(provider).name)

    def _observer(self, budget: Budget | None, telemetry: bool | None, log_content: bool) -> Observer:
        from ..observe.telemetry import TELEMETRY_ENV, enabled

        instruments = None
        if enabled(telemetry, self.settings.get(TELEMETRY_ENV)):
            from ..observe.telemetry import Telemetry

            instruments = Telemetry(log_content)
        for name in (budget.providers if budget is not None else ()):
            self.catalog.provider(name)  # a misspelt provider would never be limited
        make_counter = None
        shared = self._pipeline.shared
        if budget is not None and shared is not None:  # one budget for every worker on this Redis
            from ..shared.counter import SharedCounter

            def make_counter(name: str, ttl: float | None) -> SharedCounter:
                return SharedCounter(shared, name, ttl)

        keeper = Observer.keeper(budget, lambda name: self.catalog.resolve(name)[1], make_counter)
        return Observer(budget=keeper, telemetry=instruments)

    # ------------------------------------------------------------------ resilience state

    def breaker_state(self, provider: str) -> str:
        """``"closed"``, ``"open"``, ``"half-open"`` (the next call is a trial) or ``"disabled"`` (breaker=False);
        with ``shared_state``, the state every worker shares."""
        return self._pipeline.breaker_state(self.catalog.provider(provider))

    def cache_info(self) -> CacheInfo:
        """``CacheInfo(hits, misses, size, maxsize)`` of the response cache (all zero without one); with
        ``shared_state``, of the cache every worker shares."""
        return self._pipeline.cache_info()
