"""The client-side rate limiter: requests- and tokens-per-minute buckets of one provider.

A caller reserves its share under a lock and sleeps outside it until the reservation is due, so waiting
threads are served in arrival order and spaced evenly, and no lock is held while anyone sleeps. A
reservation further away than ``max_wait``, or past the call's ``total_timeout`` deadline, raises
``RateLimitError`` (``retry_after`` set, no request sent) and reserves nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..errors import ConfigurationError, RateLimitError

__all__ = ["DEFAULT_RATE_LIMIT_WAIT", "RateLimiter"]

DEFAULT_RATE_LIMIT_WAIT = 10.0      # longest a call blocks on the client-side rate limiter


class RateLimiter:
    """Requests-per-minute and tokens-per-minute buckets of one provider, shared by every thread.

    The request bucket holds one second's worth (at least 1), so calls are spaced evenly; the token bucket
    holds one minute's worth, like the providers' own windows. Token costs are estimated before a call
    (request size / 4) and settled with the real usage after it.
    """

    def __init__(self, provider: str, rpm: float | None, tpm: float | None, *,
                 max_wait: float = DEFAULT_RATE_LIMIT_WAIT, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if (rpm is not None and rpm <= 0) or (tpm is not None and tpm <= 0) or max_wait < 0:
            raise ConfigurationError(f"rate limits of {provider!r}: rpm and tpm must be more than 0, "
                                     f"rate_limit_wait 0 or more")
        self.provider, self.rpm, self.tpm, self.max_wait = provider, rpm, tpm, max_wait
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._stamp = clock()
        self._req_rate = rpm / 60.0 if rpm else 0.0
        self._req_cap = max(1.0, self._req_rate)
        self._requests = self._req_cap
        self._tok_rate = tpm / 60.0 if tpm else 0.0
        self._tok_cap = float(tpm or 0)
        self._tokens = self._tok_cap

    def acquire(self, tokens: int = 0, model: str | None = None, *, deadline: float | None = None) -> None:
        """Take one request (and ``tokens``), sleeping until they are due.

        RateLimitError when they are due later than ``max_wait`` from now, or after ``deadline`` (the call's
        ``total_timeout``, on the limiter's clock).
        """
        with self._lock:
            now = self._clock()
            elapsed, self._stamp = now - self._stamp, now
            wait = 0.0
            if self._req_rate:
                self._requests = min(self._req_cap, self._requests + elapsed * self._req_rate)
                wait = max(wait, (1.0 - self._requests) / self._req_rate)
            cost = min(float(tokens), self._tok_cap)
            if self._tok_rate:
                self._tokens = min(self._tok_cap, self._tokens + elapsed * self._tok_rate)
                wait = max(wait, (cost - self._tokens) / self._tok_rate)
            if wait > self.max_wait:
                raise RateLimitError(
                    f"client-side rate limit of {self.provider} ({self._describe()}): the next slot is "
                    f"{wait:.1f} s away, longer than rate_limit_wait={self.max_wait:g} s; no request was sent. "
                    f"Slow down, or raise the limits in rate_limits=", provider=self.provider, model=model,
                    retry_after=wait)
            if wait > 0 and deadline is not None and now + wait > deadline:
                raise RateLimitError(
                    f"client-side rate limit of {self.provider} ({self._describe()}): the next slot is "
                    f"{wait:.1f} s away, past the call's total_timeout ({max(deadline - now, 0.0):.1f} s left); "
                    f"no request was sent. Slow down, raise the limits in rate_limits=, or raise total_timeout",
                    provider=self.provider, model=model, retry_after=wait)
            if self._req_rate:
                self._requests -= 1.0
            if self._tok_rate:
                self._tokens -= cost
        if wait > 0:
            self._sleep(wait)

    def settle(self, estimated: int, actual: int) -> None:
        """Correct the token bucket once a call's real usage is known."""
        if self._tok_rate and actual > 0 and actual != estimated:
            with self._lock:
                self._tokens = min(self._tok_cap, self._tokens + estimated - actual)

    def _describe(self) -> str:
        parts = [f"rpm={self.rpm:g}" if self.rpm else "", f"tpm={self.tpm:g}" if self.tpm else ""]
        return ", ".join(p for p in parts if p)

    def __repr__(self) -> str:
        return f"<RateLimiter {self.provider} {self._describe()}>"
