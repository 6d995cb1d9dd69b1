"""What stands between a call and one provider: its rate limiter and circuit breaker (``Guard``), made once per
provider by ``Guards`` from the Client's options merged with the catalog's, or their shared twins over Redis with
``Client(shared_state=...)`` (``shared/guard.py``). ``client.breaker_state`` / ``breaker_stats`` read them here.

In Redis, a breaker is the endpoint's (the provider's name and base URL: one name pointed at two addresses is
two circuits) and a rate-limit bucket the provider's, shared by every Client on the namespace whatever its key,
unless ``rate_limits={name: {..., "per": "key"}}`` gives each key (each ``credential_scope``) a bucket of its own.
In one process a Client has one base URL and one key per provider, so its guards are simply per provider.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from ..errors import ConfigurationError
from ..resilience.breaker import BreakerConfig, ProviderBreaker
from ..resilience.limiter import DEFAULT_RATE_LIMIT_WAIT, RateLimiter
from ..resilience.retry import RetryPolicy
from ..resilience.scope import credential_scope
from ..types import ProviderSpec

if TYPE_CHECKING:
    from ..resilience._breaker_stats import BreakerStats
    from ..shared.store import SharedState

__all__ = ["Guard", "Guards"]


class Guard:
    """What stands between a call and one provider in this process: its rate limiter and breaker.

    ``shared/guard.py`` has the same four methods over Redis (``Client(shared_state=...)``)."""

    __slots__ = ("breaker", "limiter")

    def __init__(self, breaker: ProviderBreaker | None, limiter: RateLimiter | None) -> None:
        self.breaker, self.limiter = breaker, limiter

    def enter(self, tokens: int, model: str, deadline: float | None) -> tuple[bool, int] | None:
        """Wait for the call's rate-limit slot, then admit it through the breaker: ``(trial, generation)``."""
        if self.limiter is not None:
            self.limiter.acquire(tokens, model, deadline=deadline)
        breaker = self.breaker
        if breaker is None:
            return None
        generation = breaker.generation  # before admit(): a circuit that opens later makes this call stale
        return breaker.admit(model), generation

    def succeeded(self, ticket: tuple[bool, int] | None) -> None:
        if ticket is not None and self.breaker is not None:
            self.breaker.record_success(*ticket)

    def failed(self, exc: BaseException, ticket: tuple[bool, int] | None) -> None:
        if ticket is not None and self.breaker is not None:
            self.breaker.record_failure(exc, *ticket)

    def settle(self, estimated: int, actual: int) -> None:
        if self.limiter is not None:
            self.limiter.settle(estimated, actual)


