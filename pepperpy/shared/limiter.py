"""One provider's rate limits (rpm and tpm) as one budget for every worker, kept in Redis.

The same buckets as ``RateLimiter`` (ratelimit.py): the request bucket holds one second's worth (at least 1),
the token bucket one minute's worth; a caller reserves its slot (one request, its estimated tokens) and sleeps,
outside any lock, until it is due, so callers of every worker are served in arrival order and spaced evenly.
The reservation is one Lua script (``limit_take``): refill, check ``max_wait`` and the call's deadline, take,
all in one atomic step inside Redis, with no read-modify-write from the workers. Token estimates are settled
with the real usage after the call: the difference is kept and sent with the process's next ``acquire``, so a
call costs one round trip whatever the limits.

While Redis does not answer, the process-local ``RateLimiter`` takes over: each worker then enforces the
whole budget on its own, as without shared state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..errors import RateLimitError
from ..resilience.limiter import DEFAULT_RATE_LIMIT_WAIT, RateLimiter
from .scripts import LIMIT_SETTLE, LIMIT_TAKE
from .store import UNAVAILABLE, SharedState


class SharedRateLimiter:
    """``RateLimiter``'s interface (``acquire``, ``settle``) on buckets that every worker shares."""

    def __init__(self, state: SharedState, provider: str, rpm: float | None, tpm: float | None, *,
                 max_wait: float = DEFAULT_RATE_LIMIT_WAIT, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, scope: str = "") -> None:
        self.local = RateLimiter(provider, rpm, tpm, max_wait=max_wait, clock=clock, sleep=sleep)  # checks values
        self.shared = state
        self.provider, self.rpm, self.tpm, self.max_wait = provider, rpm, tpm, max_wait
        self._clock, self._sleep = clock, sleep
        # ``scope``: the credentials' fingerprint with ``rate_limits={...: {"per": "key"}}`` (``Guards``): a
        # bucket per key; without it, one bucket per provider for the whole namespace
        self.key = state.key("limit", f"{provider}#{scope}" if scope else provider)
        self._lock = threading.Lock()
        self._settle = 0  # tokens to give back (or take) with the next acquire
        req_rate = rpm / 60.0 if rpm else 0.0
        self._rates = (req_rate, max(1.0, req_rate), tpm / 60.0 if tpm else 0.0, float(tpm or 0))

    def acquire(self, tokens: int = 0, model: str | None = None, *, deadline: float | None = None) -> None:
        """Take one request (and ``tokens``) from the shared buckets, sleeping until they are due.

        RateLimitError (nothing taken) when they are due later than ``max_wait`` from now, or after ``deadline``.
        """
        reply = self.shared.run(LIMIT_TAKE, (self.key,), (self.shared.now_arg(), *self.take_args(tokens, deadline)))
        if reply is UNAVAILABLE:
            self.local.acquire(tokens, model, deadline=deadline)
            return
        self.wait(int(reply[0]), float(reply[1]), model, deadline)

    def take_args(self, tokens: int, deadline: float | None) -> tuple[float, ...]:
        """The arguments of ``limit_take`` after the time: rates, cost, max_wait, time left, settled tokens."""
        left = self._left(deadline)
        with self._lock:
            settle, self._settle = self._settle, 0
        return (*self._rates, tokens, self.max_wait, left, settle)

    def wait(self, code: int, wait: float, model: str | None, deadline: float | None) -> None:
        """Sleep until a reserved slot is due (code 0), or raise the refusal (1: max_wait, 2: the deadline)."""
        if code == 1:
            raise RateLimitError(
                f"client-side rate limit of {self.provider} ({self._describe()}, shared by every worker): the next "
                f"slot is {wait:.1f} s away, longer than rate_limit_wait={self.max_wait:g} s; no request was sent. "
                f"Slow down, or raise the limits in rate_limits=", provider=self.provider, model=model,
                retry_after=wait)
        if code == 2:
            raise RateLimitError(
                f"client-side rate limit of {self.provider} ({self._describe()}, shared by every worker): the next "
                f"slot is {wait:.1f} s away, past the call's total_timeout ({self._left(deadline):.1f} s left); no "
                f"request was sent. "
                f"Slow down, raise the limits in rate_limits=, or raise total_timeout", provider=self.provider,
                model=model, retry_after=wait)
        if wait > 0:
            self._sleep(wait)

    def settle(self, estimated: int, actual: int) -> None:
        """Correct the token bucket once a call's real usage is known: the difference travels with this
        process's next ``acquire`` (no round trip of its own); the local bucket's while Redis is down."""
        if self.tpm and actual > 0 and actual != estimated:
            if not self.shared.available:
                self.local.settle(estimated, actual)
                return
            with self._lock:
                self._settle += estimated - actual

    def flush(self) -> None:
        """Send the pending settlement now (tests, and a process about to stop)."""
        with self._lock:
            settle, self._settle = self._settle, 0
        if settle:
            self.shared.run(LIMIT_SETTLE, (self.key,), (self._rates[3], settle))

    def _left(self, deadline: float | None) -> float:
        return -1.0 if deadline is None else max(deadline - self._clock(), 0.0)

    def _describe(self) -> str:
        parts = [f"rpm={self.rpm:g}" if self.rpm else "", f"tpm={self.tpm:g}" if self.tpm else ""]
        return ", ".join(p for p in parts if p)

    def __repr__(self) -> str:
        return f"<SharedRateLimiter {self.provider} {self._describe()} in {self.shared.location}>"
