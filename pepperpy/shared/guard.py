"""A provider's shared breaker and rate limiter, checked in one round trip per call (the ``ENTER`` script).

The pipeline calls ``enter()`` before a request and ``succeeded()`` / ``failed()`` after it. ``enter()`` is one
script: the breaker's verdict (an open circuit takes no rate-limit slot), the limiter's slot (a refused slot
takes no trial), then the admission; the caller sleeps outside it until its slot is due. A success on a clean
failure count sends nothing, and token settlements travel with the next ``enter()``: a successful call costs
one round trip to Redis, whatever is configured. While Redis is down, the local breaker and limiter decide.
"""

from __future__ import annotations

from ..resilience.breaker import BreakerConfig
from .breaker import SharedBreaker, Ticket
from .limiter import SharedRateLimiter
from .scripts import ENTER
from .store import UNAVAILABLE, SharedState, as_text

_NO_LIMITER = (0.0,) * 8


class SharedGuard:
    """What stands between a call and one provider, shared by every worker."""

    def __init__(self, state: SharedState, provider: str, breaker: SharedBreaker | None,
                 limiter: SharedRateLimiter | None) -> None:
        self.shared = state
        self.provider = provider
        self.breaker = breaker
        self.limiter = limiter
        self._keys = (breaker.key if breaker is not None else state.key("breaker", provider),
                      limiter.key if limiter is not None else state.key("limit", provider))
        self._reset = breaker.config.reset_timeout if breaker is not None else BreakerConfig().reset_timeout

    def enter(self, tokens: int, model: str | None, deadline: float | None) -> Ticket | None:
        """Wait for the call's rate-limit slot and admit it through the breaker: its ticket (None without a
        breaker); RateLimitError or CircuitOpenError, with nothing sent, when it may not go."""
        breaker, limiter = self.breaker, self.limiter
        args = (self.shared.now_arg(), "1" if breaker is not None else "0", self._reset,
                "1" if limiter is not None else "0",
                *(limiter.take_args(tokens, deadline) if limiter is not None else _NO_LIMITER))
        reply = self.shared.run(ENTER, self._keys, args)
        if reply is UNAVAILABLE:
            if limiter is not None:
                limiter.local.acquire(tokens, model, deadline=deadline)
            return breaker.admit_locally(model) if breaker is not None else None
        if as_text(reply[0]) == "limit":
            assert limiter is not None
            limiter.wait(int(reply[1]), float(reply[2]), model, deadline)  # raises the refusal
        ticket = breaker.verdict(reply, model) if breaker is not None else None
        wait = float(reply[5])
        if wait > 0 and limiter is not None:
            try:
                limiter.wait(0, wait, model, deadline)
            except BaseException:  # interrupted before sending: a trial must not hold every worker off
                if ticket is not None and breaker is not None:
                    breaker.release(ticket)
                raise
        return ticket

    def succeeded(self, ticket: Ticket | None) -> None:
        if ticket is not None and self.breaker is not None:
            self.breaker.record_success(ticket)

    def failed(self, exc: BaseException, ticket: Ticket | None) -> None:
        if ticket is not None and self.breaker is not None:
            self.breaker.record_failure(exc, ticket)

    def settle(self, estimated: int, actual: int) -> None:
        if self.limiter is not None:
            self.limiter.settle(estimated, actual)

    def __repr__(self) -> str:
        return f"<SharedGuard {self.provider} breaker={self.breaker is not None} limiter={self.limiter is not None}>"