class Guards:
    """A Client's guards by provider name, each made on the provider's first call (thread-safe); ``watch`` is told
    of every breaker made, so that the ``breaker`` hooks hear of its changes."""

    def __init__(self, policy: RetryPolicy, *, breaker: Any = None,
                 rate_limits: Mapping[str, Mapping[str, float | str]] | None = None,
                 rate_limit_wait: float = DEFAULT_RATE_LIMIT_WAIT, shared: SharedState | None = None,
                 watch: Callable[[Any], None] = lambda breaker: None) -> None:
        self.policy = policy
        self.breaker_config = _breaker_config(breaker)
        self.rate_limits = {name: dict(_check_limits(name, values)) for name, values in (rate_limits or {}).items()}
        if rate_limit_wait < 0:
            raise ConfigurationError("rate_limit_wait must be 0 or more seconds")
        self.rate_limit_wait = rate_limit_wait
        self.shared = shared
        self.watch = watch
        self._guards: dict[str, Any] = {}  # provider name -> Guard, or SharedGuard with shared state
        self._lock = threading.Lock()
        # the scopes of a provider's shared guards (the Client's Runtimes give them, ``scope_by``): its base URL as
        # called, and the fingerprint of its credentials (read only for per-key limits)
        self._endpoint_of: Callable[[ProviderSpec], str] = lambda provider: provider.base_url
        self._credentials_of: Callable[[ProviderSpec], str] = lambda provider: ""

    def scope_by(self, endpoint_of: Callable[[ProviderSpec], str], credentials_of: Callable[[ProviderSpec], str]
                 ) -> None:
        """Where the shared guards' scopes come from: a provider's base URL as the Client calls it, and its
        ``credential_scope`` (the Client's ``Runtimes``)."""
        self._endpoint_of, self._credentials_of = endpoint_of, credentials_of

    def after_fork(self) -> None:
        """In a forked child: fresh breakers and limiters (a parent thread may have held one of their locks)."""
        self._lock = threading.Lock()
        self._guards = {}

    def of(self, provider: ProviderSpec) -> Any:
        """``provider``'s Guard (or SharedGuard), made on first use."""
        guard = self._guards.get(provider.name)
        if guard is None:
            with self._lock:
                guard = self._guards.get(provider.name)
                if guard is None:
                    guard = self._guards[provider.name] = self._build(provider)
        return guard

    def _build(self, provider: ProviderSpec) -> Any:
        config = None
        if self.breaker_config is not None:
            config = self.breaker_config.merged(provider.breaker) if provider.breaker else self.breaker_config
        limits: Mapping[str, Any] = self.rate_limits.get(provider.name) or provider.limits
        rpm, tpm = limits.get("rpm"), limits.get("tpm")
        clock, sleep = self.policy.clock, self.policy.sleep
        if self.shared is not None:
            from ..shared.breaker import SharedBreaker
            from ..shared.guard import SharedGuard
            from ..shared.limiter import SharedRateLimiter

            endpoint = credential_scope(self._endpoint_of(provider), ())[:16]
            per_key = self._credentials_of(provider)[:16] if limits.get("per") == "key" and (rpm or tpm) else ""
            shared = None if config is None else SharedBreaker(self.shared, provider.name, config, clock,
                                                               scope=endpoint)
            if shared is not None:  # the hooks hear of the changes this process makes, shared or local
                self.watch(cast(Any, shared))
                self.watch(shared.local)
            return SharedGuard(
                self.shared, provider.name, shared,
                SharedRateLimiter(self.shared, provider.name, rpm, tpm, max_wait=self.rate_limit_wait, clock=clock,
                                  sleep=sleep, scope=per_key) if rpm or tpm else None)
        breaker = ProviderBreaker(provider.name, config, clock) if config is not None else None
        if breaker is not None:
            self.watch(breaker)
        limiter = None
        if rpm or tpm:
            limiter = RateLimiter(provider.name, rpm, tpm, max_wait=self.rate_limit_wait, clock=clock, sleep=sleep)
        return Guard(breaker, limiter)

    def breaker_state(self, provider: ProviderSpec) -> str:
        """``closed``, ``open``, ``half-open``, or ``disabled`` when the Client has no breakers; with shared
        state, as every worker sees it."""
        if self.breaker_config is None:
            return "disabled"
        guard = self.of(provider) if self.shared is not None else self._guards.get(provider.name)
        return guard.breaker.state if guard is not None and guard.breaker is not None else "closed"

    def breaker_stats(self, provider: ProviderSpec) -> BreakerStats:
        """What ``provider``'s breaker has seen (a fresh one's figures before its first call); with shared state,
        what every worker's calls did to it, the same figures as without."""
        from ..resilience._breaker_stats import BreakerStats

        if self.breaker_config is None:
            return BreakerStats(provider.name, "disabled")
        guard = self.of(provider) if self.shared is not None else self._guards.get(provider.name)
        if guard is None or guard.breaker is None:
            return BreakerStats(provider.name, "closed")
        stats: BreakerStats = guard.breaker.stats()
        return stats


def _breaker_config(option: Any) -> BreakerConfig | None:
    if option is False:
        return None
    if option is None or option is True:
        return BreakerConfig()
    if isinstance(option, BreakerConfig):
        return option
    if isinstance(option, Mapping):
        return BreakerConfig().merged(option)
    raise ConfigurationError(f"breaker= takes True, False, a BreakerConfig or "
                             f"{{'fail_max': ..., 'reset_timeout': ...}}, not {type(option).__name__}")


def _check_limits(provider: str, values: Mapping[str, float | str]) -> Mapping[str, float | str]:
    if not isinstance(values, Mapping) or set(values) - {"rpm", "tpm", "per"}:
        raise ConfigurationError(f"rate_limits[{provider!r}] takes {{'rpm': N, 'tpm': N}} (and 'per': 'key' for a "
                                 f"shared bucket per API key), not {values!r}")
    if values.get("per", "provider") not in ("provider", "key"):
        raise ConfigurationError(f"rate_limits[{provider!r}]['per'] takes 'provider' (one bucket for every Client "
                                 f"on the shared state, the default) or 'key' (one per API key), not "
                                 f"{values['per']!r}")
    return values
